"""Webhooks when a service's level drops or it stops being ready; delivered to a real HTTP receiver
on 127.0.0.1 that each test starts and stops."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from prr import notify
from tests.portal_fixtures import repo, scan


def _change(level: str | None, ready: bool, dropped: bool, stopped: bool, cause: str = "scan") -> dict[str, Any]:
    """A status event of checkout, which was silver and ready before."""
    return {
        "id": 7,
        "ref": "component:default/checkout",
        "at": "2026-11-27T08:00:00Z",
        "cause": cause,
        "cause_id": 3,
        "tier": "1",
        "owner": "team-payments",
        "scan_id": 2,
        "commit": "a" * 40,
        "previous_level": "silver",
        "level": level,
        "previous_ready": True,
        "ready": ready,
        "score": 50.0,
        "required_level": "silver",
        "waiver_carried": False,
        "level_dropped": dropped,
        "stopped_ready": stopped,
        "newly_unmet": ["b"],
        "newly_met": [],
    }


@pytest.mark.parametrize(
    "change, messages, says",
    [
        (_change("bronze", False, True, True), ["level_dropped", "not_ready"], "after scan #3"),
        (_change("bronze", True, True, False), ["level_dropped"], "dropped from silver to bronze"),
        (_change(None, False, True, True, "waiver.expired"), ["level_dropped", "not_ready"], "after waiver #3 expired"),
        (_change("silver", False, False, True, "waiver.revoked"), ["not_ready"], "after waiver #3 revoked"),
        (_change("gold", True, False, False), [], ""),
    ],
)
def test_messages_for(change, messages, says):
    found = notify.messages_for(change, "https://prr.example.com/s/checkout")
    assert [m["event"] for m in found] == messages
    for message in found:
        assert (
            "component:default/checkout" in message["text"]
            and "<https://prr.example.com/s/checkout|" in message["text"]
        )
        assert says in message["text"]
        assert message["previous"]["level"] == "silver" and message["current"]["level"] == change["level"]
        assert message["cause"] == {"kind": change["cause"], "id": 3}


def test_a_rescan_that_drops_the_level_notifies(make_portal, receiver, tmp_path):
    built = make_portal({"webhooks": [{"url": receiver.url, "events": ["level_dropped", "not_ready"]}]})
    assert receiver.received == []  # building the fleet notifies no one
    repo(tmp_path, "checkout").commit(
        {"deploy/deployment.yaml": None, "k8s/app.yaml": _one_replica()}, "shrink", days_ago=0.1
    )
    stored = scan(built.app, "checkout")
    assert (stored["level"], stored["ready"]) == ("bronze", False)
    assert receiver.events() == ["level_dropped", "not_ready"]
    event = receiver.received[0]
    assert event["content_type"] == "application/json"
    assert event["service"] == {
        "ref": "component:default/checkout",
        "name": "checkout",
        "owner": "team-payments",
        "tier": "1",
    }
    assert (event["previous"]["level"], event["current"]["level"]) == ("silver", "bronze")
    assert event["current"]["scan_id"] == stored["scan_id"]
    assert event["cause"] == {"kind": "scan", "id": stored["scan_id"]}
    assert event["newly_unmet"] == ["resilience.replicas", "resilience.probes"]
    assert "dropped from silver to bronze" in event["text"]
    assert event["portal_url"] == "https://prr.example.com/services/component/default/checkout"

    scan(built.app, "checkout")  # no change: no event
    assert len(receiver.received) == 2


def _one_replica() -> str:
    return (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: checkout}\nspec:\n  replicas: 1\n  template:\n"
        "    spec:\n      containers:\n        - name: checkout\n          image: registry.example.com/c:1\n"
    )


def test_subscriptions_filter_events(receiver):
    events = notify.messages_for(_change("bronze", False, True, True))
    deliveries = notify.deliver([{"url": receiver.url, "events": ["not_ready"]}], events, sleep=lambda s: None)
    assert [(d.event, d.ok) for d in deliveries] == [("not_ready", True)]
    assert receiver.events() == ["not_ready"]


@pytest.mark.parametrize(
    "statuses, retries, attempts, ok, waits",
    [
        ([500, 503], 3, 3, True, [0.5, 1.0]),
        ([429], 3, 2, True, [0.5]),
        ([500, 500, 500, 500], 3, 4, False, [0.5, 1.0, 2.0]),
        ([500], 0, 1, False, []),
        ([404], 3, 1, False, []),  # refused: retrying will not help
    ],
)
def test_retries_with_backoff(receiver, statuses, retries, attempts, ok, waits):
    receiver.statuses = list(statuses)
    slept: list[float] = []
    events = notify.messages_for(_change("bronze", True, True, False))
    [delivery] = notify.deliver([{"url": receiver.url, "retries": retries}], events, sleep=slept.append)
    assert (delivery.attempts, delivery.ok, slept) == (attempts, ok, waits)
    assert len(receiver.received) == attempts


def test_an_unreachable_webhook_is_logged_not_raised(caplog):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/hook"
    events = notify.messages_for(_change("bronze", True, True, False))
    [delivery] = notify.deliver([{"url": url, "retries": 1, "timeout_seconds": 2}], events, sleep=lambda s: None)
    assert not delivery.ok and delivery.attempts == 2 and "ConnectionError" in delivery.error
    assert "could not deliver level_dropped" in caplog.text


def test_repository_text_cannot_post_links_or_mentions(receiver):
    hostile = "<https://evil.example|Click here> <!channel> &amp;"
    change = {**_change("bronze", False, True, True), "ref": f"component:default/{hostile}", "owner": hostile}
    change["newly_unmet"] = [hostile]
    portal_url = f"https://prr.example.com/services/component/default/{hostile}"
    notify.deliver([{"url": receiver.url}], notify.messages_for(change, portal_url), sleep=lambda s: None)
    assert receiver.events() == ["level_dropped", "not_ready"]
    for event in receiver.received:
        text = event["text"]
        assert "<https://evil" not in text and "<!channel>" not in text
        assert "&lt;https://evil.example|Click here&gt; &lt;!channel&gt; &amp;amp;" in text  # shown, not acted on
        [link] = text.split("<")[1:]  # the portal's own link is the one link
        assert link.startswith("https://prr.example.com/services/component/default/%3Chttps://evil.example%7CClick")
        assert link.endswith("|open in PRR portal>")
        assert event["service"]["owner"] == hostile  # the JSON fields stay as scanned
