"""Every surface serves the same verdict: waivers granted, revoked and expiring under a controlled
clock, checked after each step on the API list, entity and scorecard, fleet summary, service and
review page headers, fleet and team page rows, the last history point, the team API, regressions,
webhooks and the "as of" query, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session

from prr.status import verdicts_as_of
from tests.portal_fixtures import ApiClient, token

Verdict = tuple[str | None, bool, float | None]  # level, ready, score
NAMES = ("checkout", "ledger", "search", "legacy")
API = "/api/v1/entities/component/default/"
ROW = re.compile(
    r'<tr[^>]*data-level="([^"]*)" data-ready="(true|false)" data-score="([^"]*)">\s*<th scope="row"><a href="/services/component/default/([a-z]+)"'
)
HEADER = {
    "service page": re.compile(
        r'<div class="tiles" data-level="([^"]*)" data-ready="(true|false)" data-score="([^"]*)"'
    ),
    "review page": re.compile(
        r'class="decision-box [a-z-]+" data-level="([^"]*)" data-ready="(true|false)" data-score="([^"]*)"'
    ),
}


def _verdict(level: str | None, ready: Any, score: Any) -> Verdict:
    level = None if level in (None, "none") else level
    ready = ready if isinstance(ready, bool) else ready == "true"
    return level, ready, None if score in (None, "") else float(score)


def surfaces(api: ApiClient, html: Any, now: Any, engine: Any) -> dict[str, dict[str, Verdict]]:
    """What each surface says about each service."""
    found: dict[str, dict[str, Verdict]] = {}
    rows = api.get("/api/v1/services?per_page=200").json["items"]
    found["API list"] = {r["name"]: _verdict(r["level"], r["ready"], r["score"]) for r in rows}
    found["API entity"] = {}
    found["API scorecard"] = {}
    found["last history point"] = {}
    for name in NAMES:
        row = api.get(API + name).json
        found["API entity"][name] = _verdict(row["level"], row["ready"], row["score"])
        card = api.get(API + name + "/scorecard").json
        found["API scorecard"][name] = _verdict(card["level"], card["ready"], card["score"])
        last = api.get(API + name + "/history").json["items"][-1]
        found["last history point"][name] = _verdict(last["level"], last["ready"], last["score"])
        for surface, pattern in HEADER.items():
            suffix = "" if surface == "service page" else "/review"
            page = html.get(f"/services/component/default/{name}{suffix}").get_data(as_text=True)
            found.setdefault(surface, {})[name] = _verdict(*pattern.search(page).groups())
    fleet_page = html.get("/").get_data(as_text=True)
    found["fleet page"] = {m[3]: _verdict(m[0], m[1], m[2]) for m in ROW.findall(fleet_page)}
    found["team API"], found["team page"] = {}, {}
    for owner in {r["owner"] for r in rows if r["owner"]}:
        for r in api.get(f"/api/v1/teams/{owner}").json["services"]:
            found["team API"][r["name"]] = _verdict(r["level"], r["ready"], r["score"])
        team_page = html.get(f"/teams/{owner}").get_data(as_text=True)
        found["team page"] |= {m[3]: _verdict(m[0], m[1], m[2]) for m in ROW.findall(team_page)}
    found["team API"] |= {r["name"]: found["API list"][r["name"]] for r in rows if not r["owner"]}  # no team
    found["team page"] |= {r["name"]: found["API list"][r["name"]] for r in rows if not r["owner"]}
    with Session(engine) as session:
        found["as of now"] = {
            e.ref.rsplit("/", 1)[1]: _verdict(e.level, e.ready, e.score) for e in verdicts_as_of(session, now)
        }
    return found


def assert_consistent(found: dict[str, dict[str, Verdict]], api: ApiClient) -> dict[str, Verdict]:
    served = found["API list"]
    assert set(served) == set(NAMES)
    for surface, verdicts in found.items():
        assert verdicts == served, f"{surface} disagrees with the API list"
    summary = api.get("/api/v1/fleet/summary").json
    assert summary["ready"] == sum(ready for _, ready, _ in served.values())
    for tier, bucket in summary["tiers"].items():
        in_tier = [n for n, r in api_rows(api).items() if r["tier"] == tier]
        assert bucket["total"] == len(in_tier)
        for level, count in bucket["levels"].items():
            assert count == sum(1 for n in in_tier if (served[n][0] or "none") == level), (tier, level)
    return served


def api_rows(api: ApiClient) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in api.get("/api/v1/services?per_page=200").json["items"]}


def worse(before: Verdict, after: Verdict, levels: list[str]) -> bool:
    rank = lambda level: levels.index(level) if level in levels else -1  # noqa: E731
    return rank(after[0]) < rank(before[0]) or (before[1] and not after[1])


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_every_surface_serves_the_same_verdict_as_waivers_come_and_go(request, make_portal, backend):
    receiver = request.getfixturevalue("receiver")
    extra: dict[str, Any] = {"webhooks": [{"url": receiver.url, "retries": 0}]}
    if backend == "postgres":
        extra["database_url"] = request.getfixturevalue("postgres_url")
    portal = make_portal(extra)
    clock, engine = portal.app.config["PRR_CLOCK"], portal.app.extensions["prr.db"]
    api, html = ApiClient(portal.app), portal.app.test_client()
    carol = token(portal.app, "carol")
    levels = ["bronze", "silver", "gold"]

    def grant(name: str, check: str, days: float) -> int:
        expires = (clock.now + timedelta(days=days)).isoformat().replace("+00:00", "Z")
        response = api.post(
            API + name + "/waivers",
            headers=carol,
            json={"check": check, "reason": "a tested exemption", "expires": expires},
        )
        assert response.status_code == 201, response.json
        return response.json["id"]

    def step(change: Any) -> tuple[dict[str, Verdict], dict[str, Verdict]]:
        """Apply ``change`` an hour after the previous step; check every surface; (before, after)."""
        before = assert_consistent(surfaces(api, html, clock.now, engine), api)
        clock.advance(hours=1)
        since = clock.now - timedelta(minutes=30)
        receiver.received.clear()
        change()
        after = assert_consistent(surfaces(api, html, clock.now, engine), api)
        regressed = api.get("/api/v1/fleet/regressions", query_string={"since": since.isoformat()}).json["items"]
        assert {r["name"] for r in regressed} >= {n for n in NAMES if worse(before[n], after[n], levels)}
        for item in regressed:
            assert (item["level"], item["ready"]) == after[item["name"]][:2], "regressions disagree"
        for message in receiver.received:
            name = message["service"]["name"]
            assert (message["current"]["level"], message["current"]["ready"]) == after[name][:2], "webhook disagrees"
        assert {m["service"]["name"] for m in receiver.received} == {
            n for n in NAMES if worse(before[n], after[n], levels)
        }
        return before, after

    waivers: dict[str, int] = {}

    def grant_all() -> None:
        waivers["search"] = grant("search", "resilience.probes", 7)
        waivers["ledger.replicas"] = grant("ledger", "resilience.replicas", 30)
        waivers["ledger.probes"] = grant("ledger", "resilience.probes", 2)
        waivers["ledger.review"] = grant("ledger", "review.security", 30)

    _, after = step(grant_all)
    assert after["search"][:2] == ("gold", True) and after["ledger"][:2] == ("gold", True)

    def revoke_search() -> None:
        assert api.post(f"/api/v1/waivers/{waivers['search']}/revoke", headers=carol, json={}).status_code == 200

    _, after = step(revoke_search)
    assert after["search"][:2] == ("bronze", True)
    assert [(m["event"], m["cause"]["kind"]) for m in receiver.received] == [("level_dropped", "waiver.revoked")]

    _, after = step(lambda: clock.advance(days=2))  # the ledger's probes waiver expires
    assert after["ledger"][:2] == ("bronze", False)
    assert sorted((m["event"], m["cause"]) for m in receiver.received) == [
        ("level_dropped", {"kind": "waiver.expired", "id": waivers["ledger.probes"]}),
        ("not_ready", {"kind": "waiver.expired", "id": waivers["ledger.probes"]}),
    ]
    history = api.get(API + "ledger/history").json["items"]
    assert [(h["cause"], h["waiver_carried"]) for h in history[-2:]] == [
        ("waiver.granted", True),
        ("waiver.expired", False),
    ]
