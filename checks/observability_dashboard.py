"""observability.dashboard: the service has a dashboard, linked or kept as code."""

from __future__ import annotations

import json
import re

from prr.checks.formats.catalog import CATALOG_FILES, metadata_spot, try_catalog
from prr.checks.formats.files import all_yaml, is_non_production, non_production_dirs
from prr.checks.formats.portals import PORTAL_FILES, all_links
from prr.checks.formats.readiness import READINESS_FILES, try_readiness
from prr.checks.formats.yamlfile import FormatError, YMap, get
from prr.plugin import CheckContext, Evidence, Result, check, errored, failed, passed
from prr.repo import FileReadError, RepoSnapshot

DASHBOARD_WORD = re.compile(r"dashboard", re.I)
# Grafana (/d/<uid>, /dashboards), Datadog (/dashboard/), Kibana, New Relic, CloudWatch dashboards.
DASHBOARD_URL = re.compile(r"grafana|/d/[\w-]+|/dashboards?\b|#dashboards:|/app/dashboards", re.I)
DASHBOARD_PATH = re.compile(r"dashboard|grafana", re.I)
TOOLING_JSON = re.compile(r"(^|/)(package(-lock)?|[jt]sconfig[\w.-]*|composer(-lock)?|lerna|renovate)\.json$")
JSONNET_DASHBOARD = re.compile(r"(^|/)dashboards?/.+\.(jsonnet|libsonnet)$|dashboard[^/]*\.(jsonnet|libsonnet)$", re.I)
TERRAFORM_DASHBOARD = re.compile(
    r'resource\s+"(grafana_dashboard|datadog_dashboard(_json)?|newrelic_one_dashboard|'
    r'aws_cloudwatch_dashboard)"'
)
EXAMPLE = """\
# catalog-info.yaml
metadata:
  links:
    - url: https://grafana.example.com/d/checkout-overview
      title: Checkout overview
      type: dashboard"""


@check(
    id="observability.dashboard",
    title="Service has a dashboard",
    category="observability",
    description="On-call can see the service's health at a glance: a dashboard is linked (a "
    "catalog-info.yaml link whose title or type says dashboard or whose URL is a Grafana/Datadog "
    "dashboard, a Grafana/Datadog dashboard annotation, readiness.yaml `dashboards`, cortex/"
    "opslevel/datadog links), or kept as code (Grafana dashboard JSON with `panels`, Datadog "
    "dashboard JSON with `widgets`, a GrafanaDashboard resource, grafonnet/jsonnet under "
    "dashboards/, or a Terraform dashboard resource).",
    remediation="Link the dashboard from `catalog-info.yaml`:\n\n"
    f"```yaml\n{EXAMPLE}\n```\n\nBetter, keep it as code next to the service (export the Grafana "
    "dashboard JSON to `dashboards/checkout.json`, or write it with grafonnet) so it is reviewed "
    "and versioned with the alerts it explains.",
    docs_url="https://grafana.com/docs/grafana/latest/dashboards/build-dashboards/best-practices/",
    reads=CATALOG_FILES + READINESS_FILES + PORTAL_FILES + ("dashboards as code",),
)
def observability_dashboard(ctx: CheckContext) -> Result:
    found, errors = _linked(ctx)
    code, code_errors = _as_code(ctx)
    found += code
    errors += code_errors
    if found:
        return passed(f"dashboard: {found[0].value} ({found[0].path}:{found[0].line})", found)
    if errors:
        return errored(f"cannot tell whether a dashboard exists: {errors[0]}", [e.evidence() for e in errors])
    catalog, _ = try_catalog(ctx.repo)
    entity = catalog.component
    if entity is None:
        return failed(
            "no dashboard linked or kept as code", [Evidence(value=f"add {CATALOG_FILES[0]} at the repo root")]
        )
    return failed(
        f"no dashboard linked ({entity.path} has no dashboard link) nor kept as code",
        [metadata_spot(entity, "links", "add a link of type dashboard")],
    )


