"""Readiness file templates for the demo fleet: the real formats teams keep, parameterised per service.

Catalog descriptors, SLO specs, alert rules, Alertmanager config, readiness.yaml, runbooks and
dashboards; ``scaffold.py`` holds code, manifests and CI. Nothing here knows which repo is broken in
which way; ``repos.py`` decides that.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import yaml

ORG = "acme-shop"
DOMAIN = "acme-shop.example"

# -- YAML output --------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    """Block style, indented sequences, multi-line strings as ``|`` literals: YAML as people write it."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)


def _str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump(*docs: Any, header: str = "") -> str:
    """One or more YAML documents; several are separated by ``---``."""
    body = "---\n".join(yaml.dump(d, Dumper=_Dumper, sort_keys=False, width=120) for d in docs)
    return header + body


def slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


# -- the service --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Svc:
    """One service of the company: names, team, language, and the URLs it is known by."""

    name: str
    owner: str  # team-payments
    description: str
    system: str = "storefront"
    lang: str = "python"  # python | go | node | java
    port: int = 8080
    dependencies: tuple[str, ...] = ()

    @property
    def team(self) -> str:
        return self.owner.removeprefix("team-")

    @property
    def namespace(self) -> str:
        return self.name

    @property
    def image(self) -> str:
        return f"registry.{DOMAIN}/{self.system}/{self.name}"

    @property
    def repo_url(self) -> str:
        return f"https://github.com/{ORG}/{self.name}"

    @property
    def dashboard_url(self) -> str:
        return f"https://grafana.{DOMAIN}/d/{self.name}/{self.name}-overview"

    @property
    def pagerduty_id(self) -> str:
        return "P" + hashlib.sha1(self.name.encode()).hexdigest()[:6].upper()

    @property
    def labels(self) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.name, "app.kubernetes.io/part-of": self.system}

    @property
    def test_command(self) -> str:
        return {"python": "pytest -q", "go": "go test ./...", "node": "npm test", "java": "mvn test"}[self.lang]


# -- catalog-info.yaml --------------------------------------------------------------------------


def catalog_info(
    svc: Svc,
    *,
    annotations: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    tags: tuple[str, ...] = (),
    pagerduty: bool = True,
    links: list[dict[str, str]] | None = None,
    api: bool = False,
) -> str:
    """A Backstage Component descriptor (plus an API entity when ``api``)."""
    meta: dict[str, Any] = {"name": svc.name, "description": svc.description}
    notes = {  # no github.com/project-slug: the demo's org is not on GitHub (its evidence links to the portal)
        "backstage.io/techdocs-ref": "dir:.",
        "grafana/dashboard-selector": f"tags @> '{svc.name}'",
    }
    if pagerduty:
        notes["pagerduty.com/service-id"] = svc.pagerduty_id
    meta["annotations"] = {**notes, **(annotations or {})}
    if labels:
        meta["labels"] = labels
    meta["tags"] = [*tags, svc.lang]
    if links:
        meta["links"] = links
    spec: dict[str, Any] = {
        "type": "service",
        "lifecycle": "production",
        "owner": f"group:default/{svc.owner}",
        "system": svc.system,
    }
    if svc.dependencies:
        spec["dependsOn"] = [f"component:default/{d}" for d in svc.dependencies]
    if api:
        spec["providesApis"] = [f"{svc.name}-api"]
    docs: list[dict[str, Any]] = [
        {"apiVersion": "backstage.io/v1alpha1", "kind": "Component", "metadata": meta, "spec": spec}
    ]
    if api:
        docs.append(
            {
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "API",
                "metadata": {"name": f"{svc.name}-api", "description": f"Public HTTP API of {svc.name}"},
                "spec": {
                    "type": "openapi",
                    "lifecycle": "production",
                    "owner": f"group:default/{svc.owner}",
                    "system": svc.system,
                    "definition": {"$text": "./openapi.yaml"},
                },
            }
        )
    return dump(*docs)


