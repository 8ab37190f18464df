"""delivery.ci, delivery.rollback, ownership.oncall and observability.dashboard, and the readers
they share (CI commands, other portals' service files)."""

from __future__ import annotations

import json

import pytest

from prr.checks.formats.ci import runs_tests
from prr.checks.formats.portals import load_portals
from prr.repo import open_snapshot
from tests.checks.cases import NOW
from tests.conftest import run_check


def assert_result(result, status: str, summary: str, where: tuple | None = None) -> None:
    assert (result.status.value, summary in result.summary) == (status, True), result.summary
    if where is not None:
        assert where in [(e.path, e.line) for e in result.evidence], result.evidence


# -- delivery.ci ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "command, runs",
    [
        ("go test -race ./...", True),
        ("pytest -q tests/", True),
        ("python3 -m pytest", True),
        ("tox -e py312", True),
        ("npm test", True),
        ("npm run test:unit -- --ci", True),
        ("yarn test", True),
        ("pnpm -r test", True),
        ("npx jest --ci", True),
        ("./mvnw -B clean verify", True),
        ("mvn -B test", True),
        ("./gradlew check", True),
        ("gradle :api:test", True),
        ("cargo nextest run", True),
        ("make test", True),
        ("make -C services/api check", True),
        ("dotnet test --no-build", True),
        ("bundle exec rspec", True),
        ("bazel test //...", True),
        ("./scripts/run-tests.sh", True),
        ("ci/integration_test.sh", True),
        # JS monorepo runners: Backstage apps' CI runs `yarn backstage-cli repo test`
        ("yarn backstage-cli repo test", True),
        ("backstage-cli package test --coverage", True),
        ("npx turbo run test --filter=web", True),
        ("pnpm nx run-many -t test", True),
        ("npx nx affected --target=test", True),
        ("yarn lerna run test", True),
        ("yarn backstage-cli repo lint", False),
        ("npx turbo run build", False),
        ("pip install pytest", False),
        ("npm ci", False),
        ("npm run lint", False),
        ("go build ./...", False),
        ("mvn -B package -DskipTests", False),
        ("./gradlew build -x test", False),
        ("make build", False),
        ("docker build -t acme/x .", False),
        ("./scripts/latest.sh", False),
        ("echo testing", False),
        ("toxiproxy-cli list", False),
    ],
)
def test_runs_tests(command: str, runs: bool) -> None:
    assert runs_tests(command) is runs


CI_INLINE = [
    (
        "travis",
        {".travis.yml": "language: python\npython: ['3.12']\ninstall: pip install -e .[test]\nscript:\n  - pytest\n"},
        "pass",
        "Travis CI runs tests: `pytest`",
        (".travis.yml", 5),
    ),
    (
        "azure maven task",
        {
            "azure-pipelines.yml": "trigger: [main]\npool:\n  vmImage: ubuntu-latest\nsteps:\n"
            "  - task: Maven@4\n    inputs:\n      mavenPomFile: pom.xml\n      goals: verify\n"
        },
        "pass",
        "`mvn verify`",
        ("azure-pipelines.yml", 5),
    ),
    (
        "drone",
        {
            ".drone.yml": "kind: pipeline\ntype: docker\nname: default\nsteps:\n  - name: test\n    image: rust:1.79\n"
            "    commands:\n      - cargo build --locked\n      - cargo test --locked\n"
        },
        "pass",
        "Drone runs tests: `cargo test --locked`",
        (".drone.yml", 9),
    ),
    (
        "buildkite",
        {".buildkite/pipeline.yml": "steps:\n  - label: ':rspec: specs'\n    command: bundle exec rspec\n"},
        "pass",
        "Buildkite runs tests",
        (".buildkite/pipeline.yml", 3),
    ),
    (
        "gitlab include local",
        {
            ".gitlab-ci.yml": "include:\n  - local: .gitlab/ci/test.yml\nstages: [test]\n",
            ".gitlab/ci/test.yml": "unit:\n  stage: test\n  script:\n    - go test ./...\n",
        },
        "pass",
        "`go test ./...`",
        (".gitlab/ci/test.yml", 4),
    ),
    (
        "reusable test workflow",
        {
            ".github/workflows/ci.yml": "on: [push]\njobs:\n  test:\n"
            "    uses: acme/ci-templates/.github/workflows/python-tests.yml@v3\n"
        },
        "pass",
        "reusable workflow",
        (".github/workflows/ci.yml", 4),
    ),
    (
        "make target without tests",
        {
            ".github/workflows/ci.yml": "on: [push]\njobs:\n  b:\n    runs-on: ubuntu-latest\n"
            "    steps:\n      - run: make all\n",
            "Makefile": "all:\n\tgo build ./...\n",
        },
        "fail",
        "runs no tests",
        (".github/workflows/ci.yml", 2),
    ),
    ("no CI at all", {"main.go": "package main\n"}, "fail", "no CI pipeline in the repo", None),
]


