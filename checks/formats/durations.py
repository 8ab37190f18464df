"""Durations as teams write them for RTO/RPO targets: ``90s``, ``15m``, ``1h30m``, ``2d``, ``PT15M``."""

from __future__ import annotations

import re
from datetime import timedelta

UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
SHORT_RE = re.compile(r"^(?:\d+(?:\.\d+)?(?:ms|w|d|h|m|s))+$")
SHORT_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|w|d|h|m|s)")
ISO_RE = re.compile(
    r"^P(?:(?P<w>\d+(?:\.\d+)?)W)?(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$",
    re.I,
)
_NUM = r"\d+(?:\.\d+)?"
# The same grammar for the JSON Schema (readiness.schema.json keeps a copy of this pattern).
PATTERN = (
    rf"^(?:(?:{_NUM}(?:ms|w|d|h|m|s))+|[Pp](?:{_NUM}[Ww])?(?:{_NUM}[Dd])?"
    rf"(?:[Tt](?:{_NUM}[Hh])?(?:{_NUM}[Mm])?(?:{_NUM}[Ss])?)?)$"
)


def parse_duration(value: object) -> timedelta:
    """``"1h30m"`` → 1:30:00. Units ms, s, m, h, d, w, or ISO-8601 (``PT15M``, ``P1D``).

    A bare number is refused: ``rto: 15`` could be seconds, minutes or hours.
    Raises ValueError with a message fit for a report.
    """
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError(f"{value!r} is not a duration; write it with a unit, e.g. 15m, 1h, 2d")
    text = value.strip()
    if SHORT_RE.match(text):
        seconds = sum(float(n) * UNITS[u] for n, u in SHORT_PART.findall(text))
        return timedelta(seconds=seconds)
    match = ISO_RE.match(text)
    if match and text.upper() not in ("P", "PT") and any(match.groupdict().values()):
        seconds = sum(float(v) * UNITS[k.lower()] for k, v in match.groupdict().items() if v)
        return timedelta(seconds=seconds)
    raise ValueError(f"{value!r} is not a duration; write it with a unit, e.g. 15m, 1h, 2d")


def format_duration(delta: timedelta) -> str:
    """1:30:00 → ``"1h30m"``; the short form the reports use."""
    seconds = round(delta.total_seconds())
    if seconds == 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        size = UNITS[unit]
        count, seconds = divmod(seconds, int(size))
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
