"""Rescan jobs, shared by every portal process through the ``scan_job`` table.

Any process answers for any job, and a request for a service that has an unfinished job joins
it, whichever process runs it (the table's unique ``active_ref`` decides races). Each process
runs the jobs it accepted in a small thread pool and refreshes their heartbeat every
``stale_after / 4``; a job whose heartbeat is older than ``stale_after`` was left by a process
that died: it is marked failed when next looked at, and a new request starts a fresh job.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, select

from prr.errors import PortalError, Unavailable
from prr.moments import aware, iso
from prr.plugin import ConfigError
from prr.repo import RepoError
from prr.storage.models import ScanJobRecord

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(minutes=2)  # no heartbeat for this long: the process running the job is gone


@dataclass
class ScanJob:
    id: str
    service: str
    requested_by: str
    requested_at: str | None
    state: str = "queued"  # queued | running | succeeded | failed
    scan_id: int | None = None
    error: str | None = None
    finished_at: str | None = None

    @classmethod
    def from_record(cls, record: ScanJobRecord) -> ScanJob:
        return cls(
            id=record.id,
            service=record.service_ref,
            requested_by=record.requested_by,
            requested_at=iso(record.requested_at),
            state=record.state,
            scan_id=record.scan_id,
            error=record.error,
            finished_at=iso(record.finished_at),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ScanJobs:
    """The rescan queue of one process: ``scan(ref)`` scans and stores a service and returns the
    scan id (raising :class:`PortalError`, :class:`RepoError` or :class:`ConfigError` when it
    cannot); ``clock()`` is now."""

    def __init__(
        self,
        engine: Engine,
        scan: Callable[[str], int | None],
        clock: Callable[[], datetime],
        workers: int = 2,
        stale_after: timedelta = STALE_AFTER,
    ):
        self._engine, self._scan_ref, self._clock, self._stale_after = engine, scan, clock, stale_after
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="prr-rescan")
        self._held: set[str] = set()  # ids of the jobs this process runs
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._heartbeat = threading.Thread(target=self._beat_until_stopped, name="prr-rescan-heartbeat", daemon=True)
        self.worker = f"{socket.gethostname()}:{os.getpid()}"

    def get(self, job_id: str) -> ScanJob | None:
        """The job (from any process); an abandoned one is marked failed first."""
        with Session(self._engine) as session:
            record = session.get(ScanJobRecord, job_id)
        if record is not None and record.active_ref is not None and self._abandon(record):
            with Session(self._engine) as session:
                record = session.get(ScanJobRecord, job_id)
        return None if record is None else ScanJob.from_record(record)

    def submit(self, ref: str, requested_by: str, requested_at: datetime) -> tuple[ScanJob, bool]:
        """Queue a rescan of ``ref``; its unfinished job (in any process) is returned instead
        (created False)."""
        for _attempt in range(3):
            job_id = uuid.uuid4().hex
            try:
                with Session(self._engine) as session, session.begin():
                    session.add(
                        ScanJobRecord(
                            id=job_id,
                            service_ref=ref,
                            active_ref=ref,
                            state="queued",
                            requested_by=requested_by,
                            requested_at=requested_at,
                            worker=self.worker,
                            heartbeat_at=self._clock(),
                        )
                    )
            except IntegrityError:  # the service has an unfinished job: join it unless it was abandoned
                with Session(self._engine) as session:
                    running = session.exec(select(ScanJobRecord).where(ScanJobRecord.active_ref == ref)).first()
                if running is not None and not self._abandon(running):
                    return ScanJob.from_record(running), False
                continue
            with self._lock:
                self._held.add(job_id)
                if not self._heartbeat.is_alive():
                    self._heartbeat.start()
            self._pool.submit(self._run, job_id, ref)
            job = self.get(job_id)
            assert job is not None  # just stored
            return job, True
        raise Unavailable(f"could not queue a rescan of {ref}: other requests kept racing it; try again")

    def beat(self) -> None:
        """Refresh the heartbeat of the jobs this process holds."""
        with self._lock:
            held = list(self._held)
        if held:
            with Session(self._engine) as session, session.begin():
                session.execute(
                    update(ScanJobRecord).where(col(ScanJobRecord.id).in_(held)).values(heartbeat_at=self._clock())
                )

    def _beat_until_stopped(self) -> None:
        while not self._stopping.wait(self._stale_after.total_seconds() / 4):
            try:
                self.beat()
            except SQLAlchemyError:  # a database hiccup; the next beat tries again
                log.warning("could not refresh the rescan heartbeat", exc_info=True)

    def _abandon(self, record: ScanJobRecord) -> bool:
        """Mark an unfinished job failed when its heartbeat is stale; True when it is (now) over."""
        now = self._clock()
        if aware(record.heartbeat_at) > now - self._stale_after:
            return False
        with Session(self._engine) as session, session.begin():
            session.execute(
                update(ScanJobRecord)
                .where(
                    col(ScanJobRecord.id) == record.id,
                    col(ScanJobRecord.active_ref).is_not(None),
                    col(ScanJobRecord.heartbeat_at) <= now - self._stale_after,
                )
                .values(
                    state="failed",
                    active_ref=None,
                    finished_at=now,
                    error=f"abandoned: the portal process running it ({record.worker}) stopped "
                    f"answering at {iso(record.heartbeat_at)}; request a new rescan",
                )
            )
        return True

    def _run(self, job_id: str, ref: str) -> None:
        try:
            with Session(self._engine) as session, session.begin():
                started = cast(
                    CursorResult[Any],
                    session.execute(
                        update(ScanJobRecord)
                        .where(col(ScanJobRecord.id) == job_id, col(ScanJobRecord.active_ref).is_not(None))
                        .values(state="running")
                    ),
                ).rowcount
            if started:
                self._finish(job_id, *self._scan(ref))
        finally:
            with self._lock:
                self._held.discard(job_id)

    def _scan(self, ref: str) -> tuple[str, int | None, str | None]:
        """Scan and store ``ref``: (state, scan_id, error)."""
        try:
            return "succeeded", self._scan_ref(ref), None
        except (PortalError, RepoError, ConfigError) as exc:
            return "failed", None, str(exc)
        except Exception as exc:  # the job reports it; the portal keeps serving
            log.exception("rescan of %s failed", ref)
            return "failed", None, f"{type(exc).__name__}: {exc}"

    def _finish(self, job_id: str, state: str, scan_id: int | None, error: str | None) -> None:
        with Session(self._engine) as session, session.begin():
            session.execute(
                update(ScanJobRecord)
                .where(col(ScanJobRecord.id) == job_id)
                .values(state=state, scan_id=scan_id, error=error, active_ref=None, finished_at=self._clock())
            )

    def shutdown(self) -> None:
        """Wait for the queued rescans to finish and stop the heartbeat."""
        self._pool.shutdown(wait=True)
        self._stopping.set()
        if self._heartbeat.is_alive():
            self._heartbeat.join()
