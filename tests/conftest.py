from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from prr.plugin import CheckContext, Result, load_registry
from prr.repo import RepoSnapshot, open_snapshot
from prr.service import ServiceInfo
from tests.gitrepo import GitRepoBuilder

pytest_plugins = ["tests.portal_fixtures", "tests.live_servers"]

FIXTURES = Path(__file__).parent / "fixtures"
POSTGRES_URL = os.environ.get("PRR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., GitRepoBuilder]:
    """``make_repo({"path": "content"}, days_ago=10)`` → a committed git repo."""
    counter = iter(range(10_000))

    def build(
        files: dict[str, str | bytes] | None = None, days_ago: float = 1, name: str | None = None
    ) -> GitRepoBuilder:
        repo = GitRepoBuilder(tmp_path / (name or f"repo{next(counter)}"))
        repo.commit(files or {"README.md": "# service\n"}, "initial", days_ago=days_ago)
        return repo

    return build


@pytest.fixture(scope="session")
def registry():
    return load_registry()


def run_check(
    check_id: str,
    repo: GitRepoBuilder | str | Path,
    *,
    params: dict[str, Any] | None = None,
    tier: str = "1",
    settings: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    now: datetime | None = None,
    live: Any = None,
) -> Result:
    """Run one installed check in-process against a repo at HEAD, as the engine would."""
    registry = load_registry()
    check = registry.get(check_id)
    snapshot: RepoSnapshot = open_snapshot(str(getattr(repo, "path", repo)))
    service = ServiceInfo.resolve(snapshot, tier_override=None, known_tiers={"0", "1", "2"}, default_tier=tier)
    if not service.tier_declared:
        service.tier = tier
    ctx = CheckContext(
        repo=snapshot,
        service=service,
        params=check.resolve_params(params),
        now=now or datetime.now(UTC),
        settings=settings or {},
        config=config or {},
        live=live,
    )
    return check.run(ctx)


def fixture_repo(name: str, tmp_path: Path, days_ago: float = 1) -> GitRepoBuilder:
    """Commit the fixture folder ``tests/fixtures/repos/<name>/`` into a fresh git repo."""
    source = FIXTURES / "repos" / name
    files = {str(p.relative_to(source)): p.read_bytes() for p in source.rglob("*") if p.is_file()}
    repo = GitRepoBuilder(tmp_path / name)
    repo.commit(files, f"fixture {name}", days_ago=days_ago)
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
