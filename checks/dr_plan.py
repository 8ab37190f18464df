"""dr.plan: the service declares its recovery targets (RTO and RPO)."""

from __future__ import annotations

from prr.checks.formats.readiness import DOCS_URL, READINESS_FILES, dr_targets, try_readiness
from prr.plugin import CheckContext, Evidence, Result, check, errored, failed, passed

EXAMPLE = """\
dr:
  rto: 1h     # longest acceptable outage before service is restored
  rpo: 15m    # most data loss acceptable, as time (last good backup/replica)"""


@check(
    id="dr.plan",
    title="Recovery targets are declared",
    category="dr",
    description="The service declares a recovery time objective (RTO) and a recovery point "
    "objective (RPO): `readiness.yaml` `dr.rto` and `dr.rpo` (durations such as 90s, 15m, 1h, 2d), "
    "or `rto`/`rpo` in cortex.yaml `x-cortex-custom-metadata`, opslevel.yml `service.properties` "
    "or service.datadog.yaml `extensions`.",
    remediation="Agree the targets with the business owner and declare them in `readiness.yaml` "
    f"at the repo root:\n\n```yaml\n{EXAMPLE}\n```\n\nThen prove them with a drill (dr.tested).",
    docs_url=DOCS_URL,
    reads=READINESS_FILES + ("cortex.yaml", "opslevel.yml", "service.datadog.yaml"),
)
def dr_plan(ctx: CheckContext) -> Result:
    readiness, error = try_readiness(ctx.repo)
    if error is not None:
        return errored(str(error), [Evidence(path=error.path, line=error.line, value=error.message)])
    problems: list[tuple[str, int | None, str]] = (
        [
            (readiness.path, p.line, str(p))
            for p in readiness.problems
            if p.where in (("dr",), ("dr", "rto"), ("dr", "rpo"))
        ]
        if readiness
        else []
    )
    targets = dr_targets(ctx.repo, readiness)
    problems += targets.problems
    if problems:
        path, line, message = problems[0]
        return errored(f"{path}:{line}: {message}", [Evidence(path=p, line=l, value=m) for p, l, m in problems])
    found = [t for t in (targets.rto, targets.rpo) if t is not None]
    if len(found) == 2:
        return passed(
            f"{targets.rto} and {targets.rpo} declared",
            [Evidence(path=t.path, line=t.line, value=str(t)) for t in found],
        )
    missing = " and ".join(n.upper() for n in ("rto", "rpo") if targets.get(n) is None)
    if readiness is None:
        return failed(
            f"no {missing} target declared (no readiness.yaml)",
            [Evidence(value=f"add {READINESS_FILES[0]} at the repo root")],
        )
    return failed(
        f"no {missing} target declared in {readiness.path}",
        [
            Evidence(path=readiness.path, line=readiness.line_of("dr"), value=f"add dr.{n}")
            for n in ("rto", "rpo")
            if targets.get(n) is None
        ],
    )
