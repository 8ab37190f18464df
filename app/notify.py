"""Webhook notifications when a service's served verdict gets worse.

Config::

    webhooks:
      - url: https://hooks.slack.com/services/T000/B000/XXXX
        events: [level_dropped, not_ready]   # default: every event
        retries: 3                            # extra attempts after the first, with backoff
        timeout_seconds: 5

Each change of a service's served verdict is a status event (:mod:`prr.status`), whatever caused
it: a scan, a waiver granted, revoked or expired, an answer recorded or expired. An event whose
level is lower than before raises ``level_dropped``; one that ends readiness raises ``not_ready``.
Each is POSTed as JSON with a Slack-compatible ``text`` (every scanned string in it escaped, so a
repository cannot post links or mentions); a failed delivery (connection error, 5xx,
429) is retried with exponential backoff and then logged, never raised: a webhook outage must not
fail a scan or a write.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from prr.config import Config
from prr.escaping import for_slack
from prr.refs import split_ref

log = logging.getLogger(__name__)
EVENTS = ("level_dropped", "not_ready")
BACKOFF_SECONDS = 0.5
CAUSES = {
    "scan": "scan #{id}",
    "waiver.granted": "waiver #{id} granted",
    "waiver.revoked": "waiver #{id} revoked",
    "waiver.expired": "waiver #{id} expired",
    "attestation": "answer #{id} recorded",
    "attestation.expired": "answer #{id} expired",
    "owner.accepted": "owner change #{id} accepted",
    "tier.accepted": "tier change #{id} accepted",
    "conflict.resolved": "ref conflict #{id} resolved",
    "start": "scorecard or config change",
}


@dataclass
class Delivery:
    url: str
    event: str
    attempts: int
    ok: bool
    error: str | None = None


def cause_text(kind: str, cause_id: int | None) -> str:
    """``waiver #3 expired``; ``waiver expired`` when the waiver has no id (a config waiver)."""
    return (
        CAUSES.get(kind, kind).format(id=cause_id)
        if cause_id is not None
        else CAUSES.get(kind, kind).replace(" #{id}", "")
    )


def messages_for(change: dict[str, Any], portal_url: str | None = None) -> list[dict[str, Any]]:
    """The webhook messages a status event (:func:`prr.status.event_dict`) raises."""
    if not (change["level_dropped"] or change["stopped_ready"]):
        return []
    who = for_slack(f"{change['ref']} ({change['owner'] or 'no owner'}, Tier-{change['tier']})")
    link = f" <{for_slack(quote(portal_url, safe=':/%'))}|open in PRR portal>" if portal_url else ""
    why = f" after {cause_text(change['cause'], change['cause_id'])}"
    unmet = f"; newly failing: {for_slack(', '.join(change['newly_unmet']))}" if change["newly_unmet"] else ""
    base = {
        "service": {
            "ref": change["ref"],
            "name": split_ref(change["ref"])[2],
            "owner": change["owner"],
            "tier": change["tier"],
        },
        "previous": {"level": change["previous_level"], "ready": change["previous_ready"]},
        "current": {k: change[k] for k in ("level", "ready", "score", "scan_id", "commit")} | {"at": change["at"]},
        "cause": {"kind": change["cause"], "id": change["cause_id"]},
        "newly_unmet": change["newly_unmet"],
        "portal_url": portal_url,
    }
    found = []
    if change["level_dropped"]:
        text = (
            f":chart_with_downwards_trend: {who} dropped from {for_slack(change['previous_level'] or 'no level')} "
            f"to {for_slack(change['level'] or 'no level')}{why}{unmet}.{link}"
        )
        found.append({"event": "level_dropped", **base, "text": text})
    if change["stopped_ready"]:
        text = (
            f":rotating_light: {who} is no longer production ready (needs {for_slack(change['required_level'])}, "
            f"now {for_slack(change['level'] or 'no level')}){why}{unmet}.{link}"
        )
        found.append({"event": "not_ready", **base, "text": text})
    return found


def deliver_events(
    config: Config,
    changes: list[dict[str, Any]],
    link_for: Callable[[str], str | None],
    sleep: Callable[[float], None] = time.sleep,
) -> list[Delivery]:
    """Deliver the messages the status events raise to the configured webhooks."""
    hooks = config.data.get("webhooks") or []
    messages = [m for change in changes for m in messages_for(change, link_for(change["ref"]))]
    return deliver(hooks, messages, sleep=sleep) if hooks else []


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
