"""Identity (API tokens, trusted proxy header) and roles (admin, approver, owner) on every write."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from prr.cli import main
from prr.config import load_config
from prr.plugin import ConfigError
from prr.storage.models import ApiToken, AuditEntry
from prr.tokens import list_tokens, revoke_token
from tests.portal_fixtures import SESSION_NOW, ApiClient, token

ENTITY = "/api/v1/entities/component/default/{}"


def _expires(days: int = 30) -> str:
    return (SESSION_NOW + timedelta(days=days)).isoformat().replace("+00:00", "Z")


WRITES = {
    "waiver": lambda svc: (
        "POST",
        ENTITY.format(svc) + "/waivers",
        {"check": "resilience.probes", "reason": "probes land in the next sprint", "expires": _expires()},
    ),
    "attest": lambda svc: (
        "POST",
        ENTITY.format(svc) + "/attestations",
        {"check": "review.security", "answer": True, "evidence_url": "https://sec.example.com/r/1"},
    ),
    "signoff": lambda svc: ("POST", ENTITY.format(svc) + "/signoffs", {"decision": "go"}),
    "rescan": lambda svc: ("POST", ENTITY.format(svc) + "/scans", None),
}


@pytest.fixture
def api(portal) -> ApiClient:
    return ApiClient(portal.app)


def _write(api: ApiClient, action: str, service: str, headers: dict[str, str]):
    method, url, body = WRITES[action](service)
    return (
        api.request(method, url, headers=headers, json=body)
        if body is not None
        else api.request(method, url, headers=headers)
    )


@pytest.mark.parametrize("action", sorted(WRITES))
def test_writes_without_identity_are_401(api, action):
    response = _write(api, action, "checkout", {})
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("action", sorted(WRITES))
@pytest.mark.parametrize("header", ["Bearer prr_not-a-real-token", "Basic YWxpY2U6c2VjcmV0", "Bearer "])
def test_writes_with_a_bad_token_are_401(api, action, header):
    assert _write(api, action, "checkout", {"Authorization": header}).status_code == 401


# user, action, service (checkout and ledger: team-payments; search: team-search) -> status
@pytest.mark.parametrize(
    "user, action, service, status",
    [
        ("carol", "waiver", "checkout", 201),  # approver, no team
        ("dave", "waiver", "checkout", 403),  # approver, but in team-payments
        ("dave", "waiver", "search", 201),  # approver outside team-search
        ("alice", "waiver", "checkout", 403),  # owner only
        ("root", "waiver", "checkout", 201),  # admin
        ("mallory", "waiver", "search", 403),  # nobody
        ("alice", "attest", "checkout", 201),  # owner
        ("dave", "attest", "ledger", 201),  # owner (and approver)
        ("sam", "attest", "checkout", 403),  # another team's owner
        ("carol", "attest", "checkout", 403),  # approvers do not answer for owners
        ("root", "attest", "checkout", 201),
        ("carol", "signoff", "ledger", 201),
        ("dave", "signoff", "ledger", 403),  # own team's launch
        ("alice", "signoff", "checkout", 403),
        ("root", "signoff", "checkout", 201),
        ("alice", "rescan", "checkout", 202),
        ("carol", "rescan", "checkout", 202),
        ("sam", "rescan", "checkout", 403),
        ("mallory", "rescan", "checkout", 403),
    ],
)
def test_roles(api, portal, user, action, service, status):
    response = _write(api, action, service, token(portal.app, user))
    assert response.status_code == status, response.json
    if status == 403:
        assert user in response.json["detail"]


def test_forbidden_approver_is_told_why(api, portal):
    response = _write(api, "waiver", "checkout", token(portal.app, "dave"))
    assert "belongs to team-payments" in response.json["detail"]


def test_every_write_is_audited(api, portal):
    for user, action, service in [
        ("carol", "waiver", "search"),
        ("alice", "attest", "checkout"),
        ("carol", "signoff", "ledger"),
    ]:
        _write(api, action, service, token(portal.app, user))
    with Session(portal.app.extensions["prr.db"]) as session:
        entries = [(e.actor, e.action, e.target) for e in session.exec(select(AuditEntry).order_by(AuditEntry.id))]
    assert entries == [
        ("carol", "waiver.grant", "component:default/search#resilience.probes"),
        ("alice", "attestation.create", "component:default/checkout#review.security"),
        ("carol", "signoff.create", "component:default/ledger"),
    ]
    assert [e["action"] for e in api.get("/api/v1/audit", headers=token(portal.app, "root")).json["items"]] == [
        "signoff.create",
        "attestation.create",
        "waiver.grant",
    ]
    assert api.get("/api/v1/audit", headers=token(portal.app, "carol")).status_code == 403


def test_token_is_stored_hashed_and_can_be_revoked(api, portal):
    headers = token(portal.app, "alice")
    secret = headers["Authorization"].removeprefix("Bearer ")
    engine = portal.app.extensions["prr.db"]
    with Session(engine) as session:
        stored = session.exec(select(ApiToken).where(ApiToken.user == "alice")).one()
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest() and secret not in stored.token_hash
    assert api.get("/api/v1/me", headers=headers).json == {
        "user": "alice",
        "groups": ["team-payments"],
        "roles": [],
        "via": "token",
    }
    revoke_token(engine, stored.id)
    assert api.get("/api/v1/me", headers=headers).status_code == 401


def test_cli_token_create_prints_a_working_secret_once(portal, tmp_path: Path):
    result = CliRunner().invoke(
        main, ["token", "create", "--user", "root", "--name", "ci", "--config", str(tmp_path / "prr.yaml")]
    )
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    me = ApiClient(portal.app).get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).json
    assert me["user"] == "root" and me["roles"] == ["admin"]
    listed = CliRunner().invoke(main, ["token", "list", "--config", str(tmp_path / "prr.yaml")])
    assert "ci" in listed.stdout and secret not in listed.stdout


def test_a_second_active_token_of_the_same_name_is_refused(portal, tmp_path: Path):
    def create(user: str, name: str = "ci"):
        args = ["token", "create", "--user", user, "--name", name, "--config", str(tmp_path / "prr.yaml")]
        return CliRunner().invoke(main, args)

    assert create("root").exit_code == 0
    again = create("root")
    assert again.exit_code == 2 and again.stdout == ""
    assert "root already has an active token named 'ci'" in again.stderr and "revoke" in again.stderr
    assert create("alice").exit_code == 0  # names are per user
    engine = portal.app.extensions["prr.db"]
    revoke_token(engine, next(t.id for t in list_tokens(engine) if (t.user, t.name) == ("root", "ci")))
    assert create("root").exit_code == 0  # a revoked token's name is free again


PROXY = {"header": "X-Forwarded-User", "groups_header": "X-Forwarded-Groups", "addresses": ["127.0.0.1", "10.9.0.0/16"]}


def _proxied(make_portal, **auth) -> ApiClient:
    settings = {
        "roles": {"admin": {"users": ["root"]}, "approver": {"groups": ["group:default/prr-approvers"]}},
        **auth,
    }
    return ApiClient(make_portal({"auth": settings}).app)


@pytest.mark.parametrize(
    "remote, trusted", [("127.0.0.1", True), ("10.9.4.2", True), ("10.8.0.1", False), ("192.0.2.7", False)]
)
def test_proxy_header_is_believed_only_from_trusted_addresses(make_portal, remote, trusted):
    api = _proxied(make_portal, trusted_proxy=PROXY)
    response = api.get(
        "/api/v1/me",
        headers={"X-Forwarded-User": "erin", "X-Forwarded-Groups": "team-search, ops"},
        environ_base={"REMOTE_ADDR": remote},
    )
    if trusted:
        assert response.json == {"user": "erin", "groups": ["ops", "team-search"], "roles": [], "via": "proxy"}
    else:
        assert response.status_code == 401


def test_proxy_header_is_ignored_when_the_proxy_is_not_configured(make_portal):
    api = _proxied(make_portal)
    assert api.get("/api/v1/me", headers={"X-Forwarded-User": "root"}).status_code == 401


@pytest.mark.parametrize("auth", [{}, {"trusted_proxy": PROXY}])
def test_a_signed_out_page_offers_the_token_sign_in_with_or_without_a_proxy(make_portal, auth):
    built = make_portal({"auth": auth})
    html = built.app.test_client().get("/services/component/default/ledger").get_data(as_text=True)
    assert "Sign in (with an API token, or through your organisation&#39;s auth proxy)" in html
    assert 'href="/sign-in?next=/services/component/default/ledger"' in html


def test_proxy_groups_give_ownership_and_roles(make_portal):
    api = _proxied(make_portal, trusted_proxy=PROXY)
    owner = {"X-Forwarded-User": "erin", "X-Forwarded-Groups": "group:default/team-search"}
    approver = {"X-Forwarded-User": "pat", "X-Forwarded-Groups": "prr-approvers"}
    assert api.post(ENTITY.format("search") + "/scans", headers=owner, json={}).status_code == 202
    assert api.post(ENTITY.format("search") + "/signoffs", headers=owner, json={"decision": "go"}).status_code == 403
    assert api.post(ENTITY.format("search") + "/signoffs", headers=approver, json={"decision": "go"}).status_code == 201


def test_closed_reads_need_an_identity_but_health_and_metrics_stay_open(make_portal):
    built = make_portal({"auth": {"public_reads": False}})
    api = ApiClient(built.app)
    assert api.get("/api/v1/services").status_code == 401
    assert api.get("/api/v1/services", headers=token(built.app, "mallory")).status_code == 200
    assert api.get("/healthz").status_code == 200 and api.get("/metrics").status_code == 200
    browser = built.app.test_client()  # a sign-in page needs its icon too
    icon = browser.get("/favicon.ico")
    assert icon.status_code == 301 and icon.headers["Location"] == "/static/favicon.svg"
    assert browser.get("/static/favicon.svg").mimetype == "image/svg+xml"


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/services/component/default/ledger",
        "/services/component/default/ledger/review",
        "/teams",
        "/checks/resilience.replicas",
        "/no-such-page?x=1",
    ],
)
def test_closed_reads_answer_a_signed_out_page_view_with_an_html_sign_in_page(make_portal, url):
    built = make_portal({"auth": {"public_reads": False, "trusted_proxy": PROXY}})
    client = built.app.test_client()
    response = client.get(url)
    assert response.status_code == 401 and response.mimetype == "text/html"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    html = response.get_data(as_text=True)
    assert "<h1>Sign in required</h1>" in html
    assert "checkout" not in html and "team-payments" not in html  # nothing of the fleet
    assert f'href="{url}"' in html.replace("&amp;", "&")  # a way back once signed in
    signed_in = client.get(url, headers={"X-Forwarded-User": "mallory"})
    assert signed_in.status_code == (404 if "no-such" in url else 200) and signed_in.mimetype == "text/html"


@pytest.mark.parametrize(
    "path, public_reads, mimetype",
    [
        ("/services/component/default/ledger", True, "text/html"),
        ("/services/component/default/ledger", False, "text/html"),
        (ENTITY.format("ledger"), False, "application/problem+json"),
        (ENTITY.format("ledger") + "/scans", True, "application/problem+json"),
    ],
)
def test_a_refused_token_gets_a_page_or_a_problem_by_where_it_was_sent(make_portal, path, public_reads, mimetype):
    built = make_portal({"auth": {"public_reads": public_reads}})
    method = "POST" if path.endswith("/scans") else "GET"
    response = built.app.test_client().open(
        path, method=method, headers={"Authorization": "Bearer prr_revoked-or-made-up"}
    )
    assert response.status_code == 401 and response.mimetype == mimetype
    assert "unknown or revoked API token" in response.get_data(as_text=True)


def test_api_writes_need_no_csrf_token_but_forms_do(portal):
    client = portal.app.test_client()
    form = client.post(
        "/services/component/default/ledger/signoffs", data={"decision": "go"}, headers=token(portal.app, "carol")
    )
    assert form.status_code == 400  # refused for the missing CSRF token before anything else
    api = client.post(
        ENTITY.format("ledger") + "/signoffs", json={"decision": "go"}, headers=token(portal.app, "carol")
    )
    assert api.status_code == 201


@pytest.mark.parametrize("url", [ENTITY.format("search") + "/scans", "/api/v1/waivers/1/revoke"])
def test_proxy_writes_without_a_json_body_are_refused(make_portal, url):
    """A cross-site form riding the browser's proxy session cannot send JSON, so it cannot write."""
    api = _proxied(make_portal, trusted_proxy=PROXY)
    as_form = api.post(url, headers={"X-Forwarded-User": "root"}, data={"x": "1"})
    bare = api.post(url, headers={"X-Forwarded-User": "root"})
    assert as_form.status_code == bare.status_code == 415


