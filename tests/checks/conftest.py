"""Check tests run at a fixed time: repos are dated relative to NOW, and checks run with now=NOW."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.checks.cases import NOW


@pytest.fixture
def now() -> datetime:
    """The check cases' clock (their fixtures carry dates relative to it)."""
    return NOW