def _linked(ctx: CheckContext) -> tuple[list[Evidence], list[FormatError]]:
    links, errors = all_links(ctx.repo)
    found = [
        Evidence(path=l.path, line=l.line, url=l.url, value=l.title or l.url)
        for l in links
        if l.says(DASHBOARD_WORD) or DASHBOARD_URL.search(l.url)
    ]
    catalog, _ = try_catalog(ctx.repo)
    annotations = catalog.component.annotations if catalog.component is not None else None
    if isinstance(annotations, YMap):
        found += [
            Evidence(path=catalog.path, line=annotations.line_of(k), value=f"annotation {k}")
            for k, v in annotations.items()
            if DASHBOARD_WORD.search(str(k)) and str(v or "").strip()
        ]
    readiness, error = try_readiness(ctx.repo)
    errors += [error] if error else []
    if readiness is not None and readiness.value("dashboards"):
        problems = readiness.problems_under("dashboards")
        errors += [FormatError(readiness.path, p.line, str(p)) for p in problems]
        if not problems:
            found.append(
                Evidence(
                    path=readiness.path,
                    line=readiness.line_of("dashboards"),
                    value=f"{len(readiness.value('dashboards'))} dashboard(s) in readiness.yaml",
                )
            )
    return found, errors


def _as_code(ctx: CheckContext) -> tuple[list[Evidence], list[FormatError]]:
    repo = ctx.repo
    found: list[Evidence] = []
    errors: list[FormatError] = []
    for path in repo.files():
        if is_non_production(path, non_production_dirs(ctx.config)):
            continue
        if path.endswith(".json") and DASHBOARD_PATH.search(path) and not TOOLING_JSON.search(path):
            try:
                data = json.loads(repo.read_text(path))
            except FileReadError as exc:
                errors.append(FormatError(path, None, exc.message))
                continue
            except ValueError as exc:
                errors.append(FormatError(path, getattr(exc, "lineno", None), f"invalid JSON: {exc}"))
                continue
            kind = _dashboard_json(data)
            if kind:
                found.append(Evidence(path=path, line=1, value=f"{kind} dashboard JSON"))
        elif JSONNET_DASHBOARD.search(path):
            found.append(Evidence(path=path, line=1, value="jsonnet dashboard"))
        elif path.endswith(".tf"):
            text = _text(repo, path)
            match = TERRAFORM_DASHBOARD.search(text)
            if match:
                found.append(
                    Evidence(path=path, line=text[: match.start()].count("\n") + 1, value=f"Terraform {match[1]}")
                )
    for path, docs in all_yaml(repo, dirs=non_production_dirs(ctx.config)).documents.items():
        found += [
            Evidence(path=path, line=doc.line, value=f"GrafanaDashboard/{get(doc, 'metadata', 'name')}")
            for doc in docs
            if isinstance(doc, YMap) and _grafana_resource(doc)
        ]
    return found, errors


def _dashboard_json(data: object) -> str | None:
    """'Grafana' for a Grafana dashboard (``panels`` or old ``rows``, maybe wrapped in
    ``{"dashboard": ...}`` as the HTTP API has it), 'Datadog' for ``widgets`` + ``layout_type``."""
    if isinstance(data, dict) and isinstance(data.get("dashboard"), dict):
        data = data["dashboard"]
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("panels"), list) or isinstance(data.get("rows"), list):
        return "Grafana"
    if isinstance(data.get("widgets"), list) and "layout_type" in data:
        return "Datadog"
    return None


def _grafana_resource(doc: YMap) -> bool:
    """A grafana-operator GrafanaDashboard, or a ConfigMap the Grafana sidecar loads."""
    if doc.get("kind") == "GrafanaDashboard":
        return True
    labels = get(doc, "metadata", "labels") or {}
    return doc.get("kind") == "ConfigMap" and isinstance(labels, dict) and "grafana_dashboard" in labels


def _text(repo: RepoSnapshot, path: str) -> str:
    try:
        return repo.read_text(path)
    except FileReadError:
        return ""
