"""Check tests run at a fixed time: repos are dated relative to NOW, and checks run with now=NOW."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from tests.checks.cases import NOW
from tests.gitrepo import GitRepoBuilder


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., GitRepoBuilder]:
    """``make_repo({"path": "content"}, days_ago=10)`` → a repo committed ``days_ago`` before NOW."""
    counter = iter(range(10_000))

    def build(
        files: dict[str, str | bytes] | None = None, days_ago: float = 1, name: str | None = None
    ) -> GitRepoBuilder:
        repo = GitRepoBuilder(tmp_path / (name or f"repo{next(counter)}"))
        repo.commit(files or {"README.md": "# service\n"}, "initial", date=NOW - timedelta(days=days_ago))
        return repo

    return build
