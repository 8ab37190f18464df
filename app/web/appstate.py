"""What a portal app keeps across requests: its clock, its catalog of checks, its rescan queue."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, current_app
from sqlalchemy.exc import OperationalError

from prr import actions, status
from prr.config import Config
from prr.context import ReadContext
from prr.jobs import ScanJobs
from prr.plugin import ConfigError, load_registry
from prr.scorecard import load_scorecard

log = logging.getLogger(__name__)
_JOBS_LOCK = threading.Lock()
STATUS_TICK_SECONDS = 60


def clock(app: Flask | None = None) -> datetime:
    """Now, as the portal sees it. Tests set ``app.config["PRR_CLOCK"]`` to a callable."""
    app = app or current_app
    chosen: Callable[[], datetime] | None = app.config.get("PRR_CLOCK")
    return chosen() if chosen else datetime.now(UTC)


def context(app: Flask | None = None) -> ReadContext:
    """The read context of ``app`` (default: the current Flask app) at its clock's now.

    The registry and scorecard are loaded once per app and kept in ``app.extensions``; a test may
    hand in its own registry with ``create_app(config, PRR_REGISTRY=registry)``.
    """
    app = app or current_app
    loaded = app.extensions.get("prr.catalog")
    if loaded is None:
        registry = app.config.get("PRR_REGISTRY") or load_registry()
        config: Config = app.config["PRR"]
        try:
            card, error = load_scorecard(config.scorecard, registry), None
        except ConfigError as exc:
            card, error = None, str(exc)
        loaded = app.extensions["prr.catalog"] = (registry, card, error)
    registry, card, error = loaded
    return ReadContext(
        engine=app.extensions["prr.db"],
        config=app.config["PRR"],
        registry=registry,
        scorecard=card,
        scorecard_error=error,
        now=clock(app),
    )


def jobs(app: Flask | None = None) -> ScanJobs:
    """The app's rescan queue (created on first use): run in ``portal.rescan_workers`` threads
    (default 2), or sent to the Celery workers when a broker is configured."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    with _JOBS_LOCK:  # request threads may ask at the same time
        if "prr.jobs" not in app.extensions:
            config: Config = app.config["PRR"]
            workers = int((config.data.get("portal") or {}).get("rescan_workers", 2))
            app.extensions["prr.jobs"] = ScanJobs(
                app.extensions["prr.db"],
                scan=lambda ref: actions.rescan_now(context(app), ref),
                clock=lambda: clock(app),
                workers=workers,
                dispatch=_broker_dispatch(app, config) if config.broker_url else None,
            )
        queue: ScanJobs = app.extensions["prr.jobs"]
        return queue


def _broker_dispatch(app: Flask, config: Config) -> Callable[[str, str], None]:
    """Send a rescan job to the Celery workers, with the fleet entry its service was scanned from."""
    from prr.tasks import enqueue_scan, make_celery

    celery = make_celery(config)

    def dispatch(job_id: str, ref: str) -> None:
        enqueue_scan(celery, actions.fleet_entry(context(app), ref), job_id=job_id)

    return dispatch


def keep_status(app: Flask) -> None:
    """Bring the served statuses up to date now, then (outside tests) every
    ``portal.status_tick_seconds`` (default 60) in a background thread, so expiries take effect
    and notify even when nobody reads."""
    ctx = context(app)
    if ctx.scorecard is None:
        return  # the pages say why; nothing can be served
    try:
        status.sync(ctx)
    except OperationalError as exc:  # the database is away at start: the tick and every read catch up
        log.warning("could not bring the served statuses up to date at start: %s", exc.orig)
    if app.testing:
        return  # tests move the clock and read: every read refreshes what is due
    every = float(ctx.portal_settings.get("status_tick_seconds", STATUS_TICK_SECONDS))
    stopping = app.extensions["prr.status_tick"] = threading.Event()

    def tick() -> None:
        while not stopping.wait(every):
            try:
                status.refresh_due(context(app))
            except Exception:  # a database hiccup; the next tick tries again
                log.warning("could not refresh the served statuses", exc_info=True)

    threading.Thread(target=tick, name="prr-status-tick", daemon=True).start()


def shutdown(app: Flask) -> None:
    """Wait for the app's queued rescans to finish and stop its status tick (tests, and a clean
    process exit)."""
    running = app.extensions.pop("prr.jobs", None)
    if running is not None:
        running.shutdown()
    ticking = app.extensions.pop("prr.status_tick", None)
    if ticking is not None:
        ticking.set()
