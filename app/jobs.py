"""Rescan jobs, shared by every portal process through the ``scan_job`` table.

Any process answers for any job, and a request for a service that has an unfinished job joins
it, whichever process runs it (the table's unique ``active_ref`` decides races). Each process
runs the jobs it accepted in a small thread pool and refreshes their heartbeat every
``stale_after / 4``; a job whose heartbeat is older than ``stale_after`` was left by a process
that died: it is marked failed when next looked at, and a new request starts a fresh job.

With a broker configured, ``dispatch`` hands each job to the queue instead (see
:mod:`prr.tasks`): the job waits there, owned by no process, for up to ``queued_for`` until a
Celery worker takes it and runs it with :meth:`ScanJobs.run`, which keeps its heartbeat as a
portal process would.
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
QUEUED_FOR = timedelta(hours=1)  # a job on the broker that no worker took in this long is given up
ON_BROKER = "queue"  # the ``worker`` of a job waiting on the broker


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
    cannot); ``clock()`` is now; ``dispatch(job_id, ref)``, when given, sends the job to the
    broker instead of this process's pool."""

    def __init__(
        self,
        engine: Engine,
        scan: Callable[[str], int | None],
        clock: Callable[[], datetime],
        workers: int = 2,
        stale_after: timedelta = STALE_AFTER,
        dispatch: Callable[[str, str], None] | None = None,
        queued_for: timedelta = QUEUED_FOR,
    ):
        self._engine, self._scan_ref, self._clock, self._stale_after = engine, scan, clock, stale_after
        self._dispatch, self._queued_for = dispatch, queued_for
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
                            worker=ON_BROKER if self._dispatch else self.worker,
                            heartbeat_at=self._clock(),
                        )
                    )
            except IntegrityError:  # the service has an unfinished job: join it unless it was abandoned
                with Session(self._engine) as session:
                    running = session.exec(select(ScanJobRecord).where(ScanJobRecord.active_ref == ref)).first()
                if running is not None and not self._abandon(running):
                    return ScanJob.from_record(running), False
                continue
            if self._dispatch:
                try:
                    self._dispatch(job_id, ref)
                except Exception as exc:  # the broker is down or refused: the job ends, the caller hears it
                    self._finish(job_id, "failed", None, f"could not queue the scan: {exc}")
                    raise Unavailable(f"could not queue a rescan of {ref}: the scan queue did not take it") from exc
            else:
                self._hold(job_id)
                self._pool.submit(self.run, job_id, lambda: self._scan_ref(ref))
            job = self.get(job_id)
            assert job is not None  # just stored
            return job, True
        raise Unavailable(f"could not queue a rescan of {ref}: other requests kept racing it; try again")

    def _hold(self, job_id: str) -> None:
        """Keep the job's heartbeat fresh until it ends (:meth:`run` lets go)."""
        with self._lock:
            self._held.add(job_id)
            if not self._heartbeat.is_alive():
                self._heartbeat.start()

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
        """Mark an unfinished job failed when its heartbeat is stale (or, waiting on the broker,
        when no worker took it in time); True when it is (now) over."""
        now = self._clock()
        on_broker = record.worker == ON_BROKER
        limit = self._queued_for if on_broker else self._stale_after
        if aware(record.heartbeat_at) > now - limit:
            return False
        reason = (
            f"no scan worker took it within {limit} of {iso(record.heartbeat_at)}; is `prr worker` running?"
            if on_broker
            else f"the process running it ({record.worker}) stopped answering at {iso(record.heartbeat_at)}"
        )
        with Session(self._engine) as session, session.begin():
            session.execute(
                update(ScanJobRecord)
                .where(
                    col(ScanJobRecord.id) == record.id,
                    col(ScanJobRecord.active_ref).is_not(None),
                    col(ScanJobRecord.worker) == record.worker,
                    col(ScanJobRecord.heartbeat_at) <= now - limit,
                )
                .values(
                    state="failed",
                    active_ref=None,
                    finished_at=now,
                    error=f"abandoned: {reason}; request a new rescan",
                )
            )
        return True

    def run(self, job_id: str, scan: Callable[[], int | None]) -> None:
        """Run the job in this process: mark it running here, ``scan()`` with its heartbeat kept,
        record how it ended. A job already over (abandoned meanwhile) is left as it is."""
        self._hold(job_id)
        try:
            with Session(self._engine) as session, session.begin():
                started = cast(
                    CursorResult[Any],
                    session.execute(
                        update(ScanJobRecord)
                        .where(col(ScanJobRecord.id) == job_id, col(ScanJobRecord.active_ref).is_not(None))
                        .values(state="running", worker=self.worker, heartbeat_at=self._clock())
                    ),
                ).rowcount
            if started:
                self._finish(job_id, *self._outcome(job_id, scan))
        finally:
            with self._lock:
                self._held.discard(job_id)

    @staticmethod
    def _outcome(job_id: str, scan: Callable[[], int | None]) -> tuple[str, int | None, str | None]:
        """Run ``scan``: (state, scan_id, error)."""
        try:
            return "succeeded", scan(), None
        except (PortalError, RepoError, ConfigError) as exc:
            return "failed", None, str(exc)
        except Exception as exc:  # the job reports it; the process keeps serving
            log.exception("rescan job %s failed", job_id)
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