def link(kind: str, svc: Svc, url: str | None = None) -> dict[str, str]:
    """A catalog link of type ``runbook``, ``dashboard`` or ``repo`` (another kind needs its ``url``)."""
    defaults = {
        "dashboard": (svc.dashboard_url, "Grafana overview"),
        "runbook": (f"{svc.repo_url}/blob/main/docs/runbook.md", "Runbook"),
        "repo": (svc.repo_url, "Source"),
    }
    default_url, title = defaults.get(kind, (url or "", kind.title()))
    return {"url": url or default_url, "title": title, "type": kind, "icon": kind}


def opslevel(svc: Svc, tier: str) -> str:
    return dump(
        {
            "version": 1,
            "service": {
                "name": svc.name,
                "owner": svc.owner,
                "tier": tier,
                "lifecycle": "generally_available",
                "language": svc.lang,
            },
        }
    )


def openapi(svc: Svc, paths: tuple[str, ...]) -> str:
    return dump(
        {
            "openapi": "3.0.3",
            "info": {"title": f"{svc.name} API", "version": "1.0.0"},
            "paths": {p: {"get": {"responses": {"200": {"description": "OK"}}}} for p in paths},
        }
    )


# -- SLOs and the alerts that guard them --------------------------------------------------------

PAGE_WINDOWS = (("1h", "5m", 14.4), ("6h", "30m", 6))  # burn 2% / 5% of a 30-day budget
TICKET_WINDOWS = (("1d", "2h", 3), ("3d", "6h", 1))  # burn 10% of the budget


@dataclass(frozen=True)
class Slo:
    """An availability SLO (non-5xx share) or a latency SLO (share faster than ``threshold`` s)."""

    svc: Svc
    kind: str  # availability | latency
    objective: float  # percent: 99.9
    threshold: float = 0.0  # seconds, latency SLOs
    handler: str = ""  # restrict to one route, e.g. /search
    window: str = "30d"

    @property
    def name(self) -> str:
        return f"{self.svc.name}-{self.kind}"

    @property
    def ratio(self) -> str:
        return f"{self.objective / 100:.6f}".rstrip("0")

    @property
    def budget(self) -> str:
        return f"(1 - {self.ratio})"

    @property
    def description(self) -> str:
        if self.kind == "latency":
            return f"{self.objective:g}% of {self.svc.name} requests complete within {int(self.threshold * 1000)} ms"
        return f"{self.objective:g}% of {self.svc.name} requests succeed (non-5xx)"

    def selector(self, extra: str = "") -> str:
        parts = [f'job="{self.svc.name}"'] + ([f'handler="{self.handler}"'] if self.handler else [])
        return "{" + ",".join(parts + ([extra] if extra else [])) + "}"

    @property
    def le(self) -> str:
        return f'le="{self.threshold:g}"'

    def metric(self, part: str) -> str:
        """``total``, ``bad`` or ``good`` as a bare selector (OpenSLO, Pyrra)."""
        if self.kind == "availability":
            extra = {"bad": 'code=~"5.."', "good": 'code!~"5.."'}.get(part, "")
            return f"http_requests_total{self.selector(extra)}"
        if part == "total":
            return f"http_request_duration_seconds_count{self.selector()}"
        return f"http_request_duration_seconds_bucket{self.selector(self.le)}"

    def rate(self, part: str, window: str) -> str:
        return f"sum(rate({self.metric(part)}[{window}]))"

    def error_ratio(self, window: str) -> str:
        if self.kind == "availability":
            return f"{self.rate('bad', window)}\n  /\n{self.rate('total', window)}"
        return f"1 - (\n  {self.rate('good', window)}\n  /\n  {self.rate('total', window)}\n)"

    def error_query(self, window: str) -> str:
        """Sloth's error events: bad requests, or all requests minus the fast ones."""
        if self.kind == "availability":
            return self.rate("bad", window)
        return f"{self.rate('total', window)}\n-\n{self.rate('good', window)}"


