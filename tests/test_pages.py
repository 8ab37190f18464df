"""The HTML pages against the scanned fleet of tests/portal_fixtures.py (see its table).

Forms are exercised as a browser would: GET the page, take the CSRF token from the form, POST it
back with the same session. Identity comes from API tokens (the pages accept the same identities
as the API; in production it is the auth proxy's header).
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markupsafe import Markup

from prr import reads
from prr.config import load_config
from prr.status import record_scan
from prr.storage.db import migrate
from prr.web import appstate, charts, create_app, pages, render
from tests.portal_fixtures import SESSION_NOW, ApiClient, build_app, token

CHECKOUT = "/services/component/default/checkout"
LEDGER = "/services/component/default/ledger"
LEGACY = "/services/component/default/legacy"


class Page(HTMLParser):
    """What the tests look at in a page: text, links, table rows of the services table, forms."""

    def __init__(self, html: str):
        super().__init__()
        self.hrefs: list[str] = []
        self.csrf: list[str] = []
        self.hidden: dict[str, str] = {}  # the forms' other hidden fields (the sign-off's status version and key)
        self.services: list[str] = []  # names in the services table, in order
        self.text_parts: list[str] = []
        self._in_row_header = False
        self._in_services = False
        self.feed(html)
        self.text = re.sub(r"\s+", " ", " ".join(self.text_parts))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href") is not None:
            self.hrefs.append(a["href"])
            if self._in_row_header and "/services/" in a["href"]:
                self.services.append(a["href"].rsplit("/", 1)[-1])
        if tag == "input" and a.get("name") == "csrf_token":
            self.csrf.append(a["value"] or "")
        elif tag == "input" and a.get("type") == "hidden" and a.get("name"):
            self.hidden[a["name"] or ""] = a.get("value") or ""
        if tag == "table" and "services" in (a.get("class") or ""):
            self._in_services = True
        if tag == "th" and a.get("scope") == "row" and self._in_services:
            self._in_row_header = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "th":
            self._in_row_header = False
        if tag == "table":
            self._in_services = False

    def handle_data(self, data: str) -> None:
        self.text_parts.append(data)


def get(client: Any, url: str, status: int = 200, **kwargs: Any) -> Page:
    response = client.get(url, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "text/html"
    return Page(response.get_data(as_text=True))


def post_form(client: Any, page_url: str, action: str, data: dict[str, str], headers: dict[str, str]) -> Any:
    """Load the page (for the CSRF token of the session and the forms' hidden fields), then submit
    ``data`` to ``action``."""
    page = get(client, page_url, headers=headers)
    assert page.csrf, "the page shows no form to this user"
    return client.post(action, data={**page.hidden, "csrf_token": page.csrf[0], **data}, headers=headers)


@pytest.fixture
def client(portal):
    return portal.app.test_client()


def test_the_fleet_summary_tiles_all_read_percent_ready_with_n_of_m_below(client):
    html = client.get("/").get_data(as_text=True)
    tiles = re.findall(r'<div class="tile">(.*?)</div>', html, re.S)
    assert len(tiles) > 1
    for tile in tiles:
        value = re.search(r'<p class="value">(.*?)</p>', tile, re.S).group(1)
        note = re.sub(r"<[^>]+>", " ", re.search(r'<p class="note[^"]*">(.*?)</p>', tile, re.S).group(1))
        assert re.fullmatch(r"\d+(\.\d)?% <small>ready</small>|—", value.strip()), value
        assert re.search(r"\b\d+ of \d+\s*$", note), note


# --------------------------------------------------------------------------- every page renders


@pytest.mark.parametrize(
    "url, expected",
    [
        (
            "/",
            [
                "Fleet readiness",
                "4 services scanned",
                "Tier-0",
                "Regressions in the last 7 days",
                "ledger",
                "Workloads run more than one replica",
                "50% ready",
                "2 of 4",
            ],
        ),
        (
            CHECKOUT,
            [
                "checkout",
                "Ready",
                "silver",
                "88.9",
                "team-payments",
                "Security review done",
                "History",
                "Tier-1 requires silver",
            ],
        ),
        (
            LEDGER,
            ["Not ready", "bronze", "Tier-0 requires gold", "Next steps to", "deploy/deployment.yaml:6", "replicas: 1"],
        ),
        (LEGACY, ["no level", "no owner", "Service is in the software catalog", "blocking"]),
        (
            LEDGER + "/review",
            [
                "Launch review: ledger",
                "Blocking items",
                "3 items block the launch",
                "Waivers in force",
                "Past decisions",
                "No decision recorded yet",
            ],
        ),
        (CHECKOUT + "/review", ["Nothing blocks the launch", "Not blocking: unmet above silver"]),
        ("/teams", ["team-payments", "team-search", "no owner"]),
        (
            "/teams/team-payments",
            ["team-payments", "2 services, 1 ready", "Unmet checks across the team", "ledger", "checkout"],
        ),
        ("/checks", ["In the scorecard", "ownership.catalog", "resilience.probes", "Security review done"]),
        (
            "/checks/resilience.probes",
            [
                "Containers have readiness and liveness probes",
                "How to meet it",
                "Services that do not meet it",
                "ledger",
                "search",
            ],
        ),
    ],
)
def test_page_renders(client, url, expected):
    page = get(client, url)
    missing = [text for text in expected if text not in page.text]
    assert not missing, f"{url} lacks {missing}"


@pytest.mark.parametrize(
    "url, text",
    [
        ("/services/component/default/nope", "No scanned service component:default/nope."),
        ("/services/component/default/nope/review", "No scanned service component:default/nope."),
        ("/checks/no.such-check", "No installed check no.such-check."),
        ("/teams/team-nobody", "No scanned service names team-nobody as its owner."),
    ],
)
def test_unknown_things_are_a_404_page(client, url, text):
    assert text in get(client, url, status=404).text


def test_entity_ref_is_case_insensitive_in_the_path(client):
    assert "checkout" in get(client, "/services/Component/Default/Checkout").text


# --------------------------------------------------------------------------- overview: filters and sorting


@pytest.mark.parametrize(
    "query, names",
    [
        ("", ["checkout", "ledger", "legacy", "search"]),
        ("?tier=1", ["checkout", "legacy"]),
        ("?owner=team-payments", ["checkout", "ledger"]),
        ("?level=bronze", ["ledger", "search"]),
        ("?level=none", ["legacy"]),
        ("?ready=yes", ["checkout", "search"]),
        ("?ready=no&owner=team-payments", ["ledger"]),
        ("?q=LED", ["ledger"]),
        ("?sort=score&dir=desc", ["checkout", "search", "ledger", "legacy"]),
        ("?sort=score", ["legacy", "ledger", "search", "checkout"]),
        ("?sort=level&dir=desc", ["checkout", "ledger", "search", "legacy"]),
        ("?sort=bogus", ["checkout", "ledger", "legacy", "search"]),
        ("?tier=7", []),
    ],
)
def test_overview_filters_and_sorts_by_query_parameters(client, query, names):
    page = get(client, "/" + query)
    assert page.services == names
    if not names:
        assert "No services match" in page.text


def test_overview_pages_through_a_large_fleet(client, monkeypatch):
    monkeypatch.setattr(pages, "PER_PAGE", 3)
    first = get(client, "/?sort=name")
    assert first.services == ["checkout", "ledger", "legacy"] and "page 1 of 2" in first.text
    next_page = next(h for h in first.hrefs if "page=2" in h)
    assert "sort=name" in next_page
    assert get(client, next_page).services == ["search"]


@pytest.mark.parametrize(
    "config_text, status, text",
    [
        ("scorecard: production-readiness\n", 200, "No scans yet"),
        ("scorecard: missing.yaml\n", 503, "Scorecard unavailable"),
    ],
)
def test_a_portal_without_scans_or_scorecard_says_so(tmp_path, config_text, status, text):
    config_file = tmp_path / "prr.yaml"
    config_file.write_text(f"database_url: sqlite:///{tmp_path / 'empty.db'}\n" + config_text)
    config = load_config(config_file)
    migrate(config.database_url)
    client = create_app(config, TESTING=True).test_client()
    assert text in get(client, "/", status=status).text


def test_sort_links_keep_the_filters_and_flip_the_direction(client):
    page = get(client, "/?tier=1&sort=score")
    score_link = next(h for h in page.hrefs if "sort=score" in h and "dir=" in h)
    assert "tier=1" in score_link and "dir=desc" in score_link


def test_overview_marks_the_regressed_service(client):
    html = client.get("/").get_data(as_text=True)
    html = html[html.index('<table class="services"') :]
    ledger_row = html[html.index('href="/services/component/default/ledger"') :][:600]
    assert "regressed" in ledger_row
    checkout_row = html[html.index('href="/services/component/default/checkout"') :][:600]
    assert "regressed" not in checkout_row


# --------------------------------------------------------------------------- untrusted content


def _hostile_report(portal) -> dict[str, Any]:
    """The checkout scan with every repo-supplied string replaced by something hostile."""
    ctx = appstate.context(portal.app)
    report = copy.deepcopy(reads.scan_scorecard(ctx, reads.service(ctx, portal.refs["checkout"])["scan_id"]))
    report["service"].update(
        ref="component:default/hostile", name="<i>hostile</i>", owner="<script>alert('owner')</script>"
    )
    report["source"]["repo"] = "javascript:alert('repo')//"
    entry = report["checks"][0]
    entry.update(
        status="fail",
        met=False,
        summary="<script>alert('summary')</script>",
        evidence=[
            {"path": '"><img src=x onerror=alert(1)>', "line": 3},
            {"url": "javascript:alert('evidence')"},
            {"url": "https://example.com/ok", "value": "<b>value</b>"},
        ],
        remediation="<b>raw html</b> [click](javascript:alert('md')) and [docs](https://example.com/d)",
        docs_url="javascript:alert('docs')",
    )
    return report


def test_repo_supplied_text_is_escaped_and_links_are_only_http(portal):
    record_scan(appstate.context(portal.app), _hostile_report(portal))
    client = portal.app.test_client()
    for url in [
        "/services/component/default/hostile",
        "/services/component/default/hostile/review",
        "/",
        "/checks/ownership.catalog",
    ]:
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>raw html</b>" not in html, url
        hrefs = Page(html).hrefs
        assert not [h for h in hrefs if h.strip().lower().startswith(("javascript:", "data:", "vbscript:"))], url
    html = client.get("/services/component/default/hostile").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#39;summary&#39;)&lt;/script&gt;" in html
    assert "&lt;b&gt;raw html&lt;/b&gt;" in html  # Markdown with html disabled shows tags as text
    assert 'href="https://example.com/d"' in html and 'href="https://example.com/ok"' in html


@pytest.mark.parametrize(
    "location, expected",
    [
        ("https://github.com/acme/checkout.git", "https://github.com/acme/checkout"),
        ("https://gitlab.example.com/group/sub/checkout", "https://gitlab.example.com/group/sub/checkout"),
        ("git@github.com:acme/checkout.git", "https://github.com/acme/checkout"),
        ("ssh://git@git.example.com:2222/acme/checkout.git", "https://git.example.com/acme/checkout"),
        ("http://git.internal:3000/acme/checkout", "http://git.internal:3000/acme/checkout"),
        ("/srv/repos/checkout", None),
        ("file:///srv/repos/checkout", None),
        ("javascript:alert(1)", None),
        ("https://github.com/", None),
    ],
)
def test_repo_web_url(location, expected):
    assert render.repo_web_url(location) == expected


@pytest.mark.parametrize(
    "web, path, line, expected",
    [
        (
            "https://github.com/acme/app",
            "deploy/dep.yaml",
            14,
            "https://github.com/acme/app/blob/abc/deploy/dep.yaml#L14",
        ),
        ("https://gitlab.com/acme/app", "a b.yaml", None, "https://gitlab.com/acme/app/-/blob/abc/a%20b.yaml"),
        ("https://bitbucket.org/acme/app", "x.yaml", 2, "https://bitbucket.org/acme/app/src/abc/x.yaml#lines-2"),
        ("https://github.com/acme/app", "../../etc/passwd", 1, None),
        ("https://github.com/acme/app", "/etc/passwd", 1, None),
        (None, "deploy/dep.yaml", 14, None),
    ],
)
def test_evidence_file_links(web, path, line, expected):
    assert render.file_url(web, "abc", path, line) == expected


def test_evidence_links_to_the_repo_web_ui_only_for_a_web_repo(portal):
    report = copy.deepcopy(
        reads.scan_scorecard(
            appstate.context(portal.app), reads.service(appstate.context(portal.app), portal.refs["ledger"])["scan_id"]
        )
    )
    report["source"]["repo"] = "https://github.com/acme/ledger.git"
    report["service"].update(ref="component:default/ledger-web", name="ledger-web")
    record_scan(appstate.context(portal.app), report)
    client = portal.app.test_client()
    commit = report["source"]["commit"]
    web = get(client, "/services/component/default/ledger-web")
    assert f"https://github.com/acme/ledger/blob/{commit}/deploy/deployment.yaml#L6" in web.hrefs
    local = get(client, LEDGER)
    assert "deploy/deployment.yaml:6" in local.text
    # a local repo has no web UI: its evidence opens in the portal's own view of the file
    assert f"{LEDGER}/source/{commit}/deploy/deployment.yaml#L6" in local.hrefs
    assert not [h for h in local.hrefs if "deployment.yaml" in h and not h.startswith(f"{LEDGER}/source/{commit}/")]


@pytest.mark.parametrize(
    "text, present, absent",
    [
        ("Add a `readinessProbe`:\n\n```yaml\nspec: {}\n```", ["<code>readinessProbe</code>", "<pre><code"], []),
        ("<script>x</script>", ["&lt;script&gt;"], ["<script>"]),
        ("[a](javascript:alert(1))", [], ["href"]),
        (
            "[a](https://ok.example/x) <https://auto.example/>",
            ['href="https://ok.example/x"', 'href="https://auto.example/"', 'rel="noopener noreferrer"'],
            [],
        ),
    ],
)
def test_markdown_is_rendered_safely(text, present, absent):
    html = render.markdown(text)
    assert isinstance(html, Markup)
    assert all(p in html for p in present) and not any(a in html for a in absent), html


# --------------------------------------------------------------------------- charts


def test_history_chart_escapes_and_marks_readiness():
    base = datetime(2026, 11, 1, tzinfo=UTC)
    points = [
        charts.HistoryPoint(base, 50.0, "bronze", False, label="<x>"),
        charts.HistoryPoint(base + timedelta(days=3), None, None, False),
        charts.HistoryPoint(base + timedelta(days=9), 90.0, "silver", True),
    ]
    svg = str(charts.history_chart(points, 'Score of "<svc>"'))
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "<x>" not in svg and "&lt;x&gt;" in svg and "&lt;svc&gt;" in svg
    assert svg.count('class="point ready"') == 1 and svg.count('class="point not-ready"') == 2
    assert ">no level<" in svg and ">silver<" in svg  # the level named where it changes


@pytest.mark.parametrize(
    "values, circles, lines", [([], 0, 0), ([None], 0, 0), ([40.0], 1, 0), ([40.0, None, 80.0], 1, 1)]
)
def test_sparkline(values, circles, lines):
    svg = str(charts.sparkline(values, "trend"))
    assert svg.count("<circle") == circles and svg.count("<polyline") == lines


def test_history_chart_without_scans_says_so():
    assert "No scans yet" in charts.history_chart([], "empty")


# --------------------------------------------------------------------------- forms


def test_writes_need_an_identity_and_a_csrf_token(portal, client):
    anonymous = get(client, LEDGER)
    assert "Sign in (with an API token" in anonymous.text and "Grant a waiver" not in anonymous.text
    assert client.post(LEDGER + "/signoffs", data={"decision": "go"}).status_code == 400  # no CSRF token
    response = client.post(LEDGER + "/signoffs", data={"decision": "go", "csrf_token": anonymous.csrf[0]})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "user, shown, status",
    [
        ("carol", True, 303),  # approver outside team-payments
        ("root", True, 303),  # admin
        ("dave", False, 403),  # approver, but in team-payments, which owns ledger
        ("alice", False, 403),  # owner, not approver
    ],
)
def test_waiver_form_follows_roles(portal, client, user, shown, status):
    headers = token(portal.app, user)
    page = get(client, LEDGER, headers=headers)
    assert ("Grant a waiver" in page.text) is shown
    response = client.post(
        LEDGER + "/waivers",
        headers=headers,
        data={
            "csrf_token": page.csrf[0],
            "check_id": "resilience.replicas",
            "expires": (appstate.clock(portal.app) + timedelta(days=30)).date().isoformat(),
            "reason": "Scaling back up after the migration",
        },
    )
    assert response.status_code == status


def test_a_granted_waiver_turns_the_check_met_until_it_expires_and_can_be_revoked(portal, client):
    carol = token(portal.app, "carol")
    expires = (appstate.clock(portal.app) + timedelta(days=10)).date()
    response = post_form(
        client,
        LEDGER,
        LEDGER + "/waivers",
        {
            "check_id": "resilience.probes",
            "expires": expires.isoformat(),
            "reason": "Probes land with the <b>next</b> release",
        },
        carol,
    )
    assert response.status_code == 303 and response.location.endswith(LEDGER + "#waivers")
    page = get(client, LEDGER, headers=carol)
    assert f"Waiver of resilience.probes granted until {expires}" in page.text
    assert f"Waived by carol until {expires}" in page.text and "Probes land with the <b>next</b> release" in page.text
    assert "1 check passes only by waiver" in get(client, LEDGER + "/review").text

    portal.app.config["PRR_CLOCK"].advance(days=12)
    assert "Waived by carol" not in get(client, LEDGER).text and "expired" in get(client, LEDGER).text

    portal.app.config["PRR_CLOCK"].advance(days=-12)
    waiver_id = reads.waivers(appstate.context(portal.app), ref=portal.refs["ledger"])[0]["id"]
    response = post_form(client, LEDGER, f"{LEDGER}/waivers/{waiver_id}/revoke", {}, carol)
    assert response.status_code == 303
    page = get(client, LEDGER, headers=carol)
    assert "Waived by carol" not in page.text and "revoked" in page.text and "by carol" in page.text


REASON = "Replicas come back after the datacenter move"


@pytest.mark.parametrize(
    "data, error",
    [
        ({"check_id": "resilience.probes", "expires": "", "reason": REASON}, "Choose the day the waiver ends."),
        ({"check_id": "resilience.probes", "expires": "2000-01-01", "reason": REASON}, "after today"),
        ({"check_id": "resilience.probes", "expires": "2099-01-01", "reason": REASON}, "at most 180 days"),
        ({"check_id": "no.such", "expires": "2099-01-01", "reason": REASON}, "Not a valid choice"),
        ({"check_id": "resilience.probes", "expires": "2099-01-01", "reason": ""}, "Say why the check is waived."),
        ({"check_id": "resilience.probes", "expires": "2099-01-01", "reason": "because"}, "Give a reason of 10"),
    ],
)
def test_a_bad_waiver_form_comes_back_with_the_error_on_its_field(portal, client, data, error):
    response = post_form(client, LEDGER, LEDGER + "/waivers", data, token(portal.app, "carol"))
    assert response.status_code == 422
    assert error in Page(response.get_data(as_text=True)).text


def test_attesting_a_manual_check_on_the_review_page(portal, client):
    alice = token(portal.app, "alice")
    review = get(client, CHECKOUT + "/review", headers=alice)
    assert "Answer a manual check" in review.text and "Record answer" in review.text
    refused = post_form(
        client,
        CHECKOUT + "/review",
        CHECKOUT + "/attestations",
        {"check_id": "review.security", "answer": "yes", "evidence_url": "javascript:alert(1)"},
        alice,
    )
    assert refused.status_code == 422 and "Give an http(s) link." in Page(refused.get_data(as_text=True)).text
    response = post_form(
        client,
        CHECKOUT + "/review",
        CHECKOUT + "/attestations",
        {"check_id": "review.security", "answer": "yes", "evidence_url": "https://security.example.com/reviews/42"},
        alice,
    )
    assert response.status_code == 303
    page = get(client, CHECKOUT)
    assert "Answered yes by alice" in page.text and "https://security.example.com/reviews/42" in page.hrefs
    assert "attested yes by alice" in page.text
    assert "Record answer" not in get(client, CHECKOUT + "/review", headers=token(portal.app, "sam")).text


def test_sign_off_is_recorded_on_the_verdict_shown_and_survives_a_restart(portal, client, tmp_path):
    carol = token(portal.app, "carol")
    review = get(client, LEDGER + "/review", headers=carol)
    scan_id = reads.service(appstate.context(portal.app), portal.refs["ledger"])["scan_id"]
    assert f"Record decision on Bronze, not ready (scan #{scan_id})" in review.text
    assert post_form(client, LEDGER + "/review", LEDGER + "/signoffs", {"notes": "x"}, carol).status_code == 422
    response = post_form(
        client,
        LEDGER + "/review",
        LEDGER + "/signoffs",
        {"decision": "no-go", "notes": "Scale back to 3 replicas first"},
        carol,
    )
    assert response.status_code == 303
    [recorded] = reads.signoffs(appstate.context(portal.app), portal.refs["ledger"])
    assert (recorded["level"], recorded["ready"], recorded["scan_id"]) == ("bronze", False, scan_id)

    restarted = build_app(tmp_path, portal.app.config["PRR_CLOCK"]).test_client()
    page = get(restarted, LEDGER + "/review")
    assert "Last decision: ✗ NO-GO by carol" in page.text
    assert "Scale back to 3 replicas first" in page.text and f"#{scan_id}" in page.text


def test_rescan_form_queues_a_scan(portal, client):
    before = len(reads.service_history(appstate.context(portal.app), portal.refs["checkout"]))
    response = post_form(client, CHECKOUT, CHECKOUT + "/rescan", {}, token(portal.app, "alice"))
    assert response.status_code == 303
    assert "Rescan queued" in get(client, CHECKOUT).text
    appstate.shutdown(portal.app)  # waits for the queued scan
    assert len(reads.service_history(appstate.context(portal.app), portal.refs["checkout"])) == before + 1
    assert post_form(client, CHECKOUT, CHECKOUT + "/rescan", {}, token(portal.app, "mallory")).status_code == 403


# --------------------------------------------------------------------------- layout and accessibility


@pytest.mark.parametrize(
    "url", ["/", CHECKOUT, LEDGER + "/review", "/teams/team-payments", "/checks", "/checks/ownership.catalog"]
)
def test_pages_share_one_accessible_layout(portal, client, url):
    html = client.get(url, headers=token(portal.app, "root")).get_data(as_text=True)  # every form shown
    assert '<html lang="en">' in html and 'href="#content"' in html and '<main id="content"' in html
    assert html.count("<h1") == 1
    assert "portal.css" in html and "<script" not in html  # works without JavaScript
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), f"{url}: duplicate ids"
    for tag in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
        field_id = re.search(r'\bid="([^"]+)"', tag)
        if 'type="hidden"' not in tag:
            assert field_id and f'for="{field_id[1]}"' in html, f"{url}: {tag} has no label"


def test_stylesheet_prints_the_review_and_shows_focus():
    css = (Path(__file__).parent.parent / "app" / "static" / "portal.css").read_text()
    assert "@media print" in css and ":focus-visible" in css and ".skip-link:focus" in css


def _days_ahead(days: int) -> str:
    return (SESSION_NOW + timedelta(days=days)).isoformat().replace("+00:00", "Z")


def test_a_sign_off_form_sent_twice_records_one_decision(portal, client):
    carol = token(portal.app, "carol")
    page = get(client, LEDGER + "/review", headers=carol)
    form = {**page.hidden, "csrf_token": page.csrf[0], "decision": "go", "notes": "ship it"}
    statuses = [client.post(LEDGER + "/signoffs", data=form, headers=carol).status_code for _ in range(4)]
    assert statuses == [303] * 4
    assert len(reads.signoffs(appstate.context(portal.app), portal.refs["ledger"])) == 1
    assert "already recorded" in get(client, LEDGER + "/review", headers=carol).text


def test_a_sign_off_on_a_verdict_that_changed_since_the_page_is_refused_with_the_new_one(portal, client):
    carol = token(portal.app, "carol")
    page = get(client, "/services/component/default/search/review", headers=carol)
    ApiClient(portal.app).post(
        "/api/v1/entities/component/default/search/waivers",
        headers=carol,
        json={"check": "resilience.probes", "reason": "probes land next sprint", "expires": _days_ahead(7)},
    )
    form = {**page.hidden, "csrf_token": page.csrf[0], "decision": "go"}
    response = client.post("/services/component/default/search/signoffs", data=form, headers=carol)
    assert response.status_code == 409
    assert "changed since the page was shown: it is now gold, ready" in Page(response.get_data(as_text=True)).text
    assert reads.signoffs(appstate.context(portal.app), portal.refs["search"]) == []