@pytest.mark.parametrize("name, files, status, summary, where", CI_INLINE, ids=[c[0] for c in CI_INLINE])
def test_ci_inline(make_repo, name, files, status, summary, where) -> None:
    assert_result(run_check("delivery.ci", make_repo(files), now=NOW), status, summary, where)


# -- delivery.rollback ----------------------------------------------------------------------------
CANARY = """\
apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: storefront
  namespace: shop
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: storefront
  analysis:
    interval: 1m
    threshold: 5
"""
HELM_ROLLOUT = """\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: {{ include "storefront.fullname" . }}
spec:
  replicas: {{ .Values.replicaCount }}
  strategy:
    canary:
      steps:
        - setWeight: 20
        - pause: {duration: 10m}
"""
THIN_ROLLBACK = (
    "# Storefront runbook\n\nStorefront serves the web shop pages and talks to the cart, search and "
    "checkout services over HTTP. Pages are cached by the CDN for sixty seconds.\n\n"
    "## Alerts\n\nEvery alert links the section that explains it; start with the error rate panel "
    "and then the upstream services panel, and page their on-call when one of them is failing. "
    "Cache purges are safe at any time.\n\n## Rollback\n\nTBD\n"
)

ROLLBACK_CASES = [
    (
        "flagger canary",
        {"deploy/canary.yaml": CANARY},
        "pass",
        "Flagger Canary/storefront",
        ("deploy/canary.yaml", 1),
    ),
    (
        "rollout in a helm template",
        {
            "chart/Chart.yaml": "apiVersion: v2\nname: storefront\nversion: 1.0.0\n",
            "chart/values.yaml": "replicaCount: 3\n",
            "chart/templates/rollout.yaml": HELM_ROLLOUT,
        },
        "pass",
        "Rollout",
        None,
    ),
    (
        "rollback workflow",
        {
            ".github/workflows/rollback.yml": "on: workflow_dispatch\njobs:\n  undo:\n"
            "    runs-on: ubuntu-latest\n    steps:\n      - run: helm rollback storefront\n"
        },
        "pass",
        "GitHub Actions rollback pipeline",
        (".github/workflows/rollback.yml", 1),
    ),
    (
        "rollback section without steps",
        {"RUNBOOK.md": THIN_ROLLBACK},
        "fail",
        "the rollback section RUNBOOK.md:9 does not say how to roll back (Rollback: placeholder text only)",
        ("RUNBOOK.md", 9),
    ),
    ("nothing", {"README.md": "# storefront\n"}, "fail", "no rollback path", (None, None)),
]


@pytest.mark.parametrize("name, files, status, summary, where", ROLLBACK_CASES, ids=[c[0] for c in ROLLBACK_CASES])
def test_rollback(make_repo, name, files, status, summary, where) -> None:
    repo = make_repo(files)
    assert_result(run_check("delivery.rollback", repo, now=NOW), status, summary, where)


# -- ownership.oncall -------------------------------------------------------------------------------
CATALOG = (
    "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: storefront\n{meta}spec:\n"
    "  type: website\n  owner: team-web\n  lifecycle: production\n"
)

