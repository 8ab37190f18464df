"""live.alerts-routed: the live Alertmanager routes the repo's paging alerts to a paging receiver."""

from __future__ import annotations

from typing import Any

from prr.checks.formats.alertmanager import load_alertmanager_config
from prr.checks.formats.promrules import DEFAULT_PAGING_SEVERITIES, is_paging, load_alert_rules
from prr.checks.formats.yamlfile import FormatError
from prr.live import LiveError, observed_at, system_missing
from prr.plugin import CheckContext, Evidence, Result, check, errored, failed, not_applicable, passed

DOCS = "https://prometheus.io/docs/alerting/latest/configuration/#route"
EXAMPLE = """\
route:
  receiver: default-slack
  routes:
    - matchers: ['team="checkout"', 'severity=~"page|critical"']
      receiver: checkout-pagerduty
receivers:
  - name: default-slack
    slack_configs: [{channel: "#alerts"}]
  - name: checkout-pagerduty
    pagerduty_configs: [{routing_key_file: /etc/alertmanager/secrets/checkout-pd}]"""


@check(
    id="live.alerts-routed",
    title="Paging alerts reach a pager in the live Alertmanager",
    category="alerting",
    kind="live",
    description="The configuration the environment's Alertmanager is running (`/api/v2/status`, "
    "`config.original`) routes every paging alert of the repo to a receiver that pages "
    "(`pagerduty_configs`, `opsgenie_configs`, `victorops_configs`, `incidentio_configs`). "
    "Routing is simulated with Alertmanager's semantics, as `alerts.routed` does for the config in "
    "git, with the same labels: the rule's static labels, `alertname` and the portal's "
    "`routing.extra_labels`. It catches a config in git that was never deployed.",
    remediation="Deploy an Alertmanager config whose route tree sends the paging alerts to a "
    "PagerDuty / Opsgenie receiver (first matching route wins):"
    f"\n\n```yaml\n{EXAMPLE}\n```\n\nCheck it with `amtool config routes test --config.file=... "
    f"severity=page team=checkout`. See {DOCS}.",
    docs_url=DOCS,
    time_dependent=True,
    reads=(
        "Prometheus rule files, PrometheusRule resources, Sloth and Pyrra specs",
        "Alertmanager /api/v2/status",
        "portal config `routing.extra_labels`",
    ),
)
def live_alerts_routed(ctx: CheckContext) -> Result:
    unconfigured = system_missing(ctx.live, "alertmanager")
    if unconfigured:
        return unconfigured
    alerts, rule_errors = load_alert_rules(ctx.repo)
    severities = ctx.settings.get("paging_severities") or DEFAULT_PAGING_SEVERITIES
    paging = [a for a in alerts if is_paging(a, severities)]
    if not paging and not rule_errors:
        return not_applicable(f"no paging alerts (severity in {', '.join(severities)}) among the repo's alerts")
    alertmanager = ctx.live.alertmanager
    where = f"Alertmanager ({ctx.live.environment})"
    try:
        config = load_alertmanager_config(alertmanager.config_text(), f"{alertmanager.url} (live config)")
    except LiveError as exc:
        return exc.result("Alertmanager")
    except FormatError as exc:
        return errored(f"could not read the config {where} runs: {exc}", [Evidence(url=alertmanager.url)])
    extra = {str(k): str(v) for k, v in ((ctx.config.get("routing") or {}).get("extra_labels") or {}).items()}
    routed: list[Evidence] = []
    unrouted: list[Evidence] = []
    for alert in paging:
        labels = {**extra, **alert.labels, "alertname": alert.name}
        matches = config.route_alert(labels)
        pager = next((m for m in matches if m.pages), None)
        if pager is not None:
            integrations = ", ".join(config.receivers[pager.receiver].paging_integrations)
            routed.append(
                Evidence(path=alert.path, line=alert.line, value=f"{alert.name} → {pager.receiver} ({integrations})")
            )
        else:
            went = ", ".join(f"{m.receiver} via {m.route}" for m in matches)
            unrouted.append(
                Evidence(path=alert.path, line=alert.line, value=f"{alert.name} → {went}, which does not page")
            )
    details: dict[str, Any] = {
        "environment": ctx.live.environment,
        "alertmanager": alertmanager.url,
        "observed_at": observed_at(ctx.now),
        "paging_alerts": len(paging),
        "unrouted": len(unrouted),
        "unreadable": [str(e) for e in rule_errors.values()],
    }
    if unrouted:
        return failed(
            f"{len(unrouted)} of {len(paging)} paging alert(s) reach no paging receiver in {where}",
            unrouted,
            **details,
        )
    if rule_errors:
        first = next(iter(rule_errors.values()))
        return errored(
            f"could not read {len(rule_errors)} alert rule file(s): {first}",
            [e.evidence() for e in rule_errors.values()],
            **details,
        )
    return passed(f"all {len(paging)} paging alert(s) reach a paging receiver in {where}", routed, **details)
