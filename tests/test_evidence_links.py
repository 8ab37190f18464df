"""Evidence links into the repo's web UI when the fleet entry is a local path: from the catalog's
``backstage.io/source-location`` or ``github.com/project-slug`` annotation, at the scanned commit."""

from __future__ import annotations

import pytest

from prr import schemas
from prr.web import render
from tests.portal_fixtures import repo, scan
from tests.test_pages import LEDGER, get


@pytest.mark.parametrize(
    "value, expected",
    [
        ("url:https://github.com/acme/ledger/tree/main/", "https://github.com/acme/ledger"),
        ("url:https://github.com/acme/ledger", "https://github.com/acme/ledger"),
        ("url:https://github.com/acme/mono/tree/main/services/ledger/", "https://github.com/acme/mono"),
        ("url:https://github.com/acme/ledger/blob/main/catalog-info.yaml", "https://github.com/acme/ledger"),
        ("url:https://gitlab.example.com/pay/core/ledger/-/tree/main/", "https://gitlab.example.com/pay/core/ledger"),
        ("url:https://bitbucket.org/acme/ledger/src/master/", "https://bitbucket.org/acme/ledger"),
        ("url:https://bot:hunter2@ghe.example.com:8443/acme/ledger.git", "https://ghe.example.com:8443/acme/ledger"),
        ("  url:https://github.com/acme/ledger/tree/main/  ", "https://github.com/acme/ledger"),
        ("url:https://github.com/acme/led ger%22/tree/main", "https://github.com/acme/led%20ger%22"),
        ("url:javascript:alert(1)//github.com/acme/ledger", None),
        ("url:data:text/html,<script>alert(1)</script>", None),
        ("url:ftp://files.example.com/acme/ledger", None),
        ("url:https://github.com/", None),
        ("url:https://github.com/acme/../../evil", None),
        ("https://github.com/acme/ledger", None),  # not the annotation's url: form
        ("dir:.", None),
        ("", None),
        (42, None),
        (None, None),
    ],
)
def test_source_location_url(value, expected):
    assert render.source_location_url(value) == expected


@pytest.mark.parametrize(
    "value, expected",
    [
        ("acme/ledger", "https://github.com/acme/ledger"),
        ("acme-corp/ledger.api", "https://github.com/acme-corp/ledger.api"),
        (" acme/ledger ", "https://github.com/acme/ledger"),
        ("acme/ledger.git", "https://github.com/acme/ledger"),
        ("acme/..", None),
        ("acme/ledger/extra", None),
        ("javascript:alert(1)/x", None),
        ("acme/<script>", None),
        ("ledger", None),
        (["acme/ledger"], None),
    ],
)
def test_project_slug_url(value, expected):
    assert render.project_slug_url(value) == expected


@pytest.mark.parametrize(
    "location, service, expected",
    [
        # the fleet's own git URL is what was scanned: it wins over what the repo says about itself
        (
            "git@github.com:acme/ledger.git",
            {"source_location": "url:https://gitlab.com/x/y"},
            "https://github.com/acme/ledger",
        ),
        (
            "/srv/repos/ledger",
            {"source_location": "url:https://gitlab.com/x/y", "project_slug": "acme/ledger"},
            "https://gitlab.com/x/y",
        ),
        (
            "/srv/repos/ledger",
            {"source_location": "url:javascript:x", "project_slug": "acme/ledger"},
            "https://github.com/acme/ledger",
        ),
        ("/srv/repos/ledger", {"project_slug": "acme/ledger"}, "https://github.com/acme/ledger"),
        ("/srv/repos/ledger", {}, None),
        ("/srv/repos/ledger", None, None),
    ],
)
def test_service_web_url_prefers_the_fleet_url_then_the_annotations(location, service, expected):
    assert render.service_web_url(location, service) == expected


def _catalog(annotations: dict[str, str]) -> str:
    lines = "".join(f"    {key}: '{value}'\n" for key, value in annotations.items())
    return f"""apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ledger
  annotations:
    prr/tier: "0"
{lines}spec:
  type: service
  owner: group:default/team-payments
  lifecycle: production
"""


@pytest.mark.parametrize(
    "annotations, web",
    [
        (
            {"backstage.io/source-location": "url:https://github.com/acme/ledger/tree/main/"},
            "https://github.com/acme/ledger",
        ),
        ({"github.com/project-slug": "acme/ledger"}, "https://github.com/acme/ledger"),
        (
            {
                "backstage.io/source-location": "url:https://gitlab.example.com/pay/ledger/-/tree/main/",
                "github.com/project-slug": "acme/ledger",
            },
            "https://gitlab.example.com/pay/ledger",
        ),
        ({"backstage.io/source-location": "url:javascript:alert(document.cookie)//"}, None),
        ({"github.com/project-slug": "javascript:alert(1)"}, None),
        ({}, None),
    ],
)
def test_a_local_repo_links_evidence_through_its_catalog_annotations(portal, tmp_path, annotations, web):
    commit = repo(tmp_path, "ledger").commit({"catalog-info.yaml": _catalog(annotations)}, "annotate", days_ago=0.5)
    report = scan(portal.app, "ledger")
    assert report["source"]["commit"] == commit
    assert schemas.problems("scan-report", report) == []
    carried = {k: report["service"].get(k) for k in ("source_location", "project_slug")}
    assert carried == {
        "source_location": annotations.get("backstage.io/source-location"),
        "project_slug": annotations.get("github.com/project-slug"),
    }
    client = portal.app.test_client()
    for url in (LEDGER, LEDGER + "/review", "/checks/resilience.replicas"):
        page = get(client, url)
        assert "deploy/deployment.yaml:6" in page.text, url
        evidence = [h for h in page.hrefs if "deployment.yaml" in h]
        assert not [h for h in page.hrefs if h.strip().lower().startswith("javascript:")], url
        if web is None:  # the portal's own read-only view of the file at that commit
            assert f"{LEDGER}/source/{commit}/deploy/deployment.yaml#L6" in evidence, url
        else:
            style = "/-/blob/" if "gitlab" in web else "/blob/"
            assert f"{web}{style}{commit}/deploy/deployment.yaml#L6" in evidence, url
    if web is not None:
        assert any(h.startswith(f"{web}/") and commit in h for h in get(client, LEDGER).hrefs if "commit" in h)
