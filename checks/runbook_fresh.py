"""runbook.fresh: every in-repo runbook changed within max_age_days (by git history)."""

from __future__ import annotations

from datetime import timedelta

from prr.checks.formats.files import non_production_dirs
from prr.checks.formats.markdown import RUNBOOK_GLOBS, find_runbooks
from prr.plugin import (
    CheckContext,
    Evidence,
    Result,
    check,
    errored,
    failed,
    holds_until,
    not_applicable,
    passed,
)
from prr.repo import HistoryUnavailable


@check(
    id="runbook.fresh",
    title="Runbook is kept up to date",
    category="runbook",
    description="Each in-repo runbook runbook.present finds (when it finds only stubs, those: "
    "whether they are enough is runbook.present's to judge) was changed within `max_age_days`, by the date of the "
    "last commit that touched it, measured from the time of the scan. A shallow clone that cannot "
    "date a runbook is an error, never a pass. Not applicable when the repo keeps no runbook file.",
    remediation="Review the runbook against the service as it runs today (alerts, dashboards, "
    "dependencies, rollback commands) and commit the update, e.g. a line at the top:\n\n"
    "```markdown\n> Last reviewed {today} by @oncall-payments after the Q1 game day.\n```\n\n"
    "Reviewing runbooks after each incident and game day keeps them true. If the scan runs on a "
    "shallow clone, fetch the full history (`git fetch --unshallow`).",
    docs_url="https://sre.google/workbook/on-call/",
    params={
        "properties": {
            "max_age_days": {
                "type": "integer",
                "minimum": 1,
                "default": 365,
                "description": "How long a runbook may go unchanged.",
            },
        }
    },
    time_dependent=True,
    reads=RUNBOOK_GLOBS + ("git history",),
)
def runbook_fresh(ctx: CheckContext) -> Result:
    max_age = ctx.params["max_age_days"]
    runbooks = find_runbooks(ctx.repo, non_production_dirs(ctx.config))
    docs = runbooks.real() or runbooks.docs  # the real runbooks; else the stubs, which exist all the same
    if not docs:
        return holds_until(not_applicable("no runbook file is kept in the repo (runbook.present reports it)"), None)
    dated = []
    for doc in docs:
        try:
            changed = ctx.repo.last_changed(doc.path)
        except HistoryUnavailable as exc:
            return errored(f"cannot date {doc.path}: {exc}", [Evidence(path=doc.path, line=1)])
        dated.append((doc.path, changed, max(0, (ctx.now - changed).days)))
    evidence = {
        path: Evidence(path=path, line=1, value=f"last changed {changed.date().isoformat()} ({days} days ago)")
        for path, changed, days in dated
    }
    # Every age shown is in whole days: the result holds until the first of them grows by one.
    next_birthday = min(changed + timedelta(days=(ctx.now - changed).days + 1) for _path, changed, _days in dated)
    stale = [(path, days) for path, _changed, days in dated if days > max_age]
    if stale:
        names = ", ".join(f"{path} ({days} days)" for path, days in stale)
        result = failed(f"runbook not changed within {max_age} days: {names}", [evidence[p] for p, _ in stale])
        return holds_until(result, next_birthday)
    path, _changed, days = max(dated, key=lambda d: d[2])
    others = f" (the oldest of {len(dated)} runbooks)" if len(dated) > 1 else ""
    result = passed(f"{path}{others} changed {days} days ago, within {max_age}", list(evidence.values()))
    return holds_until(result, next_birthday)
