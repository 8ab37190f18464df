"""Webhook notifications when a service gets worse.

Config::

    webhooks:
      - url: https://hooks.slack.com/services/T000/B000/XXXX
        events: [level_dropped, not_ready]   # default: every event
        retries: 3                            # extra attempts after the first, with backoff
        timeout_seconds: 5

After each stored scan, the scan is compared with the service's previous one (as stored):
``level_dropped`` when its level is lower, ``not_ready`` when it was ready and is not. Each event
is POSTed as JSON with a Slack-compatible ``text`` (every scanned string in it escaped, so a
repository cannot post links or mentions); a failed delivery (connection error, 5xx, 429)
is retried with exponential backoff and then logged, never raised: a webhook outage must not
fail a scan.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from prr.config import Config
from prr.escaping import for_slack
from prr.reads import compare_scans
from prr.storage.models import Scan

log = logging.getLogger(__name__)
EVENTS = ("level_dropped", "not_ready")
BACKOFF_SECONDS = 0.5


@dataclass
class Delivery:
    url: str
    event: str
    attempts: int
    ok: bool
    error: str | None = None


def events_for(
    previous: dict[str, Any], current: dict[str, Any], portal_url: str | None = None
) -> list[dict[str, Any]]:
    """The events ``current`` (a stored scan report) raises against ``previous``."""
    change = compare_scans(previous, current)
    if change is None:
        return []
    service = current["service"]
    who = for_slack(f"{service['ref']} ({service['owner'] or 'no owner'}, Tier-{service['tier']})")
    link = f" <{for_slack(quote(portal_url, safe=':/%'))}|open in PRR portal>" if portal_url else ""
    base = {
        "service": {k: service[k] for k in ("ref", "name", "owner", "tier")},
        "previous": _verdict(previous),
        "current": _verdict(current),
        "newly_unmet": change["newly_unmet"],
        "portal_url": portal_url,
    }
    events = []
    if change["level_dropped"]:
        text = (
            f":chart_with_downwards_trend: {who} dropped from {_level(previous)} "
            f"to {_level(current)}{_unmet(change)}.{link}"
        )
        events.append({"event": "level_dropped", **base, "text": text})
    if change["stopped_ready"]:
        text = (
            f":rotating_light: {who} is no longer production ready (needs "
            f"{for_slack(current['scorecard']['required_level'])}, now {_level(current)}){_unmet(change)}.{link}"
        )
        events.append({"event": "not_ready", **base, "text": text})
    return events


def _verdict(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "scan_id": report.get("scan_id"),
        "commit": report["source"]["commit"],
        "scanned_at": report["source"]["scanned_at"],
        "level": report["level"],
        "score": report["score"],
        "ready": report["ready"],
    }


def _level(report: dict[str, Any]) -> str:
    return for_slack(report["level"] or "no level")


def _unmet(change: dict[str, Any]) -> str:
    return f"; newly failing: {for_slack(', '.join(change['newly_unmet']))}" if change["newly_unmet"] else ""


def previous_report(engine: Engine, report: dict[str, Any]) -> dict[str, Any] | None:
    """The stored scan of the same service made just before ``report`` (which has a ``scan_id``)."""
    with Session(engine) as session:
        current = session.get(Scan, report["scan_id"])
        if current is None:
            return None
        earlier = session.exec(
            select(Scan)
            .where(Scan.service_id == current.service_id, Scan.id != current.id, Scan.scanned_at <= current.scanned_at)
            .order_by(col(Scan.scanned_at).desc(), col(Scan.id).desc())
        ).first()
        return dict(earlier.report) if earlier else None


def after_scan(
    engine: Engine,
    config: Config,
    report: dict[str, Any],
    portal_url: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Delivery]:
    """Compare a just-stored scan with the one before and deliver the events it raises."""
    hooks = config.data.get("webhooks") or []
    if not hooks:
        return []
    previous = previous_report(engine, report)
    if previous is None:
        return []
    return deliver(hooks, events_for(previous, report, portal_url), sleep=sleep)


def deliver(
    hooks: list[dict[str, Any]], events: list[dict[str, Any]], sleep: Callable[[float], None] = time.sleep
) -> list[Delivery]:
    """POST each event to each webhook subscribed to it."""
    return [
        _post(hook, event, sleep)
        for event in events
        for hook in hooks
        if event["event"] in (hook.get("events") or EVENTS)
    ]


def _post(hook: dict[str, Any], event: dict[str, Any], sleep: Callable[[float], None]) -> Delivery:
    url, attempts = hook["url"], 1 + int(hook.get("retries", 3))
    error = None
    for attempt in range(attempts):
        if attempt:
            sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
        try:
            response = requests.post(url, json=event, timeout=float(hook.get("timeout_seconds", 5)))
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
            continue
        if response.status_code < 300:
            return Delivery(url, event["event"], attempt + 1, True)
        error = f"HTTP {response.status_code}"
        if response.status_code < 500 and response.status_code != 429:
            break  # the receiver refuses this event; sending it again will not help
    log.warning("webhook %s: could not deliver %s for %s: %s", url, event["event"], event["service"]["ref"], error)
    return Delivery(url, event["event"], attempt + 1, False, error)