# --------------------------------------------------------------------------- group names


@pytest.mark.parametrize(
    "groups, roles",
    [
        ("platform-admins", ["admin"]),
        ("group:default/platform-admins", ["admin"]),
        ("default/platform-admins", ["admin"]),
        ("mallory-sandbox/subgroup/platform-admins", []),  # another group, however its tail reads
        ("mallory-sandbox/platform-admins", []),
        ("group:mallory-sandbox/platform-admins", []),
        ("PLATFORM-ADMINS", []),  # case-sensitive
        ("platform-admins-not", []),
        ("root", []),  # a group named like an admin user is not that user
    ],
)
def test_a_group_grants_a_role_only_by_its_whole_name(make_portal, groups, roles):
    api = _proxied(
        make_portal, trusted_proxy=PROXY, roles={"admin": {"users": ["root"], "groups": ["platform-admins"]}}
    )
    me = api.get("/api/v1/me", headers={"X-Forwarded-User": "mallory", "X-Forwarded-Groups": groups})
    assert me.status_code == 200 and me.json["roles"] == roles


def test_a_user_named_like_a_group_gains_nothing(make_portal):
    api = _proxied(make_portal, trusted_proxy=PROXY)
    assert api.get("/api/v1/me", headers={"X-Forwarded-User": "prr-approvers"}).json["roles"] == []


def test_a_proxy_group_in_another_namespace_does_not_own_a_service(make_portal):
    api = _proxied(make_portal, trusted_proxy=PROXY)
    impostor = {"X-Forwarded-User": "mallory", "X-Forwarded-Groups": "mallory-sandbox/team-search"}
    assert api.post(ENTITY.format("search") + "/scans", headers=impostor, json={}).status_code == 403


def test_the_flat_role_list_is_refused_with_a_hint(tmp_path: Path):
    config = tmp_path / "prr.yaml"
    config.write_text("auth:\n  roles:\n    admin: [root, sre]\n")
    with pytest.raises(ConfigError, match=r"prr.yaml:3: at auth/roles/admin: .*\{users: \[alice\], groups"):
        load_config(config)
