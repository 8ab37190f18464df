"""Moments as the portal stores and shows them: UTC, ISO 8601 with a ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import overload


@overload
def aware(moment: datetime) -> datetime: ...
@overload
def aware(moment: None) -> None: ...
def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def iso(moment: datetime | None) -> str | None:
    """``2026-11-27T08:00:00Z``; None stays None."""
    return None if moment is None else aware(moment).isoformat().replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    """The inverse of :func:`iso` (any ISO 8601 date-time with a zone; raises ValueError)."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
