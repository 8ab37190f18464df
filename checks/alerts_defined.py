"""alerts.defined: alert rules exist, and every alert has a severity label."""

from __future__ import annotations

from prr.checks.formats.files import non_production_dirs, set_aside, unreadable
from prr.checks.formats.promrules import AlertRule, load_alert_rules, severity_of
from prr.checks.formats.slo import load_slos
from prr.plugin import CheckContext, Evidence, Result, check, errored, failed, passed

EXAMPLE = """\
# monitoring/checkout.rules.yaml (or the spec.groups of a PrometheusRule)
groups:
  - name: checkout
    rules:
      - alert: CheckoutDown
        expr: up{job="checkout"} == 0
        for: 5m
        labels:
          severity: page
        annotations:
          summary: "checkout is down"
          runbook_url: "docs/runbook.md#checkoutdown\""""


@check(
    id="alerts.defined",
    title="Alert rules are defined",
    category="alerting",
    description="The repo holds valid Prometheus alert rules (rule files or PrometheusRule "
    "resources), or a Sloth / Pyrra SLO spec with alerting on, whose generated alerts count. "
    "Every alert carries a `severity` label (Sloth's `sloth_severity` counts) so it can be routed. "
    "Rule files are read in YAML, in Kubernetes ConfigMaps (a data key holding `groups:`), as vmalert "
    "files and `VMRule` resources (MetricsQL), and in templates (`*.tpl`, `*.tmpl`, `*.j2`, "
    "`*.gotmpl`, Helm- or Terraform-templated YAML) with their placeholders set aside; a templated "
    "file that still is not YAML, and jsonnet, is an error naming the file. "
    "Specs, rules and configs under non-production folders (`examples/`, `docs/`, `test/`, "
    "`tests/`, `testdata/`, `fixtures/`, `e2e/`, `hack/`...; the portal config's "
    "`scan.non_production_dirs`) are not the service's; when only those hold any, the summary says so.",
    remediation="Add alert rules outside example and test folders, each with a `severity` label:"
    f"\n\n```yaml\n{EXAMPLE}\n```\n\nOr let Sloth (https://sloth.dev) or Pyrra "
    "(https://github.com/pyrra-dev/pyrra) generate burn-rate alerts from an SLO spec. See "
    "https://prometheus.io/docs/prometheus/latest/configuration/alerting_rules/.",
    docs_url="https://prometheus.io/docs/prometheus/latest/configuration/alerting_rules/",
    reads=("Prometheus rule files, PrometheusRule resources, Sloth and Pyrra specs",),
)
def alerts_defined(ctx: CheckContext) -> Result:
    dirs = non_production_dirs(ctx.config)
    alerts, errors = load_alert_rules(ctx.repo, dirs)
    unlabelled = [a for a in alerts if not severity_of(a)]
    details = {
        "alerts": len(alerts),
        "files": sorted({a.path for a in alerts}),
        "unreadable": [str(e) for e in errors.values()],
    }
    if unlabelled:
        names = ", ".join(a.name for a in unlabelled[:5]) + (" ..." if len(unlabelled) > 5 else "")
        return failed(
            f"{len(unlabelled)} of {len(alerts)} alert(s) have no severity label: {names}",
            [Evidence(path=a.path, line=a.line, value=a.name) for a in unlabelled],
            **details,
        )
    if errors:
        first = next(iter(errors.values()))
        return unreadable(
            errored(
                f"could not read {len(errors)} alert rule file(s): {first}",
                [e.evidence() for e in errors.values()],
                **details,
            ),
            errors.values(),
        )
    if not alerts:
        invalid_specs = [s for s in load_slos(ctx.repo, dirs)[0] if s.generator and not s.valid]
        aside = set_aside((a.path for a in load_alert_rules(ctx.repo, ())[0]), "alert rule(s)", dirs)
        return failed(
            "no alert rules found (Prometheus rule files, PrometheusRule resources, or a "
            "Sloth / Pyrra spec with alerting on) outside example and test folders"
            + (f"; {aside}" if aside else "")
            + (
                f"; {len(invalid_specs)} invalid {invalid_specs[0].generator} SLO(s) generate none"
                if invalid_specs
                else ""
            ),
            [Evidence(path=s.path, line=s.line, value="; ".join(s.problems)) for s in invalid_specs]
            or [Evidence(value="add alert rules, e.g. monitoring/alerts.yaml or a PrometheusRule")],
            **details,
        )
    return passed(
        f"{len(alerts)} alert(s) in {len({a.path for a in alerts})} file(s), each with a severity",
        _first_per_file(alerts),
        **details,
    )


def _first_per_file(alerts: list[AlertRule]) -> list[Evidence]:
    first: dict[str, AlertRule] = {}
    for alert in alerts:
        first.setdefault(alert.path, alert)
    return [
        Evidence(
            path=a.path,
            line=a.line,
            value=f"{a.name} (templated file: its placeholders were set aside)" if a.templated else a.name,
        )
        for a in first.values()
    ]
