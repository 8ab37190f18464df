"""Engine, migrations, and storing / reading scans."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, event
from sqlmodel import Session, create_engine, select

from prr.storage.models import CheckResult, Scan, Service

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


@lru_cache(maxsize=8)
def get_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the scanner
    cursor.close()


def migrate(url: str) -> Engine:
    """Bring the database to the newest schema (alembic ``upgrade head``) and return its engine."""
    engine = get_engine(url)
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
    return engine


def store_report(engine: Engine, report: dict[str, Any]) -> int:
    """Store one scan with all its results in one transaction; returns the scan id.

    An interrupted or failed store leaves nothing behind, so the previous scan stays the latest.
    """
    with Session(engine) as session, session.begin():
        return add_report(session, report)


def add_report(session: Session, report: dict[str, Any]) -> int:
    """Add one scan with all its results (and its service) to ``session``'s transaction; the scan id."""
    svc = report["service"]
    scanned_at = datetime.fromisoformat(report["source"]["scanned_at"].replace("Z", "+00:00"))
    service = session.exec(select(Service).where(Service.ref == svc["ref"])).first()
    if service is None:
        service = Service(
            ref=svc["ref"], name=svc["name"], tier=svc["tier"], repo=report["source"]["repo"], updated_at=scanned_at
        )
        session.add(service)
    service.name, service.owner, service.tier = svc["name"], svc["owner"], svc["tier"]
    service.lifecycle, service.repo, service.updated_at = svc["lifecycle"], report["source"]["repo"], scanned_at
    session.flush()
    scan = Scan(
        service_id=service.id,
        commit=report["source"]["commit"],
        repo=report["source"]["repo"],
        scanned_at=scanned_at,
        scorecard_id=report["scorecard"]["id"],
        scorecard_version=report["scorecard"]["version"],
        tier=svc["tier"],
        score=report["score"],
        level=report["level"],
        ready=report["ready"],
        duration_seconds=report.get("duration_seconds"),
        report={},
    )
    session.add(scan)
    session.flush()
    scan.report = {**report, "scan_id": scan.id}
    for c in report["checks"]:
        session.add(
            CheckResult(
                scan_id=scan.id,
                check_id=c["id"],
                level=c["level"],
                status=c["status"],
                met=c["met"],
                waived=c["waived"],
                summary=c["summary"],
                evidence=c["evidence"],
                details=c.get("details") or {},
            )
        )
    return scan.id
