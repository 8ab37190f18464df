"""alerts.burn-rate: every SLO has multiwindow burn-rate alerting, a fast-burn page pair at least.

The fast-burn pair pages when 2% of the error budget burns within an hour: an error ratio over
1h and over a short window (5m) both above ``factor × (1 − objective)``, with factor 14.4 on a
30-day SLO (scaled with the window: 13.44 on 28 days, where Pyrra uses 14).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from prr.checks.formats import promql
from prr.checks.formats.files import non_production_dirs, unreadable
from prr.checks.formats.promrules import AlertRule, RecordingIndex, load_alert_rules, load_recording_rules
from prr.checks.formats.slo import SLO, load_slos
from prr.plugin import (
    CheckContext,
    Evidence,
    Result,
    check,
    errored,
    failed,
    not_applicable,
    passed,
)

FAST_LONG = timedelta(hours=1)
MAX_FAST_SHORT = timedelta(minutes=15)  # the workbook's short window is 1/12 of the long one
FAST_FACTOR_30D = 14.4
IDENTITY_LABELS = ("sloth_id", "sloth_slo", "slo")

EXAMPLE = """\
# SLO: 99.9% over 30 days -> threshold 14.4 * (1 - 0.999)
groups:
  - name: checkout-slo-burn
    rules:
      - record: slo:http_errors:ratio_rate1h
        expr: sum(rate(http_requests_total{job="checkout",code=~"5.."}[1h])) / sum(rate(http_requests_total{job="checkout"}[1h]))
      - record: slo:http_errors:ratio_rate5m
        expr: sum(rate(http_requests_total{job="checkout",code=~"5.."}[5m])) / sum(rate(http_requests_total{job="checkout"}[5m]))
      - alert: CheckoutErrorBudgetFastBurn
        expr: |
          slo:http_errors:ratio_rate1h > (14.4 * (1 - 0.999))
          and
          slo:http_errors:ratio_rate5m > (14.4 * (1 - 0.999))
        labels:
          severity: page"""


@check(
    id="alerts.burn-rate",
    title="SLOs have burn-rate alerts",
    category="alerting",
    description="Every SLO has multiwindow, multi-burn-rate alerting: at least the fast-burn "
    "page pair, an error ratio over 1h and over a short window (5m) above 14.4 × (1 − objective) "
    "for a 30-day SLO (the factor scales with the SLO window; Pyrra's 14 on 28 days counts). "
    "A Sloth or Pyrra spec with alerting on generates it. Alerts pair with an SLO by Sloth's "
    "sloth_id / sloth_slo, Pyrra's slo label, the SLO's alert name, or the SLI's metrics.",
    remediation="Turn on alerting in the Sloth spec (`alerting.name` and `page_alert`) or the "
    "Pyrra spec (drop `alerting.disabled: true`), or write the alerts out next to the SLO:\n\n"
    f"```yaml\n{EXAMPLE}\n```\n\nAdd the slow-burn pair (6× over 6h/30m) and ticket pairs too. See "
    "https://sre.google/workbook/alerting-on-slos/, https://sloth.dev and https://github.com/pyrra-dev/pyrra.",
    docs_url="https://sre.google/workbook/alerting-on-slos/",
    params={
        "properties": {
            "threshold_tolerance": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "default": 0.1,
                "description": "How far (as a fraction) the alert's burn-rate factor may be from the expected one.",
            }
        }
    },
    reads=("OpenSLO, Sloth and Pyrra specs", "Prometheus rule files and PrometheusRule resources"),
)
def alerts_burn_rate(ctx: CheckContext) -> Result:
    slos, slo_errors = load_slos(ctx.repo, non_production_dirs(ctx.config))
    alerts, rule_errors = load_alert_rules(ctx.repo, non_production_dirs(ctx.config))
    if not slos and not slo_errors:
        return not_applicable("no SLO specs in the repo, so no SLO needs burn-rate alerts (slo.defined asks for them)")
    checkable = [s for s in slos if s.valid]
    skipped = [s.name for s in slos if not s.valid]
    if not checkable and not slo_errors:
        return not_applicable(
            f"none of the {len(slos)} SLO spec(s) is valid, so none can be held to "
            "burn-rate alerts (slo.defined reports their problems)",
            skipped=skipped,
        )
    resolve = RecordingIndex(load_recording_rules(ctx.repo, non_production_dirs(ctx.config)))
    tolerance = ctx.params["threshold_tolerance"]
    wired: list[tuple[SLO, Evidence, list[tuple[AlertRule, str]]]] = []
    missing: list[tuple[SLO, list[tuple[AlertRule, str]]]] = []
    notes: dict[str, list[tuple[AlertRule, str]]] = {}
    for slo in checkable:
        proof, found = _fast_burn(slo, alerts, resolve, tolerance)
        notes[slo.name] = found
        if proof:
            wired.append((slo, proof, found))
        else:
            missing.append((slo, found))
    details = {
        "skipped_slos": skipped,
        "linked_alerts": {name: [f"{a.name}: {v}" for a, v in found] for name, found in notes.items()},
        "unreadable": [str(e) for e in {**slo_errors, **rule_errors}.values()],
    }
    if missing:
        evidence = [ev for slo, found in missing for ev in _missing_evidence(slo, found)]
        names = ", ".join(f"{s.name!r} ({s.path}:{s.line})" for s, _ in missing)
        if rule_errors:
            first = next(iter(rule_errors.values()))
            return errored(
                f"no fast-burn alert found for {names}, and {len(rule_errors)} rule "
                f"file(s) could not be read ({first})",
                evidence + _error_evidence(rule_errors),
                **details,
            )
        return failed(
            f"{len(missing)} of {len(checkable)} SLO(s) lack a fast-burn page alert "
            f"(1h and 5m windows above {FAST_FACTOR_30D}× the error budget rate for 30 days): "
            f"{names}",
            evidence,
            **details,
        )
    if slo_errors:
        first = next(iter(slo_errors.values()))
        return unreadable(
            errored(
                f"could not read {len(slo_errors)} SLO spec file(s) ({first}); their SLOs may lack burn-rate alerts",
                _error_evidence(slo_errors),
                **details,
            ),
            slo_errors.values(),
        )
    return passed(
        f"{len(wired)} SLO(s) have fast-burn alerting: " + "; ".join(f"{s.name!r} by {p.value}" for s, p, _ in wired),
        [p for _, p, _ in wired],
        **details,
    )


def _fast_burn(
    slo: SLO, alerts: list[AlertRule], resolve: RecordingIndex, tolerance: float
) -> tuple[Evidence | None, list[tuple[AlertRule, str]]]:
    """Proof (an Evidence) that the SLO has a fast-burn pair, else the linked alerts and what
    is wrong with each."""
    if slo.generator and slo.alerting_enabled:
        return Evidence(
            path=slo.path, line=slo.alerting_line or slo.line, value=f"{slo.generator} spec with alerting on"
        ), []
    assert slo.window is not None and slo.objective is not None  # a valid SLO has both
    objective = slo.objective
    expected = FAST_FACTOR_30D * (slo.window / timedelta(days=30))
    found: list[tuple[AlertRule, str]] = []
    for alert in alerts:
        if alert.generated_by or alert.parsed is None:
            continue
        # A composite alert ORs the burn rates of several SLIs: each branch is judged on its own.
        branches = promql.or_branches(alert.parsed)
        for branch in branches:
            if not _linked(slo, replace(alert, parsed=branch), resolve):
                continue
            conditions = promql.burn_rate_conditions(branch, resolve)
            verdicts = [_judge(c, objective, expected, tolerance) for c in conditions]
            if None in verdicts:
                part = f" (one of the {len(branches)} SLIs it ORs)" if len(branches) > 1 else ""
                pair = _shown(conditions[verdicts.index(None)], objective)
                return Evidence(path=alert.path, line=alert.line, value=f"alert {alert.name}{part}: {pair}"), []
            found.append((alert, "; ".join(v for v in verdicts if v) or "no error-ratio threshold condition"))
    return None, found


def _factor(condition: promql.BurnRateCondition, objective: float) -> float | None:
    return condition.threshold / (1 - objective) if condition.threshold is not None else condition.factor


def _shown(condition: promql.BurnRateCondition, objective: float) -> str:
    """A condition as "1h/5m at 14.4×": its windows and burn-rate factor for this SLO."""
    windows = "/".join(promql.format_duration(w) for w in (condition.long_window, condition.short_window) if w)
    factor = _factor(condition, objective)
    return f"{windows or 'no window'} at {f'{factor:.3g}×' if factor is not None else 'a non-constant threshold'}"


def _judge(condition: promql.BurnRateCondition, objective: float, expected: float, tolerance: float) -> str | None:
    """None when the condition is a fast-burn pair for the SLO, else what is wrong with it."""
    factor = _factor(condition, objective)
    shown = _shown(condition, objective)
    if condition.long_window != FAST_LONG or condition.short_window is None:
        return f"{shown}; a fast-burn pair needs a 1h long window and a short one (5m)"
    if condition.short_window > MAX_FAST_SHORT:
        return f"{shown}; the short window should be about 1/12 of 1h (5m)"
    if factor is None:
        return f"{shown}; the threshold cannot be compared with the SLO's objective"
    if abs(factor - expected) > tolerance * expected:
        return f"{shown}; expected {expected:.3g}× (1 − {objective:g}) for this SLO's window"
    return None


def _linked(slo: SLO, alert: AlertRule, resolve: RecordingIndex) -> bool:
    """Whether a written-out alert is about this SLO: by Sloth / Pyrra identity labels or
    matchers when the alert has them, else by the SLO's alert name, else by the SLI's metrics."""
    identity: dict[str, set[str]] = {}
    for labels in [alert.labels] + [promql.equality_matchers(s) for s in promql.selectors(alert.parsed)]:
        for key in IDENTITY_LABELS:
            if key in labels:
                identity.setdefault(key, set()).add(labels[key])
    if identity:
        return (
            slo.sloth_id in identity.get("sloth_id", ())
            or slo.name in identity.get("sloth_slo", ())
            or slo.name in identity.get("slo", ())
        )
    if slo.alerting_name and alert.name == slo.alerting_name:
        return True
    return _same_indicator(slo, alert, resolve)


def _same_indicator(slo: SLO, alert: AlertRule, resolve: RecordingIndex) -> bool:
    """The alert reads the SLI's metrics (through recording rules too): the SLI's metric names
    (among others, when a recorded burn rate combines several SLIs, as kube-prometheus's
    apiserver_request:burnrate1h does), and each SLI selector matched by one of the alert's."""
    sli = []
    for query in slo.queries.values():
        try:
            sli += promql.selectors(promql.parse(promql.substitute_window(query)))
        except promql.PromQLError:
            continue
    leaves = promql.leaf_selectors(alert.parsed, resolve)
    names = {promql.metric_name(s) for s in sli}
    if not sli or not names <= {promql.metric_name(s) for s in leaves}:
        return False
    return all(any(promql.selects_like(a, s) for a in leaves) for s in sli)


def _missing_evidence(slo: SLO, found: list[tuple[AlertRule, str]]) -> list[Evidence]:
    if slo.generator:
        why = f"{slo.generator} generates no page alerts for it (alerting off or unnamed)"
    else:
        why = "no linked alert has a fast-burn pair" if found else "no burn-rate alert is linked to it"
    return [Evidence(path=slo.path, line=slo.alerting_line or slo.line, value=f"{slo.describe()}: {why}")] + [
        Evidence(path=a.path, line=a.line, value=f"alert {a.name}: {verdict}") for a, verdict in found
    ]


def _error_evidence(errors: dict) -> list[Evidence]:
    return [e.evidence() for e in errors.values()]
