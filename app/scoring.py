"""Roll check results into a verdict, exactly as the scorecard format defines it (docs/scorecards.md).

met: pass, warn or waived; unmet: fail, error; not_applicable leaves a check out.
level: the highest level with every applicable check at or below it met.
score: 100 × Σ weight(met) / Σ weight(applicable).
ready: level ≥ the tier's required level, and every blocking check met.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prr.plugin import Check, Result, Status
from prr.scorecard import Scorecard, ScorecardCheck

MET_STATUSES = {Status.PASS, Status.WARN}


@dataclass(frozen=True)
class Waiver:
    check: str
    reason: str
    approver: str
    expires: datetime
    id: int | None = None

    def in_force(self, now: datetime) -> bool:
        return self.expires > now

    def to_report(self) -> dict[str, Any]:
        return {"reason": self.reason, "approver": self.approver, "expires": _iso(self.expires)}


def check_entry(entry: ScorecardCheck, check: Check, result: Result, waiver: Waiver | None) -> dict[str, Any]:
    """One ``checks[]`` item of the report."""
    status = result.status
    waived = waiver is not None and status in (Status.FAIL, Status.ERROR)
    met = None if status == Status.NOT_APPLICABLE else (status in MET_STATUSES or waived)
    return {
        "id": entry.id,
        "title": check.title,
        "category": check.category,
        "kind": check.kind,
        "level": entry.level,
        "weight": entry.weight,
        "blocking": entry.blocking,
        "status": status.value,
        "met": met,
        "waived": waived,
        "waiver": waiver.to_report() if waiver else None,
        "summary": result.summary,
        "evidence": [e.to_dict() for e in result.evidence],
        "details": result.details,
        "remediation": check.remediation,
        "docs_url": check.docs_url,
    }


def verdict(scorecard: Scorecard, tier: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """score, level, ready and next_steps from the report's check entries."""
    applicable = [e for e in entries if e["met"] is not None]
    if not applicable:
        return {"score": None, "level": None, "ready": False, "next_steps": []}
    total = sum(e["weight"] for e in applicable)
    score = round(100 * sum(e["weight"] for e in applicable if e["met"]) / total, 1)

    level = None
    for candidate in scorecard.levels:
        rank = scorecard.level_index(candidate)
        if all(e["met"] for e in applicable if scorecard.level_index(e["level"]) <= rank):
            level = candidate
        else:
            break
    required = scorecard.required_levels[tier]
    blocking_unmet = [e for e in applicable if e["blocking"] and not e["met"]]
    ready = level is not None and scorecard.level_index(level) >= scorecard.level_index(required) and not blocking_unmet

    next_level = _next_level(scorecard, level)
    steps = blocking_unmet + [
        e for e in applicable if not e["met"] and e["level"] == next_level and e not in blocking_unmet
    ]
    return {
        "score": score,
        "level": level,
        "ready": ready,
        "next_steps": [
            {
                "check": e["id"],
                "title": e["title"],
                "level": e["level"],
                "blocking": e["blocking"],
                "summary": e["summary"],
                "remediation": e["remediation"],
            }
            for e in steps
        ],
    }


def only_errors_block(scorecard: Scorecard, tier: str, entries: list[dict[str, Any]]) -> bool:
    """True when the service is not ready and only ``error`` results stand in the way (`prr gate` exit 3)."""
    if verdict(scorecard, tier, entries)["ready"]:
        return False
    if not any(e["status"] == Status.ERROR.value and not e["met"] for e in entries):
        return False
    optimistic = [{**e, "met": True} if e["status"] == Status.ERROR.value else e for e in entries]
    return verdict(scorecard, tier, optimistic)["ready"]


def _next_level(scorecard: Scorecard, level: str | None) -> str | None:
    index = scorecard.level_index(level) + 1
    return scorecard.levels[index] if index < len(scorecard.levels) else None


def pick_waiver(waivers: Iterable[Waiver], check_id: str, now: datetime) -> Waiver | None:
    """The waiver in force for a check (the one expiring last), if any."""
    live = [w for w in waivers if w.check == check_id and w.in_force(now)]
    return max(live, key=lambda w: w.expires) if live else None


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
