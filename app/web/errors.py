"""The HTTP status of each domain error (:mod:`prr.errors`)."""

from __future__ import annotations

from prr.errors import Conflict, Forbidden, Invalid, NotFound, PortalError, Unavailable

STATUS: dict[type[PortalError], tuple[int, str]] = {
    Invalid: (422, "Invalid request"),
    NotFound: (404, "Not found"),
    Forbidden: (403, "Forbidden"),
    Conflict: (409, "Conflict"),
    Unavailable: (503, "Service unavailable"),
}


def status_of(exc: PortalError) -> tuple[int, str]:
    """(status, title) for a refused request: its class's, else its nearest base's, else 400."""
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400, "Bad request"
