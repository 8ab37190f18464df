"""Storage on SQLite and PostgreSQL: the same fleet scan reads back identically; a failed store loses nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, select

from prr.actions import scan_and_store
from prr.config import Config
from prr.context import ReadContext
from prr.fleet import expand_fleet, scan_fleet
from prr.plugin import load_registry
from prr.reads import latest_scans
from prr.scorecard import load_scorecard
from prr.storage.db import migrate, store_report
from prr.storage.models import CheckResult, Scan

MINI_CARD = """\
apiVersion: prr/v1
kind: Scorecard
id: mini
levels: [bronze, silver]
tiers: {"0": {required_level: silver}, "1": {required_level: silver}, "2": {required_level: bronze}}
default_tier: "1"
checks:
  - {id: ownership.catalog, level: bronze, weight: 3, blocking: true}
  - {id: ownership.tier, level: silver}
"""


def catalog(name: str, tier: str | None) -> str:
    annotation = f'  annotations:\n    prr/tier: "{tier}"\n' if tier else ""
    return (
        f"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n{annotation}"
        f"spec:\n  type: service\n  owner: team-{name}\n  lifecycle: production\n"
    )


@pytest.fixture
def fleet(tmp_path: Path, make_repo) -> Config:
    make_repo({"catalog-info.yaml": catalog("checkout", "0")}, name="fleet/checkout")
    make_repo({"catalog-info.yaml": catalog("search", None)}, name="fleet/search")
    make_repo({"README.md": "no catalog here\n"}, name="fleet/legacy-reports")
    (tmp_path / "card.yaml").write_text(MINI_CARD)
    return Config({"scorecard": str(tmp_path / "card.yaml"), "fleet": [{"repo": str(tmp_path / "fleet" / "*")}]})


def scan_into(url: str, config: Config) -> list[dict]:
    engine = migrate(url)
    registry = load_registry()
    ctx = ReadContext(
        engine=engine, config=config, registry=registry, scorecard=load_scorecard(config.scorecard, registry)
    )
    outcomes = scan_fleet(expand_fleet(config), lambda entry: scan_and_store(ctx, entry), workers=2)
    assert all(o.error is None for o in outcomes)
    return [scan.report for _, scan in latest_scans(engine)]


def normalise(reports: list[dict]) -> list[dict]:
    """Drop what legitimately differs between two scans of the same commits."""
    return [
        {**r, "scan_id": None, "duration_seconds": None, "source": {**r["source"], "scanned_at": None}} for r in reports
    ]


def test_sqlite_and_postgres_read_back_identically(tmp_path: Path, fleet: Config, postgres_url: str) -> None:
    on_sqlite = scan_into(f"sqlite:///{tmp_path / 'prr.db'}", fleet)
    on_postgres = scan_into(postgres_url, fleet)
    assert [r["service"]["ref"] for r in on_sqlite] == [
        "component:default/checkout",
        "component:default/legacy-reports",
        "component:default/search",
    ]
    assert normalise(on_sqlite) == normalise(on_postgres)
    legacy = on_sqlite[1]
    assert legacy["level"] is None and legacy["checks"][0]["status"] == "fail"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_failed_store_leaves_the_previous_scan_intact(request, tmp_path: Path, fleet: Config, backend: str) -> None:
    url = f"sqlite:///{tmp_path / 'prr.db'}" if backend == "sqlite" else request.getfixturevalue("postgres_url")
    first = scan_into(url, fleet)
    engine = migrate(url)
    broken = {**first[0], "checks": first[0]["checks"] + [first[0]["checks"][0]]}  # duplicate result row
    with pytest.raises(sa.exc.IntegrityError):
        store_report(engine, broken)
    with Session(engine) as session:
        assert len(session.exec(select(Scan)).all()) == 3
        assert len(session.exec(select(CheckResult)).all()) == 6
    assert [s.report for _, s in latest_scans(engine)] == first
