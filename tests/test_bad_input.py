"""Bad input is refused with a 4xx that says what is wrong, never a 500 with a traceback: out of
range numbers, ids past 64 bits, unknown enum values, deeply nested JSON, text that is not text."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.portal_fixtures import SESSION_NOW, ApiClient, token
from tests.test_pages import LEDGER, post_form

ENTITY = "/api/v1/entities/component/default/ledger"
PAST_64_BITS = str(2**64 + 1)
SOON = (SESSION_NOW + timedelta(days=30)).isoformat()


@pytest.mark.parametrize(
    "method, url, body, status, detail",
    [
        ("GET", "/api/v1/waivers?within_days=999999999", None, 400, "within_days must be between 0 and 3650"),
        ("GET", "/api/v1/waivers?within_days=-1", None, 400, "within_days must be between 0 and 3650"),
        ("GET", f"/api/v1/services?page={PAST_64_BITS}", None, 400, "page must be between 1 and"),
        ("GET", "/api/v1/services?per_page=100000", None, 400, "per_page must be between 1 and 200"),
        ("GET", f"/api/v1/waivers/{PAST_64_BITS}", None, 404, "not found"),
        ("GET", f"/api/v1/scans/{PAST_64_BITS}", None, 404, "not found"),
        ("POST", f"/api/v1/waivers/{PAST_64_BITS}/revoke", {}, 404, "not found"),
        ("POST", ENTITY + "/signoffs", {"decision": "go", "scan_id": 2**64 + 1}, 422, "scan_id is out of range"),
        (
            "POST",
            ENTITY + "/signoffs",
            {"decision": "go", "scan_id": 2**63 - 1},
            409,
            "changed since the page was shown",
        ),
        ("GET", "/api/v1/waivers?state=bogus", None, 400, "state must be one of"),
        ("GET", ENTITY + "/waivers?state=bogus", None, 400, "state must be one of"),
        ("POST", ENTITY + "/waivers", "[" * 100_000 + "]" * 100_000, 400, "nested too deeply"),
        (
            "POST",
            ENTITY + "/waivers",
            {"check": "dr.tested", "reason": "lone \ud800 surrogate in here", "expires": SOON},
            422,
            "not valid Unicode text",
        ),
    ],
)
def test_bad_api_input_is_a_problem_not_a_server_error(portal, method, url, body, status, detail):
    api = ApiClient(portal.app, token(portal.app, "root"))
    data = body if isinstance(body, str) else None if body is None else json.dumps(body)
    response = api.request(method, url, data=data, content_type="application/json" if data else None)
    assert response.status_code == status and response.mimetype == "application/problem+json"
    assert detail.lower() in response.json["detail"].lower()


def test_a_form_with_a_status_version_past_64_bits_records_nothing(portal):
    client, carol = portal.app.test_client(), token(portal.app, "carol")
    review = LEDGER + "/review"
    fields = {"decision": "go", "status_version": str(PAST_64_BITS)}
    response = post_form(client, review, LEDGER + "/signoffs", fields, carol)
    assert response.status_code == 409 and response.mimetype == "text/html"
    assert ApiClient(portal.app).get("/api/v1/entities/component/default/ledger/signoffs").json["items"] == []


def test_a_form_revoking_a_waiver_id_past_64_bits_is_not_found(portal):
    client = portal.app.test_client()
    response = post_form(client, LEDGER, f"{LEDGER}/waivers/{PAST_64_BITS}/revoke", {}, token(portal.app, "carol"))
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_an_overview_page_past_the_last_is_a_page_not_an_error(portal):
    response = portal.app.test_client().get(f"/?page={PAST_64_BITS}")
    assert response.status_code == 200 and response.mimetype == "text/html"