def burn_rate_alerts(slo: Slo, alert: str, runbook_url: str | None) -> list[dict[str, Any]]:
    """The multiwindow, multi-burn-rate pair of alerts (SRE workbook ch. 5) for a 30-day SLO."""

    def condition(windows: tuple[tuple[str, str, float], ...]) -> str:
        pairs = []
        for long, short, factor in windows:
            pairs.append(
                "(\n"
                + "\n  and\n".join(
                    f"  (\n{_indent(slo.error_ratio(w), 4)}\n  ) > ({factor:g} * {slo.budget})" for w in (long, short)
                )
                + "\n)"
            )
        return "\nor\n".join(pairs)

    rules = []
    for severity, suffix, windows, horizon in (
        ("page", "", PAGE_WINDOWS, "within hours"),
        ("ticket", "Slow", TICKET_WINDOWS, "within days"),
    ):
        annotations = {
            "summary": f"{slo.svc.name}: {slo.kind} error budget is burning fast"
            if not suffix
            else f"{slo.svc.name}: {slo.kind} error budget is burning",
            "description": f"At this rate the {slo.window} error budget of {slo.name} "
            f"({slo.objective}%) is gone {horizon}.",
        }
        if runbook_url:
            annotations["runbook_url"] = runbook_url
        rules.append(
            {
                "alert": f"{alert}{suffix}",
                "expr": condition(windows),
                "for": "2m" if not suffix else "15m",
                "labels": {"severity": severity, "team": slo.svc.team, "slo": slo.name},
                "annotations": annotations,
            }
        )
    return rules


def _indent(text: str, n: int) -> str:
    return "\n".join(" " * n + line for line in text.splitlines())


def alert(
    svc: Svc, name: str, expr: str, summary: str, *, severity: str | None, runbook_url: str | None, for_: str = "10m"
) -> dict[str, Any]:
    """A plain (not SLO) alerting rule."""
    labels = {"team": svc.team} | ({"severity": severity} if severity else {})
    annotations = {"summary": summary} | ({"runbook_url": runbook_url} if runbook_url else {})
    return {"alert": name, "expr": expr, "for": for_, "labels": labels, "annotations": annotations}


def crashloop_alert(svc: Svc, runbook_url: str | None) -> dict[str, Any]:
    return alert(
        svc,
        f"{camel(svc.name)}PodsCrashLooping",
        f'increase(kube_pod_container_status_restarts_total{{namespace="{svc.namespace}"}}[15m]) > 3',
        f"{svc.name} pods are restarting repeatedly",
        severity="ticket",
        runbook_url=runbook_url,
    )


def rule_file(*groups: tuple[str, list[dict[str, Any]]]) -> str:
    """A Prometheus rule file (``groups[].rules[]``)."""
    return dump({"groups": [{"name": name, "rules": rules} for name, rules in groups]})


def prometheus_rule(svc: Svc, *groups: tuple[str, list[dict[str, Any]]]) -> str:
    """The prometheus-operator PrometheusRule CRD."""
    return dump(
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {
                "name": f"{svc.name}-alerts",
                "namespace": svc.namespace,
                "labels": {"prometheus": "k8s", "role": "alert-rules", **svc.labels},
            },
            "spec": {"groups": [{"name": name, "rules": rules} for name, rules in groups]},
        }
    )


def openslo_v1(slo: Slo) -> list[dict[str, Any]]:
    """An OpenSLO v1 SLI and the SLO that references it (ratio of counters)."""
    good_or_bad = "bad" if slo.kind == "availability" else "good"
    sli = {
        "apiVersion": "openslo/v1",
        "kind": "SLI",
        "metadata": {"name": f"{slo.name}-sli", "displayName": f"{slo.svc.name} {slo.kind}"},
        "spec": {
            "description": slo.description,
            "ratioMetric": {
                "counter": True,
                good_or_bad: _openslo_source(f"sum({slo.metric(good_or_bad)})"),
                "total": _openslo_source(f"sum({slo.metric('total')})"),
            },
        },
    }
    return [
        sli,
        _openslo_slo(
            slo, {"indicatorRef": f"{slo.name}-sli"}, [{"displayName": slo.description, "target": float(slo.ratio)}]
        ),
    ]


