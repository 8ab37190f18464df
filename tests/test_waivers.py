"""Waivers and attestations apply when the scorecard is served, and stop when they expire or are
revoked."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.portal_fixtures import SESSION_NOW, ApiClient, scan, token

SEARCH = "/api/v1/entities/component/default/search"
CHECKOUT = "/api/v1/entities/component/default/checkout"
REASON = "probes land with the v2 rollout next sprint"


def _at(**delta: float) -> str:
    return (SESSION_NOW + timedelta(**delta)).isoformat().replace("+00:00", "Z")


@pytest.fixture
def api(portal) -> ApiClient:
    return ApiClient(portal.app)


def _check(api: ApiClient, url: str, check_id: str) -> dict:
    return next(c for c in api.get(f"{url}/scorecard").json["checks"] if c["id"] == check_id)


def _grant(api, portal, expires: str, check: str = "resilience.probes"):
    return api.post(
        f"{SEARCH}/waivers",
        headers=token(portal.app, "carol"),
        json={"check": check, "reason": REASON, "expires": expires},
    )


def test_a_granted_waiver_turns_a_failing_check_met_until_it_expires(api, portal):
    before = api.get(f"{SEARCH}/scorecard").json
    assert (before["level"], before["score"]) == ("bronze", 87.5)
    assert _check(api, SEARCH, "resilience.probes")["met"] is False

    granted = _grant(api, portal, _at(days=7))
    assert granted.status_code == 201 and granted.headers["Location"].endswith(f"/waivers/{granted.json['id']}")
    assert (granted.json["state"], granted.json["approver"], granted.json["source"]) == ("active", "carol", "portal")

    during = api.get(f"{SEARCH}/scorecard").json
    probes = next(c for c in during["checks"] if c["id"] == "resilience.probes")
    assert (probes["status"], probes["met"], probes["waived"]) == ("fail", True, True)
    assert probes["waiver"] == {"reason": REASON, "approver": "carol", "expires": _at(days=7)}
    assert (during["level"], during["score"], during["ready"]) == ("gold", 100.0, True)
    assert api.get(SEARCH).json["waived"] == 1
    assert api.get("/api/v1/services?level=gold").json["items"][0]["name"] == "search"
    assert [i["name"] for i in api.get("/api/v1/checks/resilience.probes").json["waived"]] == ["search"]

    portal.app.config["PRR_CLOCK"].advance(days=7, seconds=1)
    after = api.get(f"{SEARCH}/scorecard").json
    probes = next(c for c in after["checks"] if c["id"] == "resilience.probes")
    assert (probes["met"], probes["waived"], probes["waiver"]) == (False, False, None)
    assert (after["level"], after["score"]) == ("bronze", 87.5)
    assert api.get(f"/api/v1/waivers/{granted.json['id']}").json["state"] == "expired"


def test_a_waiver_on_a_passing_check_shows_but_changes_nothing(api, portal):
    _grant(api, portal, _at(days=7), check="resilience.replicas")
    replicas = _check(api, SEARCH, "resilience.replicas")
    assert (replicas["status"], replicas["met"], replicas["waived"]) == ("pass", True, False)
    assert replicas["waiver"]["approver"] == "carol"


def test_revocation_stops_the_waiver_and_keeps_the_record(api, portal):
    waiver_id = _grant(api, portal, _at(days=30)).json["id"]
    revoked = api.post(
        f"/api/v1/waivers/{waiver_id}/revoke",
        headers=token(portal.app, "root"),
        json={"reason": "the rollout slipped a quarter"},
    )
    assert revoked.status_code == 200
    assert (revoked.json["state"], revoked.json["revoked_by"], revoked.json["reason"]) == ("revoked", "root", REASON)
    assert _check(api, SEARCH, "resilience.probes")["waived"] is False
    listed = api.get(f"{SEARCH}/waivers").json["items"]
    assert [(w["id"], w["state"]) for w in listed] == [(waiver_id, "revoked")]
    assert [w["id"] for w in api.get("/api/v1/waivers?state=revoked").json["items"]] == [waiver_id]
    again = api.post(f"/api/v1/waivers/{waiver_id}/revoke", headers=token(portal.app, "root"))
    assert again.status_code == 409 and "already revoked" in again.json["detail"]


def test_the_owning_teams_approver_cannot_revoke(api, portal):
    waiver_id = api.post(
        f"{CHECKOUT}/waivers",
        headers=token(portal.app, "carol"),
        json={"check": "review.security", "reason": REASON, "expires": _at(days=5)},
    ).json["id"]
    assert api.post(f"/api/v1/waivers/{waiver_id}/revoke", headers=token(portal.app, "dave")).status_code == 403
    assert api.post(f"/api/v1/waivers/{waiver_id}/revoke", headers=token(portal.app, "carol")).status_code == 200


@pytest.mark.parametrize(
    "body, field",
    [
        ({"check": "resilience.probes", "reason": "short", "expires": _at(days=7)}, "reason"),
        ({"check": "resilience.probes", "reason": REASON, "expires": _at(days=-1)}, "expires"),
        ({"check": "resilience.probes", "reason": REASON, "expires": _at(days=181)}, "expires"),
        ({"check": "resilience.probes", "reason": REASON, "expires": "2027-01-31T00:00:00"}, "expires"),
        ({"check": "resilience.probes", "reason": REASON, "expires": "next tuesday"}, "expires"),
        ({"check": "no.such-check", "reason": REASON, "expires": _at(days=7)}, "check"),
        ({"check": "resilience.probes", "expires": _at(days=7)}, "reason"),
        ({"check": "resilience.probes", "reason": REASON, "expires": 20270131}, "expires"),
    ],
)
def test_bad_waivers_are_refused(api, portal, body, field):
    response = api.post(f"{SEARCH}/waivers", headers=token(portal.app, "carol"), json=body)
    assert response.status_code == 422 and response.json["field"] == field, response.json


def test_a_too_short_reason_says_how_long_it_must_be(api, portal):
    response = api.post(
        f"{SEARCH}/waivers",
        headers=token(portal.app, "carol"),
        json={"check": "resilience.probes", "reason": "short", "expires": _at(days=7)},
    )
    assert response.status_code == 422 and "at least 10 characters" in response.json["detail"], response.json


def test_waivers_listing_by_state(api, portal):
    soon = _grant(api, portal, _at(days=3)).json["id"]
    later = _grant(api, portal, _at(days=90), check="ownership.tier").json["id"]
    assert [w["id"] for w in api.get("/api/v1/waivers?state=active").json["items"]] == [later, soon]
    assert [w["id"] for w in api.get("/api/v1/waivers?state=expiring&within_days=7").json["items"]] == [soon]
    assert api.get("/api/v1/waivers?state=bogus").status_code == 400


def test_waivers_from_the_portal_config_apply_and_are_listed(make_portal):
    built = make_portal(
        {
            "waivers": [
                {
                    "service": "component:default/search",
                    "check": "resilience.probes",
                    "reason": "approved in the March review",
                    "approver": "sre-lead",
                    "expires": _at(days=10),
                }
            ]
        }
    )
    api = ApiClient(built.app)
    assert _check(api, SEARCH, "resilience.probes")["waiver"]["approver"] == "sre-lead"
    listed = api.get("/api/v1/waivers?service=component:default/search").json["items"]
    assert [(w["id"], w["source"], w["state"]) for w in listed] == [(None, "config", "active")]


def test_a_rescan_stores_a_verdict_that_counts_the_waiver(api, portal):
    _grant(api, portal, _at(days=7))
    stored = scan(portal.app, "search")
    assert stored["level"] == "gold" and next(c for c in stored["checks"] if c["id"] == "resilience.probes")["waived"]


# --------------------------------------------------------------------------- attestations


def _attest(api, portal, user="alice", **body):
    return api.post(
        f"{CHECKOUT}/attestations", headers=token(portal.app, user), json={"check": "review.security", **body}
    )


def test_an_attestation_answers_the_manual_check_until_it_expires(api, portal):
    assert (api.get(f"{CHECKOUT}/scorecard").json["level"], _check(api, CHECKOUT, "review.security")["status"]) == (
        "silver",
        "fail",
    )
    made = _attest(api, portal, answer=True, evidence_url="https://security.example.com/reviews/42")
    assert made.status_code == 201 and made.json["expires_at"] == _at(days=90)  # the check's validity_days
    review = _check(api, CHECKOUT, "review.security")
    assert (review["status"], review["met"]) == ("pass", True)
    assert review["evidence"] == [{"url": "https://security.example.com/reviews/42"}]
    assert "attested yes by alice" in review["summary"]
    assert api.get(f"{CHECKOUT}/scorecard").json["level"] == "gold"

    portal.app.config["PRR_CLOCK"].advance(days=91)
    review = _check(api, CHECKOUT, "review.security")
    assert (review["status"], review["met"]) == ("fail", False) and "expired" in review["summary"]


def test_the_newest_answer_wins(api, portal):
    _attest(api, portal, answer=True, evidence_url="https://security.example.com/reviews/42")
    portal.app.config["PRR_CLOCK"].advance(hours=1)
    _attest(api, portal, answer=False)
    assert _check(api, CHECKOUT, "review.security")["status"] == "fail"
    states = [(a["answer"], a["state"]) for a in api.get(f"{CHECKOUT}/attestations").json["items"]]
    assert states == [(False, "valid"), (True, "superseded")]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"answer": True}, "evidence_url"),
        ({"answer": True, "evidence_url": "javascript:alert(1)"}, "evidence_url"),
        ({"answer": True, "evidence_url": "https://x.example.com/r", "expires": _at(days=91)}, "expires"),
        ({"answer": "yes", "evidence_url": "https://x.example.com/r"}, "answer"),
        ({"answer": False, "check": "resilience.probes"}, "check"),
    ],
)
def test_bad_attestations_are_refused(api, portal, body, field):
    response = _attest(api, portal, **body)
    assert response.status_code == 422 and response.json["field"] == field, response.json


def test_a_manual_check_not_required_at_the_tier_cannot_be_attested_away(api, portal):
    made = api.post(
        f"{SEARCH}/attestations", headers=token(portal.app, "sam"), json={"check": "review.security", "answer": False}
    )
    assert made.status_code == 201
    assert _check(api, SEARCH, "review.security")["status"] == "not_applicable"
