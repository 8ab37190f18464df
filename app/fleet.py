"""Scanning the configured fleet into the database, several services at a time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from prr.config import Config
from prr.engine import ScanRequest, evaluate
from prr.errors import PortalError
from prr.plugin import Registry
from prr.repo import Limits, RepoError, RepoSnapshot, is_url, iter_local_repos, open_snapshot, redact_url
from prr.scorecard import Scorecard
from prr.storage.models import Scan

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FleetEntry:
    location: str
    ref: str | None = None
    tier: str | None = None


@dataclass
class ScanOutcome:
    entry: FleetEntry
    report: dict[str, Any] | None = None
    scan_id: int | None = None
    error: str | None = None


def expand_fleet(config: Config) -> list[FleetEntry]:
    """The configured fleet with globs of local repos expanded, each repo once."""
    entries: dict[str, FleetEntry] = {}
    for item in config.data.get("fleet") or []:
        location = config.resolve_path(item["repo"])
        tier = str(item["tier"]) if item.get("tier") is not None else None
        matches = (
            [location]
            if is_url(location) or not any(c in location for c in "*?[")
            else list(iter_local_repos(location))
        )
        for match in matches:
            entries[match] = FleetEntry(match, item.get("ref"), tier)
    return list(entries.values())


def entry_scanned_as(config: Config, stored_repo: str) -> FleetEntry | None:
    """The configured fleet entry whose scans are stored as ``stored_repo`` (its location with any
    credentials redacted), if the fleet still lists it."""
    return next((e for e in expand_fleet(config) if redact_url(e.location) == stored_repo), None)


def snapshot_limits(config: Config) -> Limits:
    scan = config.data.get("scan") or {}
    defaults = Limits()
    return Limits(
        max_files=scan.get("max_files", defaults.max_files),
        max_file_bytes=scan.get("max_file_bytes", defaults.max_file_bytes),
    )


def scan_entry(
    entry: FleetEntry,
    config: Config,
    scorecard: Scorecard,
    registry: Registry,
    now: datetime | None = None,
    **request_options: Any,
) -> dict[str, Any]:
    """Evaluate one fleet entry (raises RepoError when the repo cannot be read). Live checks ask
    the config's live systems unless ``live_clients`` says otherwise."""
    request_options.setdefault("live_clients", config.live)
    with open_snapshot(
        entry.location, entry.ref, cache_dir=config.cache_dir, limits=snapshot_limits(config)
    ) as snapshot:
        return evaluate(_request(snapshot, entry, config, scorecard, registry, now, request_options))


def _request(
    snapshot: RepoSnapshot,
    entry: FleetEntry,
    config: Config,
    scorecard: Scorecard,
    registry: Registry,
    now: datetime | None,
    options: dict[str, Any],
) -> ScanRequest:
    return ScanRequest(
        snapshot=snapshot,
        scorecard=scorecard,
        registry=registry,
        config=config.check_config(),
        tier_override=entry.tier,
        waivers=config.waivers_for,
        now=now,
        **options,
    )


def moved_since_last_scan(
    entries: list[FleetEntry], engine: Engine, config: Config, scorecard: Scorecard
) -> list[FleetEntry]:
    """The entries whose head commit, or whose scorecard, differs from their latest stored scan.

    A repo never scanned, or one that cannot be read now, counts as moved (its scan says why).
    Git URLs are fetched (incrementally, into the mirror cache) to learn their head.
    """
    last = last_scanned(engine)
    moved = []
    for entry in entries:
        try:
            with open_snapshot(entry.location, entry.ref, cache_dir=config.cache_dir) as snapshot:
                head = snapshot.commit
        except RepoError:
            head = None
        if last.get(redact_url(entry.location)) != (head, scorecard.id, scorecard.version):
            moved.append(entry)
    return moved


def last_scanned(engine: Engine) -> dict[str, tuple[str, str, str]]:
    """(commit, scorecard id, scorecard version) of each service's latest stored scan, by repo."""
    latest = select(func.max(Scan.id)).group_by(col(Scan.service_id))
    with Session(engine) as session:
        rows = session.exec(
            select(Scan.repo, Scan.commit, Scan.scorecard_id, Scan.scorecard_version).where(col(Scan.id).in_(latest))
        ).all()
    return {repo: (commit, card, version) for repo, commit, card, version in rows}


def latest_report(engine: Engine, entry: FleetEntry) -> dict[str, Any] | None:
    """The stored report of the latest scan of ``entry``'s repo (what a rescan may reuse), if any."""
    with Session(engine) as session:
        report = session.exec(
            select(Scan.report).where(Scan.repo == redact_url(entry.location)).order_by(col(Scan.id).desc()).limit(1)
        ).first()
    return dict(report) if report is not None else None


def scan_fleet(
    entries: list[FleetEntry],
    scan_and_store: Callable[[FleetEntry], dict[str, Any]],
    workers: int = 2,
    on_done: Callable[[ScanOutcome], None] | None = None,
) -> list[ScanOutcome]:
    """Scan and store every entry in parallel; one unreadable repo or failed store never stops the rest.

    ``scan_and_store`` evaluates one entry and stores it, returning the stored report
    (:func:`prr.actions.scan_and_store` applies the portal's waivers, attestations and webhooks).
    """

    def one(entry: FleetEntry) -> ScanOutcome:
        try:
            report = scan_and_store(entry)
        except RepoError as exc:
            return ScanOutcome(entry, error=str(exc))
        except PortalError as exc:  # refused (another source holds its service's ref)
            return ScanOutcome(entry, error=exc.detail)
        except SQLAlchemyError as exc:  # the database refused: report it, keep scanning the others
            return ScanOutcome(entry, error=f"could not store the scan: {exc}")
        except Exception as exc:  # a bug met on one repo's content must not cost the rest their scans
            log.exception("scanning %s failed", redact_url(entry.location))
            return ScanOutcome(entry, error=redact_url(f"the scan failed: {type(exc).__name__}: {exc}"))
        return ScanOutcome(entry, report, report.get("scan_id"))

    outcomes: list[ScanOutcome] = []
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="prr-scan") as pool:
        for future in as_completed([pool.submit(one, e) for e in entries]):
            outcome = future.result()
            outcomes.append(outcome)
            if on_done:
                on_done(outcome)
    return sorted(outcomes, key=lambda o: o.entry.location)