def openslo_v1_threshold(slo: Slo, quantile: float = 0.99) -> list[dict[str, Any]]:
    """An OpenSLO v1 latency SLO as a threshold on a latency quantile (inline indicator)."""
    query = (
        f"histogram_quantile({quantile:g}, sum by (le) "
        f"(rate(http_request_duration_seconds_bucket{slo.selector()}[5m])))"
    )
    indicator = {
        "metadata": {"name": f"{slo.name}-p{int(quantile * 100)}"},
        "spec": {"thresholdMetric": _openslo_source(query)},
    }
    return [
        _openslo_slo(
            slo,
            {"indicator": indicator},
            [{"displayName": slo.description, "op": "lte", "value": slo.threshold, "target": float(slo.ratio)}],
        )
    ]


def _openslo_slo(slo: Slo, indicator: dict[str, Any], objectives: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "openslo/v1",
        "kind": "SLO",
        "metadata": {"name": slo.name, "displayName": slo.description, "labels": {"team": [slo.svc.team]}},
        "spec": {
            "service": slo.svc.name,
            "description": slo.description,
            **indicator,
            "timeWindow": [{"duration": slo.window, "isRolling": True}],
            "budgetingMethod": "Occurrences",
            "objectives": objectives,
        },
    }


def _openslo_source(query: str) -> dict[str, Any]:
    return {"metricSource": {"type": "Prometheus", "spec": {"query": query}}}


def openslo_v1alpha(slo: Slo) -> dict[str, Any]:
    """The older ``openslo/v1alpha`` SLO, indicator inline in the objective."""

    def source(part: str) -> dict[str, str]:
        return {"source": "prometheus", "queryType": "promql", "query": f"sum({slo.metric(part)})"}

    return {
        "apiVersion": "openslo/v1alpha",
        "kind": "SLO",
        "metadata": {"name": slo.name, "displayName": slo.description},
        "spec": {
            "service": slo.svc.name,
            "description": slo.description,
            "budgetingMethod": "Occurrences",
            "timeWindows": [{"unit": "Day", "count": int(slo.window.rstrip("d")), "isRolling": True}],
            "objectives": [
                {
                    "displayName": slo.description,
                    "target": float(slo.ratio),
                    "ratioMetrics": {"counter": True, "good": source("good"), "total": source("total")},
                }
            ],
        },
    }


def sloth_slo(slo: Slo, alert: str, runbook: str, *, crd: bool) -> dict[str, Any]:
    """One SLO of a Sloth spec; the CRD spells its keys in camelCase."""
    keys = (
        ("errorQuery", "totalQuery", "pageAlert", "ticketAlert")
        if crd
        else ("error_query", "total_query", "page_alert", "ticket_alert")
    )
    error_key, total_key, page_key, ticket_key = keys
    window = "{{.window}}"
    return {
        "name": f"requests-{slo.kind}",
        "objective": slo.objective,
        "description": slo.description,
        "sli": {"events": {error_key: slo.error_query(window), total_key: slo.rate("total", window)}},
        "alerting": {
            "name": alert,
            "labels": {"category": slo.kind, "team": slo.svc.team},
            "annotations": {"summary": f"High {slo.kind} error budget burn on {slo.svc.name}", "runbook": runbook},
            page_key: {"labels": {"severity": "critical"}},
            ticket_key: {"labels": {"severity": "warning"}},
        },
    }


def sloth_prometheus_v1(svc: Svc, slos: list[dict[str, Any]]) -> str:
    return dump(
        {
            "version": "prometheus/v1",
            "service": svc.name,
            "labels": {"owner": svc.owner, "repo": f"{ORG}/{svc.name}"},
            "slos": slos,
        }
    )


def sloth_crd(svc: Svc, slos: list[dict[str, Any]]) -> str:
    return dump(
        {
            "apiVersion": "sloth.slok.dev/v1",
            "kind": "PrometheusServiceLevel",
            "metadata": {"name": svc.name, "namespace": svc.namespace, "labels": svc.labels},
            "spec": {"service": svc.name, "labels": {"owner": svc.owner}, "slos": slos},
        }
    )


