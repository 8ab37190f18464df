"""live.slo-attainment: each SLO meets its objective over its window, per Prometheus."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from promql_parser import VectorSelector

from prr.checks.formats import promql
from prr.checks.formats.slo import SLO, load_slos
from prr.live import LiveError, observed_at, system_missing
from prr.plugin import CheckContext, Evidence, Result, check, errored, failed, not_applicable, passed

DOCS = "https://sre.google/workbook/implementing-slos/"
SUBQUERY_STEP = "5m"  # resolution at which rate-style SLI queries are summed over the window


@check(
    id="live.slo-attainment",
    title="SLOs are met",
    category="slo",
    kind="live",
    description="For each valid SLO of the repo, Prometheus is asked for the error ratio of its "
    "indicator over its window, at the time of the scan: Sloth's recording rule "
    "`slo:sli_error:ratio_rate<window>` (by `sloth_id`) where Prometheus has it, else the SLI "
    "queries of the spec (errors / total, or 1 − good / total, summed over the window). "
    "Attainment = 1 − error ratio; error budget remaining = 1 − error ratio / (1 − objective). "
    'The figures are kept in the result\'s details (`{"slos": [{"name", "objective", "window", '
    '"attainment", "error_budget_remaining", "observed_at"}]}`) for reports. No data for an SLO '
    "is an error: attainment cannot be known.",
    remediation="An SLO that is missed has spent more than its error budget over the window: "
    "slow down risky changes and spend engineering time on reliability until the budget recovers "
    "(an error budget policy), or revisit an objective the service cannot meet. When Prometheus "
    "has no data, make sure the SLI's metrics are scraped in this environment and, for Sloth, that "
    "the generated rules are deployed, e.g.:\n\n```yaml\n# sloth generate -i slos/checkout.yaml "
    "-o monitoring/checkout-slo-rules.yaml\nrule_files: [monitoring/checkout-slo-rules.yaml]\n```"
    f"\n\nSee {DOCS}.",
    docs_url=DOCS,
    time_dependent=True,
    reads=("OpenSLO, Sloth and Pyrra SLO specs", "Prometheus /api/v1/query"),
)
def live_slo_attainment(ctx: CheckContext) -> Result:
    unconfigured = system_missing(ctx.live, "prometheus")
    if unconfigured:
        return unconfigured
    slos, _ = load_slos(ctx.repo)
    measurable = [(s, s.objective, s.window) for s in slos if s.valid and s.objective is not None and s.window]
    if not measurable:
        return not_applicable("the repo has no valid SLO to measure (see slo.defined)")
    prometheus = ctx.live.prometheus
    when = observed_at(ctx.now)
    figures: list[dict[str, Any]] = []
    missed: list[Evidence] = []
    undecided: list[Evidence] = []
    met: list[Evidence] = []
    for slo, objective, span in measurable:
        window = promql.format_duration(span)
        try:
            reading = _error_ratio(prometheus, slo, window, ctx)
        except LiveError as exc:
            return exc.result("Prometheus")
        if isinstance(reading, str):
            undecided.append(Evidence(path=slo.path, line=slo.line, value=f"{slo.name}: {reading}"))
            continue
        attainment = 1 - reading.error_ratio
        remaining = 1 - reading.error_ratio / (1 - objective)
        figures.append(
            {
                "name": slo.name,
                "objective": objective,
                "window": window,
                "attainment": round(attainment, 9),
                "error_budget_remaining": round(remaining, 9),
                "observed_at": when,
                "source": reading.source,
            }
        )
        line = (
            f"{slo.name}: {attainment * 100:.3f}% over {window} "
            f"(objective {objective * 100:g}%), error budget remaining {remaining * 100:.1f}%"
        )
        (met if attainment >= objective else missed).append(Evidence(path=slo.path, line=slo.line, value=line))
    details = {
        "environment": ctx.live.environment,
        "prometheus": prometheus.url,
        "observed_at": when,
        "slos": figures,
    }
    if missed:
        return failed(
            f"{len(missed)} of {len(measurable)} SLO(s) missed: " + "; ".join(str(e.value) for e in missed),
            missed + undecided + met,
            **details,
        )
    if undecided:
        return errored(
            f"no attainment for {len(undecided)} of {len(measurable)} SLO(s): {undecided[0].value}",
            undecided + met,
            **details,
        )
    return passed(f"{len(met)} SLO(s) met: " + "; ".join(str(e.value) for e in met), met, **details)


@dataclass(frozen=True)
class _Reading:
    error_ratio: float
    source: str  # "sloth recording rule" / "spec query"


def _error_ratio(prometheus: Any, slo: SLO, window: str, ctx: CheckContext) -> _Reading | str:
    """The SLO's error ratio over ``window`` at ``ctx.now``, or why there is none."""
    if slo.sloth_id:
        recorded = promql.selector_text(f"slo:sli_error:ratio_rate{window}", {"sloth_id": slo.sloth_id})
        value = _single(prometheus.query(recorded, ctx.now))
        if value is not None and math.isfinite(value):
            return _Reading(value, "sloth recording rule")
    query = error_ratio_query(slo, window)
    if query is None:
        return "its indicator cannot be measured from its spec (no errors/total or good/total queries)"
    value = _single(prometheus.query(query, ctx.now))
    if value is None:
        return f"Prometheus has no data for its SLI over {window} (query: {query})"
    if not math.isfinite(value):
        return f"no events over {window} (the SLI's total is 0)"
    return _Reading(min(max(value, 0.0), 1.0), "spec query")


