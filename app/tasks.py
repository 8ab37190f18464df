"""Scans on Celery workers over Redis: one task per service, acknowledged only once it is stored.

``prr worker`` consumes the tasks, ``prr beat`` (or ``prr worker --beat``) sends the periodic
fleet rescan, and the portal's "Rescan now" and ``prr scan --queue`` send one task per service.
A task carries the fleet entry (location, ref, tier) and, for a portal rescan, the id of its job,
whose state the worker keeps up to date as a portal process would (:class:`prr.jobs.ScanJobs`).

Delivery is at least once. A task is acknowledged after it ran (``acks_late``) and goes back to
the broker when its worker dies (``reject_on_worker_lost``; with Redis, once the visibility
timeout passes without an acknowledgement). So a task may run twice, but its scan is stored once:
a scan carries its task's id as a unique key.
"""

from __future__ import annotations

import logging
import random
import tempfile
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from celery import Celery
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from prr import actions
from prr.config import Config
from prr.context import ReadContext
from prr.errors import PortalError
from prr.fleet import FleetEntry, expand_fleet
from prr.jobs import ScanJobs
from prr.plugin import ConfigError, load_registry
from prr.repo import RepoError, redact_url
from prr.scorecard import load_scorecard
from prr.storage.db import current_engine
from prr.storage.models import Scan

log = logging.getLogger(__name__)
SCAN_SERVICE = "prr.scan_service"
RESCAN_FLEET = "prr.rescan_fleet"
QUEUE = "prr-scans"
DEFAULT_VISIBILITY_SECONDS = 3600
BEAT_STATE = Path(tempfile.gettempdir()) / "prr-beat-schedule"  # when each periodic task last ran


def make_celery(config: Config) -> Celery:
    """The Celery app for ``config``'s broker, with the scan and fleet-rescan tasks."""
    broker = config.broker_url
    if not broker:
        raise ConfigError("no broker configured: set queue.broker_url in the config or $PRR_BROKER_URL")
    settings = config.data.get("queue") or {}
    visibility = int(settings.get("visibility_timeout_seconds", DEFAULT_VISIBILITY_SECONDS))
    transport = {
        "visibility_timeout": visibility,
        # Look for the deliveries of dead workers often enough to honour a short visibility timeout.
        "unacked_restore_interval": max(1, min(10, visibility // 4)),
        "unacked_restore_throttle": 1,
    }
    if settings.get("key_prefix"):
        transport["global_keyprefix"] = settings["key_prefix"]
    app = Celery("prr", broker=broker, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a worker holds only the scans it runs
        task_default_queue=QUEUE,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,  # outcomes are in the database: the scan, the job
        broker_transport_options=transport,
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        timezone="UTC",
        beat_schedule=_beat_schedule(config),
    )
    runner = ScanRunner(config)

    @app.task(name=SCAN_SERVICE, bind=True)
    def scan_service(task: Any, entry: dict[str, Any], job_id: str | None = None) -> int | None:
        return runner.run(FleetEntry(**entry), task.request.id, job_id)

    @app.task(name=RESCAN_FLEET)
    def rescan_fleet() -> int:
        jitter = float((config.data.get("schedule") or {}).get("jitter_seconds", 300))
        entries = expand_fleet(config)
        for entry in entries:
            enqueue_scan(app, entry, delay_seconds=random.uniform(0, jitter))
        log.info("periodic rescan: %d services queued (jitter up to %gs)", len(entries), jitter)
        return len(entries)

    return app


def _beat_schedule(config: Config) -> dict[str, Any]:
    every = float((config.data.get("schedule") or {}).get("rescan_every_minutes", 60))
    return {"rescan-fleet": {"task": RESCAN_FLEET, "schedule": timedelta(minutes=every)}}


def enqueue_scan(app: Celery, entry: FleetEntry, job_id: str | None = None, delay_seconds: float = 0) -> str:
    """Send one scan task; its id. The message holds the entry as configured (a URL may carry a
    token the worker needs to fetch); what tools and logs show of it is redacted."""
    fields = asdict(entry)
    shown = {**fields, "location": redact_url(entry.location)}
    result = app.send_task(
        SCAN_SERVICE,
        args=[fields],
        kwargs={"job_id": job_id},
        countdown=delay_seconds or None,
        argsrepr=repr([shown]),
        kwargsrepr=repr({"job_id": job_id}),
    )
    return str(result.id)


class ScanRunner:
    """What a worker process keeps between tasks: its database engine, checks and scorecard,
    and the heartbeat of the portal jobs it runs. Built on the first task, after the fork."""

    def __init__(self, config: Config):
        self.config = config
        self._loaded: tuple[ReadContext, ScanJobs] | None = None

    def run(self, entry: FleetEntry, task_key: str, job_id: str | None) -> int | None:
        """Scan and store ``entry`` once for the task ``task_key``; the scan id (None: it failed,
        and the job or the log says why)."""
        ctx, jobs = self._load()
        ctx = replace(ctx, now=datetime.now(UTC))
        if job_id is not None:
            jobs.run(job_id, lambda: store_once(ctx, entry, task_key))
            return stored_scan(ctx.engine, task_key)
        try:
            return store_once(ctx, entry, task_key)
        except (RepoError, ConfigError, PortalError) as exc:  # PortalError: refused (prr.custody)
            log.warning("scan of %s failed: %s", redact_url(entry.location), redact_url(str(exc)))
        except Exception as exc:  # reported here, without the entry's credentials; the worker goes on
            log.error("scan of %s failed: %s: %s", redact_url(entry.location), type(exc).__name__, redact_url(str(exc)))
        return None

    def _load(self) -> tuple[ReadContext, ScanJobs]:
        if self._loaded is None:
            registry = load_registry()
            engine = current_engine(self.config.database_url, **self.config.database_pool)
            ctx = ReadContext(
                engine=engine,
                config=self.config,
                registry=registry,
                scorecard=load_scorecard(self.config.scorecard, registry),
            )
            # The worker runs the jobs it is sent (ScanJobs.run), never submits one: no scan function.
            jobs = ScanJobs(engine, scan=lambda ref: None, clock=lambda: datetime.now(UTC), workers=1)
            self._loaded = (ctx, jobs)
        return self._loaded


def store_once(ctx: ReadContext, entry: FleetEntry, task_key: str) -> int | None:
    """Scan and store ``entry`` unless the task ``task_key`` already stored its scan; the scan id.

    Two deliveries of one task may run at once (a visibility timeout shorter than a scan): the
    store of the second fails on the unique task key, and the first one's scan is the answer.
    """
    for _attempt in range(2):
        stored = stored_scan(ctx.engine, task_key)
        if stored is not None:
            return stored
        try:
            scan_id: int | None = actions.scan_and_store(ctx, entry, task_key=task_key)["scan_id"]
            return scan_id
        except IntegrityError:  # this task's scan (see above), or a first scan of the service racing another
            continue
    return stored_scan(ctx.engine, task_key)


def stored_scan(engine: Engine, task_key: str) -> int | None:
    """The id of the scan the task ``task_key`` stored, if it did."""
    with Session(engine) as session:
        return session.exec(select(Scan.id).where(Scan.task_key == task_key)).first()
