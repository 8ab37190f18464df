"""What the portal's core refuses, and why: domain errors with no transport attached.

Raised by :mod:`prr.actions`, :mod:`prr.jobs` and :mod:`prr.reads`; the web layer maps each kind
to its HTTP status (:data:`prr.web.errors.STATUS`). ``extra`` carries structured details (the
form ``field`` at fault, the current verdict of a stale sign-off) that the caller may show.
"""

from __future__ import annotations

from typing import Any


class PortalError(Exception):
    """A refused request: ``detail`` says what is wrong in words a user can act on."""

    def __init__(self, detail: str, **extra: Any):
        super().__init__(detail)
        self.detail, self.extra = detail, extra


class Invalid(PortalError):
    """The input is malformed or out of bounds."""


class NotFound(PortalError):
    """The service, waiver, scan or job does not exist."""


class Forbidden(PortalError):
    """The identity may not do this."""


class Conflict(PortalError):
    """The request contradicts the current state (already revoked, no longer in the fleet, stale)."""


class Unavailable(PortalError):
    """The portal cannot do it now (scorecard unloadable, queue racing); try again later."""


class StaleVerdict(Conflict):
    """A decision made on a served verdict that has changed since; ``extra["current"]`` is the new one."""
