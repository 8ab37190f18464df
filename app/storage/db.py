"""Engine, migrations, and storing / reading scans."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event, insert, make_url
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlmodel import Session, create_engine, select

from prr.closing_cache import ClosingCache
from prr.plugin import ConfigError
from prr.storage.models import CheckResult, Scan, Service

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


MAX_OPEN_ENGINES = 8
DEFAULT_POOL_SIZE = 5  # connections each process keeps open (PostgreSQL)
DEFAULT_MAX_OVERFLOW = 10  # opened beyond those at peaks, closed when returned
_engines: ClosingCache[tuple[str, int, int], Engine] = ClosingCache(
    MAX_OPEN_ENGINES, close=lambda engine: engine.dispose()
)


def get_engine(url: str, pool_size: int = DEFAULT_POOL_SIZE, max_overflow: int = DEFAULT_MAX_OVERFLOW) -> Engine:
    """The engine (connection pool) of this process for ``url``; few are kept, the rest disposed.

    SQLite keeps its own pool (one file, WAL), whose connections are dropped when the file at the
    path is no longer the one they opened; a server database gets a pool of ``pool_size``
    connections plus ``max_overflow`` at peaks, each checked before use (a restarted server or a
    dropped idle connection is reconnected)."""
    key = (url, pool_size, max_overflow)
    return _engines.get(key, lambda: _create_engine(url, pool_size, max_overflow))


def _create_engine(url: str, pool_size: int, max_overflow: int) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        database = make_url(url).database
        if database and database != ":memory:":
            _watch_sqlite_file(engine, Path(database))
    else:
        engine = create_engine(
            url, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True, pool_recycle=1800
        )
    return engine


def _watch_sqlite_file(engine: Engine, path: Path) -> None:
    """Drop a pooled connection when its database file was moved away or replaced (a restored copy).

    An open connection keeps the file it opened, wherever it went: without this, the portal would go
    on reading, and writing into, a file no longer at ``path``. A connection opened anew finds the
    restored file, or fails (the database is unavailable) when there is none.
    """

    def opened(_dbapi_connection: Any, record: Any) -> None:
        record.info["file"] = _file_identity(path)

    def still_there(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if record.info.get("file") != _file_identity(path):
            raise DisconnectionError(f"{path} was moved or replaced")

    event.listen(engine, "connect", opened)
    event.listen(engine, "checkout", still_there)


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        found = path.stat()
    except OSError:
        return None
    return found.st_dev, found.st_ino


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the scanner
    cursor.close()


class SchemaNotCurrent(ConfigError):
    """The database is not at the schema this version of prr needs."""


def alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def migrate(url: str, pool_size: int = DEFAULT_POOL_SIZE, max_overflow: int = DEFAULT_MAX_OVERFLOW) -> Engine:
    """Bring the database to the newest schema (alembic ``upgrade head``) and return its engine."""
    engine = get_engine(url, pool_size, max_overflow)
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
    return engine


def current_engine(url: str, pool_size: int = DEFAULT_POOL_SIZE, max_overflow: int = DEFAULT_MAX_OVERFLOW) -> Engine:
    """The engine of a database already at the newest schema; :class:`SchemaNotCurrent` otherwise.

    For the portal's processes: the schema is migrated once (``prr db upgrade``, or ``prr serve``
    before it starts its workers), never by each process as it starts. A database that cannot be
    reached right now is not refused: the process starts, answers 503 until it is back, and
    recovers without a restart.
    """
    engine = get_engine(url, pool_size, max_overflow)
    wanted = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    try:
        with engine.connect() as connection:
            found = set(MigrationContext.configure(connection).get_current_heads())
    except OperationalError as exc:
        log.warning("the database cannot be reached at start (%s); serving 503 until it is back", exc.orig)
        return engine
    if found != wanted:
        where = make_url(url).render_as_string(hide_password=True)
        state = (
            "has no prr schema yet"
            if not found
            else f"is at schema revision {', '.join(sorted(found))}, not {', '.join(sorted(wanted))}"
        )
        raise SchemaNotCurrent(
            f"the database {where} {state}: run `prr db upgrade` (with the same --config) to migrate it"
        )
    return engine


def store_report(
    engine: Engine, report: dict[str, Any], task_key: str | None = None, *, adopt_declared: bool = False
) -> int:
    """Store one scan with all its results in one transaction; returns the scan id.

    An interrupted or failed store leaves nothing behind, so the previous scan stays the latest.
    ``task_key`` names the queued task the scan answers: it is unique, so a redelivered task
    cannot store its scan twice (the second store raises ``IntegrityError``). ``adopt_declared``:
    see :func:`add_report`.
    """
    with Session(engine) as session, session.begin():
        return add_report(session, report, task_key, adopt_declared=adopt_declared)


def add_report(
    session: Session, report: dict[str, Any], task_key: str | None = None, *, adopt_declared: bool = False
) -> int:
    """Add one scan with all its results (and its service) to ``session``'s transaction; the scan id.

    A service's owner and tier are those its first scan declares; later ones change them only
    through :mod:`prr.custody` (an approver accepts), or with ``adopt_declared`` for imported
    history that nobody reviews scan by scan (``prr demo create --history``)."""
    svc = report["service"]
    scanned_at = datetime.fromisoformat(report["source"]["scanned_at"].replace("Z", "+00:00"))
    service = session.exec(select(Service).where(Service.ref == svc["ref"])).first()
    if service is None:  # registered by its first scan: its source, owner and tier are those it declares
        service = Service(
            ref=svc["ref"],
            name=svc["name"],
            owner=svc["owner"],
            tier=svc["tier"],
            repo=report["source"]["repo"],
            updated_at=scanned_at,
        )
        session.add(service)
    elif service.repo != report["source"]["repo"]:
        raise ValueError(f"{report['source']['repo']} cannot store a scan of {svc['ref']}: {service.repo} holds it")
    if adopt_declared:
        service.owner, service.tier = svc["owner"], svc["tier"]
    service.name, service.lifecycle, service.updated_at = svc["name"], svc["lifecycle"], scanned_at
    session.flush()
    assert service.id is not None  # assigned by the flush
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
        task_key=task_key,
        report={},
    )
    session.add(scan)
    session.flush()
    assert scan.id is not None  # assigned by the flush
    scan.report = {**report, "scan_id": scan.id}
    rows = [
        {
            "scan_id": scan.id,
            "check_id": c["id"],
            "level": c["level"],
            "status": c["status"],
            "met": c["met"],
            "waived": c["waived"],
            "summary": c["summary"],
            "evidence": c["evidence"],
            "details": c.get("details") or {},
        }
        for c in report["checks"]
    ]
    if rows:  # one executemany, not an ORM object per result: a scan stores in a few ms
        session.execute(insert(CheckResult), rows)
    return scan.id
