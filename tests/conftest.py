from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from prr import testing
from prr.plugin import Check, Registry, Result, load_registry
from prr.testing import NOW, RepoBuilder, files_in

pytest_plugins = ["tests.portal_fixtures", "tests.live_servers"]
# The example plugin's own tests need it installed: tests/test_plugins.py installs it and runs them.
collect_ignore = ["plugins"]

FIXTURES = Path(__file__).parent / "fixtures"
POSTGRES_URL = os.environ.get("PRR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def now() -> datetime:
    """The tests' fixed clock (never the wall clock); a test folder may override it."""
    return NOW


@pytest.fixture
def make_repo(tmp_path: Path, now: datetime) -> Callable[..., RepoBuilder]:
    """``make_repo({"path": "content"}, days_ago=10)`` → a repo committed ``days_ago`` before ``now``."""
    counter = iter(range(10_000))

    def build(files: dict[str, str | bytes] | None = None, days_ago: float = 1, name: str | None = None) -> RepoBuilder:
        repo = RepoBuilder(tmp_path / (name or f"repo{next(counter)}"), now=now)
        repo.commit(files or {"README.md": "# service\n"}, "initial", days_ago=days_ago)
        return repo

    return build


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry()


def run_check(check: Check | str, repo: Any, *, now: datetime = NOW, **options: Any) -> Result:
    """:func:`prr.testing.run_check` on the tests' fixed clock."""
    return testing.run_check(check, repo, now=now, **options)


def fixture_repo(name: str, tmp_path: Path, days_ago: float = 1) -> RepoBuilder:
    """Commit the fixture folder ``tests/fixtures/repos/<name>/`` into a fresh git repo."""
    repo = RepoBuilder(tmp_path / name, now=NOW)
    repo.commit(files_in(FIXTURES / "repos" / name), f"fixture {name}", days_ago=days_ago)
    return repo


@pytest.fixture
def postgres_url() -> str:
    """A fresh schema in the test database, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL)
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    except sa.exc.OperationalError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc.orig}")
    # application_name tags this test's connections, so teardown can end the ones a portal's
    # background threads still hold before dropping the schema under them.
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}&application_name={schema}"
    with admin.begin() as conn:
        conn.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
            {"name": schema},
        )
        conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each database the portal supports: a SQLite file in its own folder ``tmp_path/db`` (a test
    may move the folder away), then a fresh PostgreSQL schema."""
    if request.param == "postgres":
        return request.getfixturevalue("postgres_url")
    (tmp_path / "db").mkdir()
    return f"sqlite:///{tmp_path / 'db' / 'prr.db'}"
