"""Other sites cannot use the portal against its readers: no off-site "reload" links, no framing,
no sniffing, no referrer leaking across sites, and a session cookie that stays on this site."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest

from prr.web.hardening import local_path
from tests.test_auth import PROXY

HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
CSP = ["default-src 'self'", "frame-ancestors 'none'", "base-uri 'self'", "form-action 'self'"]


@pytest.mark.parametrize(
    "target, kept",
    [
        ("/teams?sort=name", True),
        ("/services/component/default/checkout", True),
        ("/\\evil.example", False),
        ("//evil.example", False),
        ("/%5Cevil.example", False),
        ("/%2F%2Fevil.example", False),  # harmless in a browser, but read as //evil.example by some
        ("/%2fevil.example/../%5c%5cx", False),
        ("https://evil.example", False),
        ("javascript:alert(1)", False),
        ("/\tevil", False),
        ("", False),
    ],
)
def test_only_same_site_paths_are_return_targets(target, kept):
    assert local_path(target) == (target if kept else None)


@pytest.mark.parametrize("path", ["/\\evil.example", "//evil.example", "/%5Cevil.example", "/%5C%5Cevil.example"])
def test_a_sign_in_page_never_links_off_site(make_portal, path):
    built = make_portal({"auth": {"public_reads": False, "trusted_proxy": PROXY}})
    # as a server receives it (the test client would read //evil.example as a host)
    response = built.app.test_client().get("/", environ_overrides={"PATH_INFO": unquote(path)})
    assert response.status_code == 401
    for href in re.findall(r'href="([^"]*)"', response.get_data(as_text=True)):
        assert (
            href.startswith(("/", "#")) and not href.startswith("//") and "\\" not in href and "%5c" not in href.lower()
        )


@pytest.mark.parametrize("url", ["/", "/services/component/default/ledger", "/api/v1/services", "/no-such-page"])
def test_every_answer_carries_the_security_headers(portal, url):
    response = portal.app.test_client().get(url)
    for name, value in HEADERS.items():
        assert response.headers[name] == value
    policy = response.headers["Content-Security-Policy"]
    assert all(directive in policy for directive in CSP)


@pytest.mark.parametrize(
    "base_url, https, secure",
    [
        ("http://prr.internal", False, False),
        ("http://prr.internal", True, True),
        ("https://prr.example.com", False, True),
    ],
)
def test_the_session_cookie_is_same_site_and_secure_over_https(make_portal, base_url, https, secure):
    built = make_portal({"portal": {"base_url": base_url}})
    client = built.app.test_client()
    page = client.get(
        "/services/component/default/ledger",
        headers={"Authorization": f"Bearer {_token(built)}"},
        base_url="https://localhost" if https else "http://localhost",
    )
    [cookie] = page.headers.getlist("Set-Cookie")  # the form's CSRF secret
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie and ("; Secure" in cookie) is secure


def _token(built) -> str:
    from tests.portal_fixtures import token

    return token(built.app, "carol")["Authorization"].removeprefix("Bearer ")
