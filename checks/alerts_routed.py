"""alerts.routed: every paging alert reaches a paging receiver through the Alertmanager routes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prr.checks.formats.alertmanager import (
    AlertmanagerConfig,
    RouteMatch,
    find_alertmanager_configs,
    load_alertmanager_config,
)
from prr.checks.formats.files import non_production_dirs, set_aside
from prr.checks.formats.promrules import DEFAULT_PAGING_SEVERITIES, AlertRule, is_paging, load_alert_rules
from prr.checks.formats.yamlfile import FormatError
from prr.plugin import CheckContext, Evidence, Result, check, errored, failed, holds_until, not_applicable, passed

DOCS = "https://prometheus.io/docs/alerting/latest/configuration/#route"
EXAMPLE = """\
route:
  receiver: team-slack                # the default: does not page
  routes:
    - matchers:
        - severity=~"page|critical"
      receiver: team-pagerduty
    # ...routes that may catch the same alerts go after this one,
    # or the earlier sibling sets `continue: true`
receivers:
  - name: team-slack
    slack_configs:
      - channel: "#checkout-alerts"
  - name: team-pagerduty
    pagerduty_configs:
      - routing_key: <PagerDuty Events API v2 integration key>"""


@check(
    id="alerts.routed",
    title="Paging alerts reach a pager",
    category="alerting",
    description="Every paging alert (its `severity` or `sloth_severity` is a paging severity, or it "
    "carries `pager: pagerduty`) is routed by Alertmanager to a receiver that pages: one with "
    "`pagerduty_configs`, `opsgenie_configs`, `victorops_configs` or `incidentio_configs`. Routing "
    "is simulated with Alertmanager's semantics on the repo's Alertmanager config, or else the "
    "central one named in the portal config (`routing.alertmanager_config`). A prometheus-operator "
    "`AlertmanagerConfig` resource counts as the operator merges it into the global config (the "
    "central one, when the repo has no other): its route first, with `continue: true` and a "
    "`namespace` matcher, which is taken to hold when the rule sets no `namespace` label (that "
    "label comes from the alert's series). The alert's labels are "
    "its rule's static labels, `alertname` and the portal's `routing.extra_labels`; labels that "
    "come from the series are not known here (`live.alerts-routed` checks the live routing). "
    "Not applicable only when the repo has no paging alerts; with paging alerts and no readable "
    "Alertmanager config (none in the repo, none named by the portal config, or one that cannot "
    "be parsed) routing cannot be verified, which is an error. Templated configs (`*.tpl`, "
    "`*.j2`, Helm, Terraform) are read with their placeholders set aside. "
    "Specs, rules and configs under non-production folders (`examples/`, `docs/`, `test/`, "
    "`tests/`, `testdata/`, `fixtures/`, `e2e/`, `hack/`...; the portal config's "
    "`scan.non_production_dirs`) are not the service's; when only those hold any, the summary says so.",
    remediation="Make the routing readable, then route the paging alerts to a pager. The check "
    "needs the Alertmanager config the alerts go through: keep it in the repo (e.g. "
    "`alertmanager/alertmanager.yml`), or, when a central team runs Alertmanager, set "
    "`routing.alertmanager_config` in the portal config to the path of that central config. "
    "In it, add a route that sends the paging alerts to a PagerDuty / Opsgenie receiver. Routes "
    "are tried in order and the first match wins, so put it before any sibling route that would "
    "catch the same alerts (or give that sibling `continue: true`):\n\n"
    f"```yaml\n{EXAMPLE}\n```\n\nSee {DOCS}.",
    docs_url=DOCS,
    reads=(
        "Alertmanager config files (top-level `route` and `receivers`), a Secret's `alertmanager.yaml` "
        "(`stringData` or base64 `data`), kube-prometheus-stack values, `AlertmanagerConfig` resources",
        "Prometheus rule files, PrometheusRule resources, Sloth and Pyrra specs",
        "portal config `routing.alertmanager_config`, `routing.extra_labels`",
    ),
)
def alerts_routed(ctx: CheckContext) -> Result:
    routing = ctx.config.get("routing") or {}
    alerts, rule_errors = load_alert_rules(ctx.repo, non_production_dirs(ctx.config))
    severities = ctx.settings.get("paging_severities") or DEFAULT_PAGING_SEVERITIES
    paging = [a for a in alerts if is_paging(a, severities)]
    if not paging and not rule_errors:
        return not_applicable(
            f"no paging alerts (severity in {', '.join(severities)}, or "
            f"pager: pagerduty) among the repo's {len(alerts)} alert(s)"
        )
    dirs = non_production_dirs(ctx.config)
    configs, config_errors = _alertmanager_configs(ctx, routing.get("alertmanager_config"), dirs)
    if config_errors:
        return errored(
            f"cannot verify routing: could not read the Alertmanager config: {config_errors[0]}",
            [e.evidence() for e in config_errors],
        )
    if not configs:
        what = f"{len(paging)} paging alert(s)" if paging else "alert rules that could not all be read"
        unverifiable = errored(
            f"cannot verify routing: the repo has {what} but no Alertmanager config (a file with "
            "`route` and `receivers`, a Secret's alertmanager.yaml, an AlertmanagerConfig resource), "
            "and the portal config names none (routing.alertmanager_config)"
            + (f"; {aside}" if (aside := _configs_set_aside(ctx, dirs)) else ""),
            [Evidence(path=a.path, line=a.line, value=f"{a.name}: routing unknown") for a in paging[:5]],
        )
        return holds_until(unverifiable, None)  # the repo and the portal config alone say so: not worth retrying
    extra = {str(k): str(v) for k, v in (routing.get("extra_labels") or {}).items()}
    details: dict[str, Any] = {
        "alertmanager_configs": [c.path for c in configs],
        "paging_alerts": len(paging),
        "unreadable": [str(e) for e in rule_errors.values()],
    }
    routed: list[Evidence] = []
    routes: dict[tuple[str, int | None], Evidence] = {}  # the routes that page them, once each
    unrouted: list[AlertRule] = []
    namespace_assumed: set[str] = set()  # resources whose namespace matcher a routed alert could not test
    swallowed: list[Evidence] = []  # each unrouted alert, then the routes that took it
    for alert in paging:
        labels = {**extra, **alert.labels, "alertname": alert.name}
        outcomes = [(config, config.route_alert(labels)) for config in configs]
        pager = next(((c, m) for c, matches in outcomes for m in matches if m.pages), None)
        if pager is None:
            unrouted.append(alert)
            swallowed += _swallowed(alert, labels, outcomes)
            continue
        config, match = pager
        if config.namespace and "namespace" not in labels:
            namespace_assumed.add(config.namespace)
        integrations = ", ".join(config.receivers[match.receiver].paging_integrations)
        routed.append(
            Evidence(
                path=alert.path,
                line=alert.line,
                value=f"{alert.name} → {match.receiver} ({integrations}) via "
                f"{match.route} at {config.path}:{match.line}",
            )
        )
        routes.setdefault(
            (config.path, match.line),
            Evidence(path=config.path, line=match.line, value=f"{match.route} → {match.receiver}"),
        )
    if unrouted:
        names = ", ".join(a.name for a in unrouted[:5]) + (" ..." if len(unrouted) > 5 else "")
        return failed(
            f"{len(unrouted)} of {len(paging)} paging alert(s) reach no paging receiver: {names}", swallowed, **details
        )
    if rule_errors:
        first = next(iter(rule_errors.values()))
        return errored(
            f"could not read {len(rule_errors)} alert rule file(s): {first}",
            [e.evidence() for e in rule_errors.values()],
            **details,
        )
    caveat = (
        f" (through AlertmanagerConfig routes whose namespace matcher is taken to hold: the "
        f"alerts must carry namespace={'|'.join(sorted(namespace_assumed))} from their series)"
        if namespace_assumed
        else ""
    )
    return passed(
        f"all {len(paging)} paging alert(s) reach a paging receiver{caveat}", routed + list(routes.values()), **details
    )


def _alertmanager_configs(
    ctx: CheckContext, central: str | None, dirs: tuple[str, ...]
) -> tuple[list[AlertmanagerConfig], list[FormatError]]:
    """The repo's own Alertmanager configs; the portal's central one when the repo has none, or
    only AlertmanagerConfig resources (which the operator merges into the global config)."""
    found = find_alertmanager_configs(ctx.repo, dirs)
    if found.errors or not central or any(c.resource is None for c in found.configs):
        return found.configs, list(found.errors.values())
    try:
        central_config = load_alertmanager_config(Path(central).read_text(encoding="utf-8"), central)
        return found.configs + [central_config], []
    except (OSError, UnicodeDecodeError) as exc:
        return [], [FormatError(central, None, f"cannot read the central Alertmanager config: {exc}")]
    except FormatError as exc:
        return [], [exc]


def _configs_set_aside(ctx: CheckContext, dirs: tuple[str, ...]) -> str:
    everywhere = find_alertmanager_configs(ctx.repo, ())
    return set_aside((c.path for c in everywhere.configs), "Alertmanager config(s)", dirs)


def _swallowed(
    alert: AlertRule, labels: dict[str, str], outcomes: list[tuple[AlertmanagerConfig, list[RouteMatch]]]
) -> list[Evidence]:
    """The alert rule with the labels it was routed with, then each route that took it to a
    receiver that does not page."""
    shown = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    evidence = [Evidence(path=alert.path, line=alert.line, value=f"{alert.name} {{{shown}}}")]
    for config, matches in outcomes:
        if config.resource and not matches:
            top = config.route.routes[0]
            evidence.append(
                Evidence(
                    path=config.path,
                    line=top.line,
                    value=f"{alert.name} is not matched by {config.resource}'s "
                    f"{top.path} ({', '.join(map(str, top.matchers)) or 'no matchers'})",
                )
            )
        for match in matches:
            taken_by = f"{match.route} ({', '.join(match.matchers)})" if match.matchers else match.route
            evidence.append(
                Evidence(
                    path=config.path,
                    line=match.line,
                    value=f"{alert.name} is routed by {taken_by} to {match.receiver}, which does not page",
                )
            )
    return evidence