def pyrra_slo(slo: Slo, runbook_url: str, window: str = "28d") -> dict[str, Any]:
    """A Pyrra ServiceLevelObjective; ``pyrra.dev/`` labels and annotations reach its alerts."""
    if slo.kind == "availability":
        indicator = {"ratio": {"errors": {"metric": slo.metric("bad")}, "total": {"metric": slo.metric("total")}}}
    else:
        indicator = {"latency": {"success": {"metric": slo.metric("good")}, "total": {"metric": slo.metric("total")}}}
    return {
        "apiVersion": "pyrra.dev/v1alpha1",
        "kind": "ServiceLevelObjective",
        "metadata": {
            "name": slo.name,
            "namespace": slo.svc.namespace,
            "labels": {"prometheus": "k8s", "role": "alert-rules", "pyrra.dev/team": slo.svc.team},
            "annotations": {"pyrra.dev/runbook_url": runbook_url},
        },
        "spec": {
            "target": f"{slo.objective:g}",
            "window": window,
            "description": slo.description,
            "indicator": indicator,
            "alerting": {"name": f"{camel(slo.name)}BudgetBurn"},
        },
    }


PAGING_SEVERITIES = "page|critical"
SLACK_MESSAGE = {
    "send_resolved": True,
    "title": '{{ template "slack.default.title" . }}',
    "text": "{{ range .Alerts }}{{ .Annotations.summary }} {{ end }}",
}


def alertmanager_config(svc: Svc) -> str:
    """A service's own Alertmanager config: the team's pages go to PagerDuty, everything else to Slack."""
    return _alertmanager_yaml(
        [_team_route(svc.team), {"matchers": ['alertname="Watchdog"'], "receiver": "null"}],
        _team_receivers(svc.team, svc.name, [{"href": svc.dashboard_url, "text": "Dashboard"}]),
    )


def central_alertmanager_config(teams: list[str]) -> str:
    """The platform team's central Alertmanager config: one subtree per team (pages to its
    PagerDuty service, the rest to its Slack channel), and pages of no known team to the SRE
    escalation rotation."""
    routes: list[dict[str, Any]] = [{"matchers": ['alertname="Watchdog"'], "receiver": "null"}]
    routes += [_team_route(team) for team in teams]
    routes.append({"matchers": [f'severity=~"{PAGING_SEVERITIES}"'], "receiver": "pagerduty-sre-escalation"})
    receivers = [r for team in teams for r in _team_receivers(team, team)]
    receivers.append(
        {"name": "pagerduty-sre-escalation", "pagerduty_configs": [{"routing_key": _routing_key("sre-escalation")}]}
    )
    return _alertmanager_yaml(routes, receivers)


def _alertmanager_yaml(routes: list[dict[str, Any]], receivers: list[dict[str, Any]]) -> str:
    return dump(
        {
            "global": {
                "resolve_timeout": "5m",
                "slack_api_url": "https://hooks.slack.com/services/T0000000/B0000000/XXXXXXXXXXXXXXXX",
            },
            "route": {
                "receiver": "slack-platform-catchall",
                "group_by": ["alertname", "namespace"],
                "group_wait": "30s",
                "group_interval": "5m",
                "repeat_interval": "4h",
                "routes": routes,
            },
            "inhibit_rules": [
                {
                    "source_matchers": [f'severity=~"{PAGING_SEVERITIES}"'],
                    "target_matchers": ['severity=~"ticket|warning"'],
                    "equal": ["alertname", "slo"],
                }
            ],
            "receivers": [
                {"name": "null"},
                {
                    "name": "slack-platform-catchall",
                    "slack_configs": [{"channel": "#alerts-unrouted", **SLACK_MESSAGE}],
                },
                *receivers,
            ],
        },
        header="# Demo routing keys: the real ones are injected from the secret store at deploy time.\n",
    )


def _team_route(team: str) -> dict[str, Any]:
    return {
        "matchers": [f'team="{team}"'],
        "receiver": f"slack-{team}",
        "group_by": ["alertname", "slo"],
        "routes": [
            {
                "matchers": [f'severity=~"{PAGING_SEVERITIES}"'],
                "receiver": f"pagerduty-{team}",
                "group_wait": "10s",
                "repeat_interval": "1h",
            },
            {"matchers": ['severity=~"ticket|warning"'], "receiver": f"slack-{team}"},
        ],
    }


