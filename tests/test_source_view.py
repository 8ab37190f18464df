"""The portal's read-only view of a file that evidence cites, for repos without a web UI: shown only
when a stored check result of that service at a scan of that commit cites it, read from git
objects at that commit, escaped, with line anchors; everything else is 404 (410 once the repo is gone)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.portal_fixtures import repo, scan, token
from tests.test_evidence_links import _catalog
from tests.test_pages import LEDGER, get

CATALOG = "catalog-info.yaml"  # ownership.catalog cites it (line 1), whatever state it is in
HOSTILE_CATALOG = """apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ledger
  description: "<script>alert(document.cookie)</script> & friends"
  annotations:
    prr/tier: "0"
spec:
  type: service
  owner: group:default/team-payments
  lifecycle: production
"""


def view(commit: str, path: str, service: str = LEDGER) -> str:
    return f"{service}/source/{commit}/{path}"


def commit_and_scan(portal, tmp_path: Path, files: dict[str, str | bytes]) -> str:
    """Commit ``files`` to the ledger repo, scan it, and return the scanned commit."""
    commit = repo(tmp_path, "ledger").commit(files, "change", days_ago=0.5)
    assert scan(portal.app, "ledger")["source"]["commit"] == commit
    return commit


def test_a_cited_file_is_shown_escaped_with_line_anchors(portal, tmp_path):
    commit = commit_and_scan(portal, tmp_path, {CATALOG: HOSTILE_CATALOG, "src/notes.txt": "not evidence\n"})
    client = portal.app.test_client()

    response = client.get(view(commit, CATALOG))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "&lt;script&gt;alert(document.cookie)&lt;/script&gt; &amp; friends" in html
    assert "<script>" not in html
    assert html.count('<tr id="L') == len(HOSTILE_CATALOG.splitlines())
    assert '<tr id="L1" class="cited"><td class="ln"><a href="#L1">1</a>' in html  # what ownership.catalog cites
    assert '<a href="/checks/ownership.catalog">' in html

    # the same repo, the same commit, a file no check cites: no view of it
    get(client, view(commit, "src/notes.txt"), status=404)


@pytest.mark.parametrize(
    "path",
    [
        "../../../../etc/passwd",
        "deploy/../catalog-info.yaml",
        "./catalog-info.yaml",
        "%2E%2E/%2E%2E/etc/passwd",
        "/etc/passwd",
        "%2Fetc%2Fpasswd",
    ],
)
def test_paths_outside_the_cited_ones_are_404(portal, tmp_path, path):
    commit = commit_and_scan(portal, tmp_path, {CATALOG: HOSTILE_CATALOG})
    response = portal.app.test_client().get(view(commit, path), follow_redirects=True)
    assert response.status_code == 404
    assert "root:" not in response.get_data(as_text=True)


def test_a_cited_symlink_out_of_the_repo_is_not_followed(portal, tmp_path):
    ledger = repo(tmp_path, "ledger")
    (ledger.path / CATALOG).unlink()
    ledger.symlink(CATALOG, "../../../../../../../../etc/passwd")
    commit = ledger.commit(None, "link the catalog", days_ago=0.5)
    scan(portal.app, "ledger")

    page = get(portal.app.test_client(), view(commit, CATALOG))
    assert "leaves the repository; not followed" in page.text
    assert "root:" not in page.text


def test_only_scans_of_that_service_at_that_commit_open_a_file(portal, tmp_path):
    scanned = commit_and_scan(portal, tmp_path, {CATALOG: HOSTILE_CATALOG})
    unscanned = repo(tmp_path, "ledger").commit({CATALOG: HOSTILE_CATALOG + "# later\n"}, "later", days_ago=0.4)
    client = portal.app.test_client()

    get(client, view(scanned, CATALOG))
    get(client, view(unscanned, CATALOG), status=404)
    get(client, view(scanned[:12], CATALOG), status=404)  # a full sha only
    get(client, view(scanned, CATALOG, service="/services/component/default/checkout"), status=404)
    get(client, view(scanned, CATALOG, service="/services/component/default/nosuch"), status=404)


@pytest.mark.parametrize(
    "content, shown",
    [
        (b"\x00\x01\x02 a binary blob", "This file is not shown: it is a binary file."),
        (b"# " + b"x" * (1024 * 1024) + b"\n", "over the 1048576-byte limit"),
        (b"name: caf\xe9 \xff\n", "caf\ufffd \ufffd"),
    ],
)
def test_binary_large_and_invalid_utf8_files(portal, tmp_path, content, shown):
    commit = commit_and_scan(portal, tmp_path, {CATALOG: content})
    page = get(portal.app.test_client(), view(commit, CATALOG))
    assert shown in page.text


def test_a_repo_that_is_gone_is_410(portal, tmp_path):
    commit = commit_and_scan(portal, tmp_path, {CATALOG: HOSTILE_CATALOG})
    shutil.rmtree(tmp_path / "repos" / "ledger")
    response = portal.app.test_client().get(view(commit, CATALOG))
    assert response.status_code == 410
    assert "no longer available" in response.get_data(as_text=True)


def test_a_commit_gone_from_the_repo_is_410(portal, tmp_path):
    commit = commit_and_scan(portal, tmp_path, {CATALOG: HOSTILE_CATALOG})
    shutil.rmtree(tmp_path / "repos" / "ledger")
    repo(tmp_path, "ledger").commit({CATALOG: HOSTILE_CATALOG}, "history rewritten", days_ago=0.2)
    response = portal.app.test_client().get(view(commit, CATALOG))
    assert response.status_code == 410
    assert f"Commit {commit[:12]} is no longer in the repository" in response.get_data(as_text=True)


def test_a_git_url_is_read_from_the_portals_mirror(make_portal, tmp_path):
    names = ("checkout", "ledger", "search", "legacy")
    fleet = [{"repo": f"file://{tmp_path}/repos/{name}"} for name in names]
    portal = make_portal(config_extra={"fleet": fleet, "cache_dir": str(tmp_path / "cache")})
    commit = commit_and_scan(portal, tmp_path, {CATALOG: HOSTILE_CATALOG})  # this scan clones the mirror
    shutil.rmtree(tmp_path / "repos" / "ledger")  # only the mirror holds the commit now
    client = portal.app.test_client()

    page = get(client, view(commit, CATALOG))
    assert "<script>alert(document.cookie)</script> & friends" in page.text
    shutil.rmtree(tmp_path / "cache")
    get(client, view(commit, CATALOG), status=410)


def test_the_view_is_read_like_the_service_page(make_portal, tmp_path):
    portal = make_portal(config_extra={"auth": {"public_reads": False, "roles": {"admin": {"users": ["root"]}}}})
    commit = commit_and_scan(portal, tmp_path, {CATALOG: HOSTILE_CATALOG})
    client = portal.app.test_client()
    get(client, view(commit, CATALOG), status=401)
    get(client, view(commit, CATALOG), headers=token(portal.app, "root"))


def test_evidence_links_to_the_view_without_a_web_ui_and_to_the_web_ui_with_one(portal, tmp_path):
    client = portal.app.test_client()
    commit = commit_and_scan(portal, tmp_path, {CATALOG: HOSTILE_CATALOG})
    page = get(client, LEDGER)
    assert view(commit, "deploy/deployment.yaml#L6") in page.hrefs
    assert view(commit, f"{CATALOG}#L1") in page.hrefs
    get(client, view(commit, "deploy/deployment.yaml"))

    web = "https://github.com/acme/ledger"
    commit = commit_and_scan(portal, tmp_path, {CATALOG: _catalog({"github.com/project-slug": "acme/ledger"})})
    hrefs = get(client, LEDGER).hrefs
    assert f"{web}/blob/{commit}/deploy/deployment.yaml#L6" in hrefs
    assert not [h for h in hrefs if "/source/" in h]
