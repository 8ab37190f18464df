"""Past scans of the demo fleet, so that its history charts and regressions have a story to tell.

Each repo is evaluated as it stood at several past dates (the last commit before each date,
scanned "at" that date), and the reports are stored as if those scans had run then.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import git

from prr.config import Config
from prr.fleet import FleetEntry, expand_fleet, scan_entry
from prr.plugin import load_registry
from prr.scorecard import load_scorecard
from prr.storage.db import migrate, store_report

PAST_SCANS_DAYS_AGO = (180, 120, 90, 60, 30, 14, 3)


def backfill_history(
    config: Config, now: datetime, days_ago: tuple[int, ...] = PAST_SCANS_DAYS_AGO, workers: int = 2
) -> int:
    """Store past scans of every fleet repo; returns how many were stored."""
    registry = load_registry()
    scorecard = load_scorecard(config.scorecard, registry)
    engine = migrate(config.database_url)

    def scan_past(entry: FleetEntry) -> int:
        repo, stored = git.Repo(entry.location), 0
        for days in sorted(days_ago, reverse=True):
            moment = now - timedelta(days=days)
            commit = repo.git.rev_list("-1", f"--before={moment.isoformat()}", "HEAD")
            if not commit:
                continue  # the repo did not exist yet
            past = FleetEntry(entry.location, commit, entry.tier)
            # Live systems cannot be observed as they stood in the past: no live checks here.
            report = scan_entry(past, config, scorecard, registry, now=moment, live_clients=None)
            store_report(engine, report, adopt_declared=True)  # the past as it was: no change waits
            stored += 1
        return stored

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(scan_past, expand_fleet(config)))
