"""Signing in on the pages with an API token: page views then act as the token's user.

The portal fixture's users (tests/portal_fixtures.py): ``carol`` approver outside team-payments,
``alice`` in team-payments (owner of ledger), ``mallory`` nothing.
"""

from __future__ import annotations

from click.testing import CliRunner

from prr.cli import main
from prr.config import load_config
from prr.demo import create_demo_fleet
from prr.identity import may_approve, may_attest, resolve
from prr.storage.db import migrate
from prr.tokens import create_token, list_tokens, revoke_token, token_user
from tests.portal_fixtures import SESSION_NOW
from tests.test_pages import LEDGER, get

SIGN_IN = "/sign-in"


def _sign_in(client, secret: str, next_url: str = ""):
    page = get(client, SIGN_IN)
    return client.post(SIGN_IN, data={"csrf_token": page.csrf[0], "token": secret, "next": next_url})


def _waiver(client, reason: str = "the replica is pinned while we migrate the ledger"):
    page = get(client, LEDGER)
    data = {"csrf_token": page.csrf[0], "check_id": "resilience.replicas", "expires": "2026-10-10", "reason": reason}
    return client.post(LEDGER + "/waivers", data=data)


def test_a_signed_in_approver_grants_a_waiver_from_the_page_as_themself(portal):
    client = portal.app.test_client()
    secret = create_token(portal.app.extensions["prr.db"], "carol", "browser")
    signed_in = _sign_in(client, secret, next_url=LEDGER)
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == LEDGER
    page = get(client, LEDGER)
    assert "Signed in as carol (approver)" in page.text and "Sign out" in page.text
    assert "Grant a waiver" in page.text
    assert _waiver(client).status_code == 303
    waivers = client.get("/api/v1/waivers").json["items"]
    assert [(w["check"], w["approver"]) for w in waivers if w["source"] != "config"][-1] == (
        "resilience.replicas",
        "carol",
    )


def test_a_signed_in_owner_gets_what_the_roles_allow_and_no_more(portal):
    client = portal.app.test_client()
    _sign_in(client, create_token(portal.app.extensions["prr.db"], "alice", "browser"))
    page = get(client, LEDGER)
    assert "Signed in as alice" in page.text and "Grant a waiver" not in page.text
    assert _waiver(client).status_code == 403  # an owner may not waive their own service's checks


def test_a_bad_token_is_refused_with_a_clear_error_and_signs_nobody_in(portal):
    client = portal.app.test_client()
    refused = _sign_in(client, "prr_not-a-real-token")
    assert refused.status_code == 422
    assert "This token is unknown or revoked" in refused.get_data(as_text=True)
    assert "Read-only: not signed in" in get(client, LEDGER).text


def test_the_sign_in_needs_the_csrf_token(portal):
    client = portal.app.test_client()
    secret = create_token(portal.app.extensions["prr.db"], "carol", "browser")
    assert client.post(SIGN_IN, data={"token": secret}).status_code == 400
    assert "Read-only: not signed in" in get(client, LEDGER).text


def test_sign_out_and_revoking_the_token_both_end_the_sign_in(portal):
    engine = portal.app.extensions["prr.db"]
    client = portal.app.test_client()
    _sign_in(client, create_token(engine, "carol", "browser"))
    page = get(client, LEDGER)
    assert client.post("/sign-out").status_code == 400  # signing out is a form of this site too
    signed_out = client.post("/sign-out", data={"csrf_token": page.csrf[0]})
    assert signed_out.status_code == 303
    assert "Read-only: not signed in" in get(client, LEDGER).text
    assert _waiver(client).status_code == 401

    _sign_in(client, create_token(engine, "carol", "laptop"))
    assert "Signed in as carol" in get(client, LEDGER).text
    revoke_token(engine, next(t.id for t in list_tokens(engine) if (t.user, t.name) == ("carol", "laptop")))
    assert "Read-only: not signed in" in get(client, LEDGER).text


def test_the_api_ignores_a_page_sign_in(portal):
    client = portal.app.test_client()
    _sign_in(client, create_token(portal.app.extensions["prr.db"], "carol", "browser"))
    assert client.get("/api/v1/me").status_code == 401


def test_demo_tokens_sign_in_as_the_demo_approver_and_a_checkout_owner(tmp_path):
    create_demo_fleet(tmp_path, now=SESSION_NOW)
    printed = CliRunner().invoke(main, ["demo", "tokens", str(tmp_path), "--url", "http://127.0.0.1:8080/"])
    assert printed.exit_code == 0, printed.output
    first, *rows = printed.stdout.splitlines()
    assert first == "sign in at http://127.0.0.1:8080/sign-in with:"
    config = load_config(tmp_path / "prr.yaml")
    engine = migrate(config.database_url)
    who = {}
    for row in rows:
        user, secret = row.split()[:2]
        assert token_user(engine, secret) == user
        who[user] = resolve(user, (), config, via="sign-in")
    assert may_approve(who["sre-lead"], "team-checkout") and not may_attest(who["sre-lead"], "team-checkout")
    assert may_attest(who["checkout-dev"], "team-checkout") and not may_approve(who["checkout-dev"], "team-checkout")