def _single(series: list[tuple[dict[str, str], float]]) -> float | None:
    return series[0][1] if series else None


def error_ratio_query(slo: SLO, window: str) -> str | None:
    """A PromQL expression of the SLO's error ratio over ``window``, from the queries of its spec."""
    q = slo.queries
    if slo.generator == "sloth":
        if "error_query" in q or "errorQuery" in q:
            errors, total = q.get("error_query") or q["errorQuery"], q.get("total_query") or q["totalQuery"]
            return f"({promql.substitute_window(errors, window)}) / ({promql.substitute_window(total, window)})"
        raw = q.get("error_ratio_query") or q.get("errorRatioQuery")
        return promql.substitute_window(raw, window) if raw else None
    if slo.generator == "pyrra":
        if "errors" in q:
            return f"{_increase(q['errors'], window)} / {_increase(q['total'], window)}"
        if "success" in q:
            return f"1 - {_increase(q['success'], window)} / {_increase(q['total'], window)}"
        if "metric" in q:
            return f"1 - avg(avg_over_time(({q['metric']})[{window}:{SUBQUERY_STEP}]))"
        return None
    if "total" in q and ("bad" in q or "good" in q):
        part, total = _over_window((q.get("bad") or q["good"], q["total"]), window)
        return f"{part} / {total}" if "bad" in q else f"1 - {part} / {total}"
    return None


def _increase(selector: str, window: str) -> str:
    """Pyrra's counters are bare selectors: their increase over the window."""
    return f"sum(increase({selector}[{window}]))"


def _over_window(queries: tuple[str, str], window: str) -> list[str]:
    """OpenSLO queries each summed over the window, alike, so that their ratio is the ratio of the
    event counts: counters (``counter: true``: bare selectors, or sums of them, with no range) by
    their increase; rate-style queries by the sum of their values (a subquery)."""
    if not any(promql.range_windows(promql.parse(query)) for query in queries):
        return [
            _increase(query, window)
            if isinstance(promql.parse(query), VectorSelector)
            else f"sum(increase(({query})[{window}:{SUBQUERY_STEP}]))"
            for query in queries
        ]
    return [f"sum(sum_over_time(({query})[{window}:{SUBQUERY_STEP}]))" for query in queries]