def _team_receivers(team: str, key_name: str, links: list[dict[str, str]] | None = None) -> list[dict[str, Any]]:
    pagerduty: dict[str, Any] = {
        "routing_key": _routing_key(key_name),
        "description": "{{ .CommonAnnotations.summary }}",
    }
    if links:
        pagerduty["links"] = links
    return [
        {"name": f"slack-{team}", "slack_configs": [{"channel": f"#{team}-alerts", **SLACK_MESSAGE}]},
        {"name": f"pagerduty-{team}", "pagerduty_configs": [pagerduty]},
    ]


def _routing_key(name: str) -> str:
    return hashlib.md5(name.encode()).hexdigest()


# -- readiness.yaml -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Drill:
    days_ago: int
    scenario: str
    measured_rto: str
    measured_rpo: str
    outcome: str = "passed"  # passed | failed
    notes: str = ""


def readiness(
    svc: Svc,
    now: datetime,
    *,
    tier: str | int | None = None,
    rto: str | None = None,
    rpo: str | None = None,
    drills: tuple[Drill, ...] = (),
    oncall: dict[str, str] | None = None,
    dashboards: bool = False,
) -> str:
    """Our ``readiness.yaml``; drill dates are ``now`` minus each drill's age."""
    doc: dict[str, Any] = {}
    if tier is not None:
        doc["tier"] = tier
    if oncall:
        doc["oncall"] = oncall
    if rto or rpo:
        doc["dr"] = {"rto": rto, "rpo": rpo, "drills": [_drill(d, svc, now) for d in drills]}
    if dashboards:
        doc["dashboards"] = [svc.dashboard_url, f"https://grafana.{DOMAIN}/d/slo-{svc.name}/{svc.name}-slos"]
    doc["health_url"] = f"https://{svc.name}.internal.{DOMAIN}/healthz"
    return dump(doc, header=f"# Production readiness facts for {svc.name}. Schema: PRR portal readiness/v1\n")


def _drill(d: Drill, svc: Svc, now: datetime) -> dict[str, Any]:
    date = (now - timedelta(days=d.days_ago)).date()
    record = {
        "date": date.isoformat(),
        "scenario": d.scenario,
        "measured_rto": d.measured_rto,
        "measured_rpo": d.measured_rpo,
        "outcome": d.outcome,
        "evidence": f"https://wiki.{DOMAIN}/sre/dr-drills/{svc.name}-{date.isoformat()}",
    }
    if d.notes:
        record["notes"] = d.notes
    return record


# -- runbooks -----------------------------------------------------------------------------------

ROLLBACK = {
    "argo": """Deploys go through an Argo Rollout with canary steps (10% → 50% → 100%). If a canary
step makes the error rate or latency worse, abort it; Argo shifts all traffic back to the stable
ReplicaSet within a minute:

```bash
kubectl argo rollouts abort {name} -n {ns}
kubectl argo rollouts undo {name} -n {ns}     # after a full promotion
kubectl argo rollouts status {name} -n {ns}
```

Database migrations are expand/contract, so the previous image runs against the new schema.""",
    "kubectl": """Roll the Deployment back to the previous ReplicaSet, then confirm the old image is serving:

```bash
kubectl rollout history deployment/{name} -n {ns}
kubectl rollout undo deployment/{name} -n {ns}
kubectl rollout status deployment/{name} -n {ns} --timeout=5m
```

Then revert the offending merge request so the next pipeline run does not redeploy it, and post
in the team channel which version is live.""",
    "helm": """Find the last good release and roll back to it:

```bash
helm history {name} -n {ns}
helm rollback {name} <REVISION> -n {ns} --wait
```""",
}


@dataclass(frozen=True)
class Section:
    heading: str
    body: str