ONCALL_CASES = [
    (
        "opsgenie annotation",
        {
            "catalog-info.yaml": CATALOG.format(
                meta="  annotations:\n    opsgenie.com/component-selector: 'tag:\"service:storefront\"'\n"
            )
        },
        "pass",
        "opsgenie.com/component-selector",
        ("catalog-info.yaml", 6),
    ),
    (
        "opslevel pagerduty tool",
        {
            "opslevel.yml": "version: 1\nservice:\n  name: storefront\n  tools:\n"
            "    - name: Storefront on-call\n      category: incidents\n"
            "      url: https://acme.pagerduty.com/service-directory/PWEB001\n"
        },
        "pass",
        "opslevel.yml tool Storefront on-call",
        ("opslevel.yml", 5),
    ),
    (
        "datadog integrations",
        {
            "service.datadog.yaml": "schema-version: v2.2\ndd-service: storefront\nteam: web\n"
            "integrations:\n  opsgenie:\n    service-url: https://acme.app.opsgenie.com/service/123\n"
            "    region: EU\n"
        },
        "pass",
        "integrations.opsgenie",
        ("service.datadog.yaml", 5),
    ),
    (
        "catalog without on-call",
        {"catalog-info.yaml": CATALOG.format(meta="  annotations:\n    prr/tier: '1'\n")},
        "fail",
        "catalog-info.yaml has no pagerduty.com/ or opsgenie.com/ annotation",
        ("catalog-info.yaml", 5),
    ),
    (
        "empty annotation value",
        {"catalog-info.yaml": CATALOG.format(meta="  annotations:\n    pagerduty.com/service-id: ''\n")},
        "fail",
        "no on-call integration",
        ("catalog-info.yaml", 5),
    ),
    ("nothing", {"README.md": "# storefront\n"}, "fail", "no catalog-info.yaml", (None, None)),
    (
        "unparseable catalog",
        {"catalog-info.yaml": "metadata:\n  annotations: {pagerduty.com/service-id: P1\n"},
        "error",
        "cannot tell whether on-call is set up: catalog-info.yaml",
        None,
    ),
    (
        "oncall of the wrong shape",
        {"readiness.yaml": "oncall: []\n"},
        "error",
        "readiness.yaml:1",
        ("readiness.yaml", 1),
    ),
]


@pytest.mark.parametrize("name, files, status, summary, where", ONCALL_CASES, ids=[c[0] for c in ONCALL_CASES])
def test_oncall(make_repo, name, files, status, summary, where) -> None:
    repo = make_repo(files)
    assert_result(run_check("ownership.oncall", repo, now=NOW), status, summary, where)


# -- observability.dashboard ---------------------------------------------------------------------
GRAFANA = {
    "title": "Storefront",
    "uid": "storefront",
    "schemaVersion": 39,
    "panels": [
        {"type": "timeseries", "title": "Requests", "targets": [{"expr": "sum(rate(http_requests_total[5m]))"}]}
    ],
}
DATADOG = {"title": "Storefront", "layout_type": "ordered", "widgets": [{"definition": {"type": "timeseries"}}]}

