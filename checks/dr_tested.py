"""dr.tested: a recent DR drill passed, with measured RTO/RPO within the targets."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from prr.checks.formats.durations import format_duration
from prr.checks.formats.readiness import READINESS_FILES, Drill, DrTargets, dr_targets, try_readiness
from prr.plugin import CheckContext, Evidence, Result, check, errored, failed, holds_until, not_applicable, passed

EXAMPLE = """\
dr:
  rto: 1h
  rpo: 15m
  drills:
    - date: {today}
      scenario: primary Postgres lost; restore from PITR backup into a new instance
      measured_rto: 42m
      measured_rpo: 5m
      outcome: pass          # pass | fail | partial
      evidence: https://wiki.example.com/dr/checkout-game-day"""


@check(
    id="dr.tested",
    title="Disaster recovery is tested",
    category="dr",
    description="`readiness.yaml` `dr.drills` records a drill with outcome `pass` within "
    "`max_age_days` of the scan (the scorecard sets 180 for Tier-0, 365 for Tier-1) whose "
    "measured RTO and RPO are within the declared targets. Applies to the tiers in `tiers`.",
    remediation="Run a recovery drill (restore from backup, fail over a region, rebuild from "
    "scratch), time it, and record it in `readiness.yaml` (the date is the day of the drill):\n\n"
    f"```yaml\n{EXAMPLE}\n```\n\nA failed drill is worth recording too: fix what it found and "
    "drill again.",
    docs_url="https://sre.google/sre-book/testing-reliability/#disaster-recovery-testing",
    params={
        "properties": {
            "max_age_days": {
                "type": "integer",
                "minimum": 1,
                "default": 365,
                "description": "How recent the passing drill must be.",
            },
            "tiers": {
                "type": "array",
                "items": {"type": "string"},
                "default": ["0", "1"],
                "description": "The tiers this check applies to.",
            },
        }
    },
    time_dependent=True,
    reads=READINESS_FILES,
)
def dr_tested(ctx: CheckContext) -> Result:
    if ctx.service.tier not in ctx.params["tiers"]:
        return holds_until(
            not_applicable(
                f"DR drills are required of Tier-{'/'.join(ctx.params['tiers'])} services; "
                f"this one is Tier-{ctx.service.tier}"
            ),
            None,
        )
    readiness, error = try_readiness(ctx.repo)
    if error is not None:
        return errored(str(error), [Evidence(path=error.path, line=error.line, value=error.message)])
    if readiness is None:
        return holds_until(
            failed(
                "no DR drill recorded (no readiness.yaml)",
                [Evidence(value=f"add {READINESS_FILES[0]} at the repo root")],
            ),
            None,
        )
    problems: list[tuple[str, int | None, str]] = [
        (readiness.path, p.line, str(p)) for p in readiness.problems_under("dr")
    ]
    targets = dr_targets(ctx.repo, readiness)
    problems += targets.problems
    if problems:
        path, line, message = problems[0]
        return errored(f"{path}:{line}: {message}", [Evidence(path=p, line=l, value=m) for p, l, m in problems])
    drills = sorted(readiness.drills(), key=lambda d: d.date, reverse=True)
    if not drills:
        return holds_until(
            failed(
                f"no DR drill recorded in {readiness.path} (dr.drills is empty or missing)",
                [Evidence(path=readiness.path, line=readiness.line_of("dr"), value="add dr.drills")],
            ),
            None,
        )
    max_age = ctx.params["max_age_days"]
    verdicts = [(drill, _shortfalls(drill, targets, ctx.now, max_age)) for drill in drills]
    passing = [(d, r) for d, r in verdicts if not r]
    tomorrow = datetime.combine(ctx.now.date() + timedelta(days=1), time.min, tzinfo=ctx.now.tzinfo)
    if passing:  # drill ages are counted in days of ctx.now's date: the result holds until tomorrow
        drill = passing[0][0]
        result = passed(
            f"drill of {drill.date.date()} ({drill.scenario}) passed, {_age(ctx.now, drill)} days ago: "
            + ", ".join(_within(drill, targets)),
            [Evidence(path=readiness.path, line=drill.line, url=drill.evidence, value=drill.scenario)],
        )
        return holds_until(result, tomorrow)
    newest, reasons = verdicts[0]
    result = failed(
        f"no passing drill within {max_age} days: the latest, {newest.date.date()} "
        f"({newest.scenario}): {'; '.join(reasons)}",
        [Evidence(path=readiness.path, line=d.line, value="; ".join(r)) for d, r in verdicts],
    )
    return holds_until(result, tomorrow)


def _age(now: datetime, drill: Drill) -> int:
    return (now.date() - drill.date.date()).days


def _shortfalls(drill: Drill, targets: DrTargets, now: datetime, max_age: int) -> list[str]:
    """Why this drill does not prove recovery (empty when it does)."""
    reasons = []
    age = _age(now, drill)
    if age < 0:
        reasons.append("dated in the future")
    elif age > max_age:
        reasons.append(f"{age} days old (max {max_age})")
    if drill.outcome != "pass":
        reasons.append(f"outcome {drill.outcome}")
    for name in ("rto", "rpo"):
        target, measured = targets.get(name), getattr(drill, f"measured_{name}")
        if target is None:
            reasons.append(f"no {name.upper()} target to measure against (declare dr.{name})")
        elif measured is None:
            reasons.append(f"no measured_{name}")
        elif measured > target.value:
            reasons.append(
                f"measured {name.upper()} {format_duration(measured)} over the {format_duration(target.value)} target"
            )
    return reasons


def _within(drill: Drill, targets: DrTargets) -> list[str]:
    """How a passing drill (one with both targets declared) measured up to them."""
    return [
        f"{n.upper()} {format_duration(getattr(drill, f'measured_{n}'))} within {format_duration(target.value)}"
        for n in ("rto", "rpo")
        if (target := targets.get(n)) is not None
    ]