@dataclass
class Runbook:
    """A service runbook in Markdown; ``alerts`` become ``###`` sections that alerts link to."""

    svc: Svc
    alerts: list[Section] = field(default_factory=list)
    rollback: str | None = "kubectl"  # a key of ROLLBACK, or None when nobody wrote it down
    escalation: str = ""  # who gets paged; PagerDuty by default

    def anchor(self, heading: str, path: str = "docs/runbook.md") -> str:
        return f"{path}#{slug(heading)}"

    def render(self) -> str:
        svc, ns = self.svc, self.svc.namespace
        deps = ", ".join(f"`{d}`" for d in svc.dependencies) or "no other services"
        pager = self.escalation or f"PagerDuty service `{svc.pagerduty_id}`"
        parts = [
            f"""# {svc.name} runbook

Owner: **{svc.owner}** · Escalation: {pager} · Slack `#{svc.team}-alerts`

## Overview

{svc.description}

It runs in the `{ns}` namespace of the production clusters in both regions and depends on {deps}.
Traffic enters through `edge-gateway`; a failure here shows up to customers as errors or slow pages
in the storefront.

## Dashboards and logs

- Service overview: {svc.dashboard_url}
- Logs: `kubectl logs -n {ns} -l app.kubernetes.io/name={svc.name} --since=15m`, or Kibana index `{svc.name}-*`
- Recent deploys: `kubectl rollout history` or the #deploys channel

## Alerts
"""
        ]
        for section in self.alerts:
            parts.append(f"\n### {section.heading}\n\n{section.body.strip()}\n")
        parts.append(f"""
## Common procedures

### Scale out

If saturation is the cause, raise the HPA floor for the incident and watch p99 latency settle:

```bash
kubectl patch hpa {svc.name} -n {ns} -p '{{"spec":{{"minReplicas":6}}}}'
```

Restore the floor after the incident; it is managed in git.

### Restart a stuck pod

Delete one pod at a time and wait for its replacement to become ready before the next.
""")
        if self.rollback:
            parts.append("\n## Rollback\n\n" + ROLLBACK[self.rollback].format(name=svc.name, ns=ns) + "\n")
        parts.append(f"""
## Escalation

1. The on-call engineer of {svc.owner} owns the incident ({pager}).
2. If customers are affected for more than 15 minutes, declare an incident in #incidents and page the
   incident commander.
3. For dependencies, page the owning team from their catalog entry; do not fix their systems yourself.
""")
        return "".join(parts)


def budget_burn_section(slo: Slo) -> Section:
    return Section(
        f"{slo.kind.title()} error budget burn",
        f"""
The {slo.name} SLO ({slo.description}) is burning its {slo.window} error budget too fast.

1. Open the dashboard and find which route and which pods the errors or slow requests come from.
2. Check whether a deploy happened in the last hour; if so, go to the deploy procedure below.
3. Check the dependencies' dashboards; a slow dependency shows up here as latency first.
4. If one zone is bad, cordon its nodes and let the pods reschedule.
""",
    )


STUB_RUNBOOK = "# Runbook\n\nTODO: write this before go-live.\n"


# -- dashboards ---------------------------------------------------------------------------------


def grafana_dashboard(svc: Svc, slos: list[Slo]) -> str:
    job = f'job="{svc.name}"'
    panels = [
        ("Requests per second", f"sum by (code) (rate(http_requests_total{{{job}}}[5m]))"),
        (
            "Error ratio",
            f'sum(rate(http_requests_total{{{job},code=~"5.."}}[5m])) / sum(rate(http_requests_total{{{job}}}[5m]))',
        ),
        (
            "p99 latency",
            f"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{{{job}}}[5m])))",
        ),
        ("Pods ready", f'sum(kube_deployment_status_replicas_available{{namespace="{svc.namespace}"}})'),
    ] + [(f"Error budget burn: {s.name}", s.error_ratio("1h").replace("\n", " ") + f" / {s.budget}") for s in slos]
    board = {
        "uid": svc.name,
        "title": f"{svc.name} overview",
        "tags": [svc.name, svc.team, "slo"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 12,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [{"name": "datasource", "type": "datasource", "query": "prometheus"}]},
        "panels": [
            {
                "id": i + 1,
                "type": "timeseries",
                "title": title,
                "datasource": {"type": "prometheus", "uid": "${datasource}"},
                "gridPos": {"h": 8, "w": 12, "x": 12 * (i % 2), "y": 8 * (i // 2)},
                "targets": [{"refId": "A", "expr": expr}],
            }
            for i, (title, expr) in enumerate(panels)
        ],
    }
    return json.dumps(board, indent=2) + "\n"


def camel(name: str) -> str:
    return "".join(part.title() for part in re.split(r"[-_]", name))
