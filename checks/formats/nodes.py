"""Parsed YAML values taken as the shape a reader expects.

A field of an attacker-written file can hold anything; these give the mapping or list a reader
walks (empty when the file holds something else there), typed so that the rest of the code
needs no further checks.
"""

from __future__ import annotations

from typing import Any

from prr.checks.formats.yamlfile import YList, YMap


def mapping(value: Any) -> YMap:
    """``value`` when it is a mapping, else an empty one."""
    return value if isinstance(value, YMap) else YMap()


def sequence(value: Any) -> YList:
    """``value`` when it is a list, else an empty one."""
    return value if isinstance(value, YList) else YList()