DASHBOARD_CASES = [
    (
        "grafana JSON",
        {"dashboards/storefront.json": json.dumps(GRAFANA)},
        "pass",
        "Grafana dashboard JSON",
        ("dashboards/storefront.json", 1),
    ),
    (
        "grafana API export",
        {"monitoring/grafana/storefront.json": json.dumps({"dashboard": GRAFANA, "overwrite": True})},
        "pass",
        "Grafana dashboard JSON",
        None,
    ),
    ("datadog JSON", {"monitoring/dashboard.json": json.dumps(DATADOG)}, "pass", "Datadog dashboard JSON", None),
    (
        "grafonnet",
        {"dashboards/storefront.jsonnet": "local g = import 'g.libsonnet';\ng.dashboard.new('x')\n"},
        "pass",
        "jsonnet dashboard",
        ("dashboards/storefront.jsonnet", 1),
    ),
    (
        "terraform",
        {
            "infra/monitoring.tf": 'provider "grafana" {}\n\nresource "grafana_dashboard" "storefront" {\n'
            '  config_json = file("storefront.json")\n}\n'
        },
        "pass",
        "Terraform grafana_dashboard",
        ("infra/monitoring.tf", 3),
    ),
    (
        "grafana-operator resource",
        {
            "deploy/dashboard.yaml": "apiVersion: grafana.integreatly.org/v1beta1\n"
            "kind: GrafanaDashboard\nmetadata:\n  name: storefront\nspec:\n  url: https://x/d.json\n"
        },
        "pass",
        "GrafanaDashboard/storefront",
        ("deploy/dashboard.yaml", 1),
    ),
    (
        "grafana annotation",
        {
            "catalog-info.yaml": CATALOG.format(
                meta="  annotations:\n    grafana/dashboard-selector: \"tags @> 'storefront'\"\n"
            )
        },
        "pass",
        "annotation grafana/dashboard-selector",
        ("catalog-info.yaml", 6),
    ),
    (
        "catalog without a dashboard",
        {
            "catalog-info.yaml": CATALOG.format(
                meta="  links:\n    - url: https://github.com/acme/storefront/wiki\n      title: Wiki\n"
            )
        },
        "fail",
        "no dashboard linked (catalog-info.yaml has no dashboard link)",
        ("catalog-info.yaml", 5),
    ),
    (
        "a frontend called dashboard is not one",
        {"dashboard/package.json": '{"name": "dashboard"}', "dashboard/src/app.json": '{"routes": []}'},
        "fail",
        "no dashboard",
        None,
    ),
    (
        "dashboard JSON that does not parse",
        {"dashboards/storefront.json": '{"panels": [\n'},
        "error",
        "cannot tell whether a dashboard exists: dashboards/storefront.json:2",
        ("dashboards/storefront.json", 2),
    ),
    (
        "example dashboards do not count",
        {"examples/dashboards/demo.json": json.dumps(GRAFANA)},
        "fail",
        "no dashboard",
        None,
    ),
]


@pytest.mark.parametrize("name, files, status, summary, where", DASHBOARD_CASES, ids=[c[0] for c in DASHBOARD_CASES])
def test_dashboard(make_repo, name, files, status, summary, where) -> None:
    repo = make_repo(files)
    assert_result(run_check("observability.dashboard", repo, now=NOW), status, summary, where)


# -- other portals' service files ---------------------------------------------------------------------
PORTAL_FILES = {
    "cortex.yaml": (
        "openapi: 3.0.1\ninfo:\n  title: Storefront\n  x-cortex-tag: storefront\n  x-cortex-owners:\n"
        "    - type: group\n      name: team-web\n  x-cortex-groups:\n    - frontend\n    - tier-2\n"
        "  x-cortex-oncall:\n    opsgenie:\n      type: SCHEDULE\n      id: web-schedule\n"
        "  x-cortex-link:\n    - name: Storefront runbook\n      type: runbook\n      url: https://wiki/runbook\n"
    ),
    "opslevel.yml": (
        "version: 1\nservice:\n  name: Storefront\n  owner: web\n  tier: tier_1\n  tools:\n"
        "    - name: Grafana\n      category: metrics\n      url: https://grafana/d/x\n"
    ),
    "service.datadog.yaml": (
        "apiVersion: v3\nkind: service\nmetadata:\n  name: storefront\n  owner: web-team\n  links:\n"
        '    - name: Runbook\n      type: runbook\n      url: https://wiki/storefront\nspec:\n  tier: "0"\n'
        "integrations:\n  pagerduty:\n    serviceURL: https://acme.pagerduty.com/service-directory/P1\n"
    ),
}


def test_portal_readers(make_repo) -> None:
    portals, errors = load_portals(open_snapshot(str(make_repo(PORTAL_FILES).path)))
    assert errors == []
    got = {
        p.kind: (
            p.owner().value,
            p.tier().value,
            [(f.label, f.line) for f in p.oncall()],
            [(l.title, l.type, l.url, l.line) for l in p.links()],
        )
        for p in portals
    }
    assert got == {
        "cortex": (
            "team-web",
            "tier-2",
            [("cortex.yaml x-cortex-oncall.opsgenie", 12)],
            [("Storefront runbook", "runbook", "https://wiki/runbook", 16)],
        ),
        "opslevel": ("web", "tier_1", [], [("Grafana", "metrics", "https://grafana/d/x", 7)]),
        "datadog": (
            "web-team",
            "0",
            [("service.datadog.yaml integrations.pagerduty", 13)],
            [("Runbook", "runbook", "https://wiki/storefront", 7)],
        ),
    }
