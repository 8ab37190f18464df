"""live.alerts-loaded: the repo's alert rules are loaded in Prometheus and evaluate cleanly."""

from __future__ import annotations

from typing import Any

from prr.checks.formats.promrules import AlertRule, load_alert_rules, severity_of
from prr.live import LiveError, observed_at, system_missing
from prr.plugin import CheckContext, Evidence, Result, check, errored, failed, not_applicable, passed, warned

DOCS = "https://prometheus.io/docs/prometheus/latest/querying/api/#rules"
# The labels that tell apart the alerts a Sloth or Pyrra spec generates; other labels of the
# generated model may differ from what the tool writes.
GENERATED_IDENTITY = ("sloth_id", "sloth_severity", "slo", "severity", "long", "short")
EXAMPLE = """\
# prometheus.yml: load the repo's rule files (or deploy its PrometheusRule resources)
rule_files:
  - /etc/prometheus/rules/checkout/*.yaml"""


@check(
    id="live.alerts-loaded",
    title="Alert rules are loaded in Prometheus",
    category="alerting",
    kind="live",
    description="Every alert rule of the repo (as `alerts.defined` reads them: rule files, "
    "PrometheusRule resources, the alerts Sloth and Pyrra specs generate) is loaded in the "
    "environment's Prometheus (`/api/v1/rules`) with `health: ok` and no `lastError`. A rule is "
    "found by its alert name and its static labels. A rule in git is not an alert that fires: a "
    "rule that was never deployed, or whose evaluation fails, pages nobody.",
    remediation="Deploy the repo's rules to Prometheus, and fix the rules whose evaluation fails "
    "(the `lastError` in the evidence, also shown on Prometheus' /rules page):"
    f"\n\n```yaml\n{EXAMPLE}\n```\n\nSee {DOCS}.",
    docs_url=DOCS,
    time_dependent=True,
    reads=("Prometheus rule files, PrometheusRule resources, Sloth and Pyrra specs", "Prometheus /api/v1/rules"),
)
def live_alerts_loaded(ctx: CheckContext) -> Result:
    unconfigured = system_missing(ctx.live, "prometheus")
    if unconfigured:
        return unconfigured
    alerts, rule_errors = load_alert_rules(ctx.repo)
    if not alerts and not rule_errors:
        return not_applicable("the repo has no alert rules")
    prometheus = ctx.live.prometheus
    try:
        loaded = prometheus.alerting_rules()
    except LiveError as exc:
        return exc.result("Prometheus")
    missing: list[AlertRule] = []
    broken: list[tuple[AlertRule, str]] = []
    pending: list[AlertRule] = []
    for alert in alerts:
        matches = [rule for rule in loaded if _is_loaded_as(alert, rule)]
        healthy = [r for r in matches if r.get("health") == "ok" and not r.get("lastError")]
        failing = [r for r in matches if r.get("health") == "err" or r.get("lastError")]
        if not matches:
            missing.append(alert)
        elif not healthy and failing:
            broken.append((alert, str(failing[0].get("lastError") or "health: err")))
        elif not healthy:
            pending.append(alert)
    details: dict[str, Any] = {
        "environment": ctx.live.environment,
        "prometheus": prometheus.url,
        "observed_at": observed_at(ctx.now),
        "alerts": len(alerts),
        "loaded_rules": len(loaded),
        "missing": [a.name for a in missing],
        "broken": [a.name for a, _ in broken],
        "unreadable": [str(e) for e in rule_errors.values()],
    }
    where = f"Prometheus ({ctx.live.environment})"
    if missing or broken:
        parts = [f"{len(missing)} not loaded: {_names(missing)}"] if missing else []
        parts += [f"{len(broken)} failing: {_names([a for a, _ in broken])}"] if broken else []
        return failed(
            f"{len(missing) + len(broken)} of {len(alerts)} alert(s) not working in {where}: " + "; ".join(parts),
            [Evidence(path=a.path, line=a.line, value=f"{_label(a)}: not loaded in {where}") for a in missing]
            + [Evidence(path=a.path, line=a.line, value=f"{_label(a)}: health err: {error}") for a, error in broken],
            **details,
        )
    if rule_errors:
        first = next(iter(rule_errors.values()))
        return errored(
            f"could not read {len(rule_errors)} alert rule file(s): {first}",
            [e.evidence() for e in rule_errors.values()],
            **details,
        )
    if pending:
        return warned(
            f"all {len(alerts)} alert(s) loaded in {where}; {len(pending)} not evaluated yet: {_names(pending)}",
            [Evidence(path=a.path, line=a.line, value=f"{a.name}: health unknown") for a in pending],
            **details,
        )
    return passed(
        f"all {len(alerts)} alert(s) loaded in {where} with health ok",
        [Evidence(url=prometheus.url, value=f"{len(alerts)} alert(s) loaded, health ok")],
        **details,
    )


def _is_loaded_as(alert: AlertRule, rule: dict[str, Any]) -> bool:
    """Is the loaded ``rule`` this repo alert: same name, and its labels carry the alert's static
    labels (Prometheus may carry more, e.g. from the operator)?"""
    if rule.get("name") != alert.name:
        return False
    labels = rule.get("labels") or {}
    wanted = alert.labels
    if alert.generated_by:
        wanted = {k: v for k, v in alert.labels.items() if k in GENERATED_IDENTITY}
    return all(labels.get(k) == v for k, v in wanted.items())


def _label(alert: AlertRule) -> str:
    """The alert's name, with its severity for generated alerts (a page and a ticket alert share a name)."""
    return f"{alert.name} ({severity_of(alert)})" if alert.generated_by else alert.name


def _names(alerts: list[AlertRule]) -> str:
    names = list(dict.fromkeys(a.name for a in alerts))  # a generated page and ticket alert share one
    return ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")
