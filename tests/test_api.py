"""The JSON API against the scanned fleet of tests/portal_fixtures.py; every response is held to
schemas/openapi.yaml by ApiClient."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import yaml

from prr import actions
from tests.portal_fixtures import ApiClient, build_app, repo, token

CHECKOUT = "/api/v1/entities/component/default/checkout"
LEDGER = "/api/v1/entities/component/default/ledger"


@pytest.fixture
def api(portal) -> ApiClient:
    return ApiClient(portal.app)


@pytest.mark.parametrize(
    "query, refs",
    [
        ("", ["checkout", "ledger", "legacy", "search"]),
        ("?tier=1", ["checkout", "legacy"]),
        ("?tier=0&tier=2", ["ledger", "search"]),
        ("?owner=team-payments", ["checkout", "ledger"]),
        ("?level=bronze", ["ledger", "search"]),
        ("?level=none", ["legacy"]),
        ("?ready=true", ["checkout", "search"]),
        ("?ready=false&owner=team-payments", ["ledger"]),
        ("?q=led", ["ledger"]),
        ("?sort=-score", ["checkout", "search", "ledger", "legacy"]),
        ("?sort=score", ["legacy", "ledger", "search", "checkout"]),
        ("?sort=-level", ["checkout", "ledger", "search", "legacy"]),
        ("?sort=tier", ["ledger", "checkout", "legacy", "search"]),
        ("?tier=3", []),
    ],
)
def test_services_filter_and_sort(api, query, refs):
    body = api.get(f"/api/v1/services{query}").json
    assert [s["name"] for s in body["items"]] == refs
    assert body["total"] == len(refs)


def test_services_pagination_walks_every_service_once(api):
    seen, url, pages = [], "/api/v1/services?per_page=3&sort=name", 0
    while url:
        body = api.get(url).json
        seen += [s["name"] for s in body["items"]]
        assert body["pages"] == 2 and body["total"] == 4
        url, pages = body["links"]["next"], pages + 1
    assert (seen, pages) == (["checkout", "ledger", "legacy", "search"], 2)
    last = api.get("/api/v1/services?per_page=3&sort=name&page=2").json
    assert last["links"]["prev"] is not None and last["links"]["next"] is None


@pytest.mark.parametrize(
    "query, detail",
    [
        ("?page=0", "page must be"),
        ("?per_page=500", "per_page"),
        ("?page=two", "page must be an integer"),
        ("?sort=colour", "sort must be one of"),
        ("?ready=maybe", "ready must be true or false"),
    ],
)
def test_services_bad_query_is_a_problem(api, query, detail):
    response = api.get(f"/api/v1/services{query}")
    assert response.status_code == 400
    assert detail in response.json["detail"]


def test_service_row_and_scorecard(api):
    row = api.get(CHECKOUT).json
    assert (row["tier"], row["level"], row["ready"], row["owner"]) == ("1", "silver", True, "team-payments")
    report = api.get(f"{CHECKOUT}/scorecard").json
    assert report["schema"] == "prr/scan-report/v1" and report["scan_id"] == row["scan_id"]
    assert report["links"]["portal"] == "https://prr.example.com/services/component/default/checkout"
    statuses = {c["id"]: c["status"] for c in report["checks"]}
    assert statuses == {
        "ownership.catalog": "pass",
        "ownership.tier": "pass",
        "resilience.replicas": "pass",
        "resilience.probes": "pass",
        "review.security": "fail",
    }
    assert [s["check"] for s in report["next_steps"]] == ["review.security"]


def test_scorecard_of_a_tier_that_excludes_the_manual_check(api):
    report = api.get("/api/v1/entities/component/default/search/scorecard").json
    review = next(c for c in report["checks"] if c["id"] == "review.security")
    assert (review["status"], review["met"]) == ("not_applicable", None)


def test_entity_ref_is_case_insensitive_in_the_path(api):
    assert api.get("/api/v1/entities/Component/Default/Checkout").json["ref"] == "component:default/checkout"


def test_history_is_oldest_first_with_the_stored_verdicts(api):
    body = api.get(f"{LEDGER}/history").json
    assert [(p["level"], p["ready"]) for p in body["items"]] == [("silver", False), ("bronze", False)]
    assert body["items"][0]["commit"] != body["items"][1]["commit"]
    assert len(api.get(f"{LEDGER}/history?limit=1").json["items"]) == 1


def test_regressions_name_the_newly_unmet_checks(api):
    items = api.get("/api/v1/fleet/regressions").json["items"]
    assert [(r["ref"], r["previous_level"], r["level"], r["newly_unmet"]) for r in items] == [
        ("component:default/ledger", "silver", "bronze", ["resilience.replicas", "resilience.probes"])
    ]


def test_fleet_summary_counts_by_tier_and_level(api):
    summary = api.get("/api/v1/fleet/summary").json
    assert (summary["total"], summary["ready"]) == (4, 2)
    assert summary["tiers"]["1"] == {
        "total": 2,
        "ready": 1,
        "ready_pct": 50.0,
        "levels": {"bronze": 0, "silver": 1, "gold": 0, "none": 1},
    }


def test_check_view_lists_failing_services(api):
    view = api.get("/api/v1/checks/resilience.probes").json
    assert [(i["name"], i["status"]) for i in view["failing"]] == [
        ("ledger", "fail"),
        ("legacy", "error"),
        ("search", "fail"),
    ]
    assert view["met"] == 1 and view["check"]["scorecard"]["level"] == "silver"


def test_a_check_shows_its_remediation_example_dated_today(api, portal):
    remediation = api.get("/api/v1/checks/dr.tested").json["check"]["remediation"]
    assert "{today}" not in remediation and "2026-09-20" in remediation  # the portal's clock
    page = portal.app.test_client().get("/checks/dr.tested").get_data(as_text=True)
    assert "{today}" not in page and "2026-09-20" in page


def test_checks_and_scorecards(api):
    checks = {c["id"]: c for c in api.get("/api/v1/checks").json["items"]}
    assert checks["review.security"]["kind"] == "manual"
    assert checks["ownership.catalog"]["scorecard"] == {"level": "bronze", "weight": 3, "blocking": True, "tiers": None}
    card = api.get("/api/v1/scorecards").json["items"][0]
    assert card["id"] == "portal-test" and card["error"] is None
    assert {"tier": "0", "required_level": "gold"} in card["tiers"]


def test_team_view(api):
    body = api.get("/api/v1/teams/team-payments").json
    assert [s["name"] for s in body["services"]] == ["ledger", "checkout"]  # worst first
    assert api.get("/api/v1/teams/team-nobody").status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/entities/component/default/nope",
        "/api/v1/entities/component/default/nope/scorecard",
        "/api/v1/entities/component/default/nope/history",
        "/api/v1/checks/no.such-check",
        "/api/v1/scans/9999",
        "/api/v1/waivers/9999",
        "/api/v1/scan-jobs/unknown",
        "/api/v1/no-such-route",
    ],
)
def test_not_found_is_a_problem(api, url):
    response = api.get(url)
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_method_not_allowed_is_a_problem(api):
    response = api.request("DELETE", "/api/v1/services")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]


def test_healthz_and_metrics(api):
    assert api.get("/healthz").json == {"status": "ok", "database": "ok"}
    api.get("/api/v1/services")
    text = api.get("/metrics").text
    assert "prr_scans_total 5\n" in text
    assert 'prr_scan_duration_seconds_bucket{le="+Inf"} 5\n' in text
    assert 'prr_check_errors_total{check="resilience.probes"} 1\n' in text
    assert 'prr_http_request_duration_seconds_count{method="GET",endpoint="/api/v1/services",status="200"} 1\n' in text


def _wait_for(api: ApiClient, location: str, headers: dict[str, str]) -> dict:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = api.get(location, headers=headers).json
        if job["state"] in ("succeeded", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"rescan job {location} did not finish")


def test_rescan_returns_202_and_stores_a_new_scan(api, portal, tmp_path):
    alice = token(portal.app, "alice")
    repo(tmp_path, "checkout").commit({"deploy/deployment.yaml": None}, "drop manifests", days_ago=0.1)
    response = api.post(f"{CHECKOUT}/scans", headers=alice)
    assert response.status_code == 202 and response.json["state"] in ("queued", "running")
    job = _wait_for(api, response.headers["Location"], alice)
    assert job["state"] == "succeeded" and job["requested_by"] == "alice", job
    history = api.get(f"{CHECKOUT}/history").json["items"]
    assert len(history) == 2 and history[-1]["scan_id"] == job["scan_id"]
    statuses = {c["id"]: c["status"] for c in api.get(f"/api/v1/scans/{job['scan_id']}").json["checks"]}
    assert statuses["resilience.replicas"] == "not_applicable"


def test_a_second_rescan_request_joins_the_unfinished_job(api, portal, monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(actions, "scan_and_store", lambda ctx, entry: release.wait(30) and {"scan_id": 1})
    alice = token(portal.app, "alice")
    first = api.post(f"{CHECKOUT}/scans", headers=alice).json
    second = api.post(f"{CHECKOUT}/scans", headers=alice).json
    other = api.post(f"{LEDGER}/scans", headers=alice).json
    release.set()
    assert first["id"] == second["id"] != other["id"]
    assert _wait_for(api, f"/api/v1/scan-jobs/{first['id']}", alice)["scan_id"] == 1


def test_rescan_of_a_service_no_longer_in_the_fleet_is_a_conflict(portal, tmp_path):
    config = yaml.safe_load((tmp_path / "prr.yaml").read_text())
    config["fleet"] = [{"repo": "repos/search"}]
    (tmp_path / "prr.yaml").write_text(yaml.safe_dump(config))
    api = ApiClient(build_app(tmp_path, portal.app.config["PRR_CLOCK"]))
    response = api.post(f"{CHECKOUT}/scans", headers=token(portal.app, "alice"))
    assert response.status_code == 409 and "no longer lists" in response.json["detail"]


def test_signoffs_and_history_survive_a_restart(api, portal, tmp_path: Path):
    carol = token(portal.app, "carol")
    made = api.post(f"{LEDGER}/signoffs", headers=carol, json={"decision": "no-go", "notes": "needs 3 replicas"})
    assert made.status_code == 201
    assert made.json["scan_id"] == api.get(LEDGER).json["scan_id"] and made.json["level"] == "bronze"

    restarted = ApiClient(build_app(tmp_path, portal.app.config["PRR_CLOCK"]))
    signoffs = restarted.get(f"{LEDGER}/signoffs").json["items"]
    assert [(s["decision"], s["decided_by"], s["notes"]) for s in signoffs] == [("no-go", "carol", "needs 3 replicas")]
    assert len(restarted.get(f"{LEDGER}/history").json["items"]) == 2
    assert restarted.post(f"{LEDGER}/signoffs", headers=carol, json={"decision": "go"}).status_code == 201


@pytest.mark.parametrize(
    "body, status, detail",
    [
        ({"decision": "maybe"}, 422, "decision must be go or no-go"),
        ({"decision": "go", "scan_id": 9999}, 409, "changed since the page was shown"),
        ({"decision": "go", "notes": 5}, 422, "notes has the wrong type"),
        ({}, 422, "decision is required"),
    ],
)
def test_bad_signoff_is_a_problem(api, portal, body, status, detail):
    response = api.post(f"{LEDGER}/signoffs", headers=token(portal.app, "carol"), json=body)
    assert response.status_code == status and detail in response.json["detail"]


def test_signoff_against_a_scan_other_than_the_served_one_is_refused_with_the_current_verdict(api, portal):
    checkout_scan = api.get(CHECKOUT).json["scan_id"]
    response = api.post(
        f"{LEDGER}/signoffs", headers=token(portal.app, "carol"), json={"decision": "go", "scan_id": checkout_scan}
    )
    assert response.status_code == 409
    served = api.get(LEDGER).json
    assert response.json["current"] == {
        "level": "bronze",
        "ready": False,
        "score": served["score"],
        "scan_id": served["scan_id"],
        "status_version": served["status_version"],
    }


@pytest.mark.parametrize(
    "kwargs, status",
    [
        ({"data": "decision=go", "content_type": "application/x-www-form-urlencoded"}, 415),
        ({"data": "[1, 2]", "content_type": "application/json"}, 400),
        ({"data": "{not json", "content_type": "application/json"}, 400),
    ],
)
def test_writes_take_a_json_object(api, portal, kwargs, status):
    response = api.post(f"{LEDGER}/signoffs", headers=token(portal.app, "carol"), **kwargs)
    assert response.status_code == status
