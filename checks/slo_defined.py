"""slo.defined: the service has valid SLOs (Tier-0/1: an availability and a latency SLO)."""

from __future__ import annotations

from prr.checks.formats.files import non_production_dirs, set_aside, unreadable
from prr.checks.formats.slo import SLO, load_slos
from prr.plugin import CheckContext, Evidence, Result, check, errored, failed, passed, warned

EXAMPLE = """\
# slos/checkout.yaml (Sloth, https://sloth.dev)
version: "prometheus/v1"
service: "checkout"
slos:
  - name: "requests-availability"
    objective: 99.9          # percent, below 100; Sloth's window is 30 days
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="checkout"}[{{.window}}]))
    alerting:
      name: CheckoutHighErrorRate
      page_alert:
        labels: {severity: page}
  - name: "requests-latency"
    objective: 99
    sli:
      events:
        error_query: |
          sum(rate(http_request_duration_seconds_count{job="checkout"}[{{.window}}]))
          - sum(rate(http_request_duration_seconds_bucket{job="checkout",le="0.3"}[{{.window}}]))
        total_query: sum(rate(http_request_duration_seconds_count{job="checkout"}[{{.window}}]))
    alerting:
      name: CheckoutHighLatency
      page_alert:
        labels: {severity: page}"""


@check(
    id="slo.defined",
    title="Service has SLOs",
    category="slo",
    description="The repo holds at least one valid SLO spec (OpenSLO, Sloth or Pyrra): an objective "
    "below 100% over a time window. Tier-0 and Tier-1 services need an availability SLO and a "
    "latency SLO (one whose indicator measures duration: a histogram bucket ratio, a threshold "
    "on a latency metric, Pyrra `latency`). "
    "Specs, rules and configs under non-production folders (`examples/`, `docs/`, `test/`, "
    "`tests/`, `testdata/`, `fixtures/`, `e2e/`, `hack/`...; the portal config's "
    "`scan.non_production_dirs`) are not the service's; when only those hold any, the summary says so.",
    remediation="Add an SLO spec outside example and test folders. A Sloth file with an "
    f"availability and a latency SLO:\n\n```yaml\n{EXAMPLE}\n```\n\nOpenSLO (`apiVersion: "
    "openslo/v1`, kind SLO with `timeWindow` and `objectives[].target`) and Pyrra "
    "(`pyrra.dev/v1alpha1` ServiceLevelObjective) specs count too. See "
    "https://sre.google/workbook/implementing-slos/, https://sloth.dev and https://github.com/pyrra-dev/pyrra.",
    docs_url="https://sre.google/workbook/implementing-slos/",
    params={
        "properties": {
            "require_latency_tiers": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["0", "1"],
                "description": "Tiers that need a latency SLO besides an availability SLO.",
            }
        }
    },
    reads=("OpenSLO, Sloth and Pyrra specs (*.yaml, *.yml)",),
)
def slo_defined(ctx: CheckContext) -> Result:
    dirs = non_production_dirs(ctx.config)
    slos, errors = load_slos(ctx.repo, dirs)
    valid = [s for s in slos if s.valid]
    invalid = [s for s in slos if not s.valid]
    tier = ctx.service.tier
    needed = ("availability", "latency") if tier in ctx.params["require_latency_tiers"] else ()
    missing = [kind for kind in needed if not any(s.kind == kind for s in valid)]
    error_evidence = [e.evidence() for e in errors.values()]
    details = {"slos": [_detail(s) for s in slos], "unreadable": [str(e) for e in errors.values()]}

    if valid and not missing:
        summary = f"{len(valid)} valid SLO(s): " + "; ".join(s.describe() for s in valid)
        if invalid or errors:
            caveat = f"{len(invalid)} invalid SLO(s)" if invalid else ""
            caveat += (" and " if invalid and errors else "") + (
                f"{len(errors)} unreadable spec file(s)" if errors else ""
            )
            return warned(f"{summary}; but {caveat}", _evidence(invalid) + error_evidence, **details)
        return passed(summary, _evidence(valid), **details)
    if errors:
        first = next(iter(errors.values()))
        return unreadable(
            errored(
                f"could not read {len(errors)} SLO spec file(s) ({first}); the readable SLOs do not settle the check",
                error_evidence,
                **details,
            ),
            errors.values(),
        )
    if not slos:
        aside = set_aside((s.path for s in load_slos(ctx.repo, ())[0]), "SLO spec(s)", dirs)
        return failed(
            "no SLO spec found (OpenSLO, Sloth or Pyrra) outside example and test folders"
            + (f"; {aside}" if aside else ""),
            [Evidence(value="add an SLO spec, e.g. slo/<service>.yaml")],
            **details,
        )
    if not valid:
        return failed(
            f"no valid SLO: {len(invalid)} SLO(s) with problems, e.g. "
            f"{invalid[0].name!r}: {'; '.join(invalid[0].problems)}",
            _evidence(invalid),
            **details,
        )
    kinds = " and ".join(missing)
    return failed(
        f"Tier-{tier} services need an availability and a latency SLO; no valid {kinds} "
        f"SLO among: " + "; ".join(s.describe() for s in valid),
        _evidence(valid + invalid),
        **details,
    )


def _evidence(slos: list[SLO]) -> list[Evidence]:
    return [
        Evidence(path=s.path, line=s.line, value="; ".join(s.problems) if s.problems else s.describe()) for s in slos
    ]


def _detail(slo: SLO) -> dict:
    return {
        "name": slo.name,
        "format": slo.source_format,
        "path": slo.path,
        "line": slo.line,
        "kind": slo.kind,
        "objective": slo.objective,
        "window_seconds": slo.window.total_seconds() if slo.window else None,
        "problems": slo.problems,
    }
