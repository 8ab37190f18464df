"""Scoring as docs/scorecards.md defines it, table-driven over small scorecards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from prr.plugin import Check, Result, Status
from prr.scorecard import Scorecard, ScorecardCheck
from prr.scoring import Waiver, check_entry, only_errors_block, pick_waiver, verdict

CARD = Scorecard(
    id="t",
    title="t",
    version="1",
    levels=("bronze", "silver", "gold"),
    required_levels={"0": "gold", "1": "silver", "2": "bronze"},
    default_tier="1",
    settings={},
    checks=(
        ScorecardCheck("a.owner", "bronze", weight=3, blocking=True),
        ScorecardCheck("a.runbook", "bronze"),
        ScorecardCheck("b.slo", "silver", weight=2),
        ScorecardCheck("b.dr", "silver", tiers=("0", "1")),
        ScorecardCheck("c.pdb", "gold"),
    ),
    source="inline",
)
NOW = datetime(2026, 11, 27, tzinfo=UTC)


def entries(statuses: dict[str, str], waivers: list[Waiver] = ()) -> list[dict]:
    out = []
    for sc in CARD.checks:
        if sc.id not in statuses:
            continue
        check = Check(
            id=sc.id, title=sc.id, category="x", description="", remediation=f"fix {sc.id}", run=lambda ctx: None
        )
        out.append(check_entry(sc, check, Result(Status(statuses[sc.id]), sc.id), pick_waiver(waivers, sc.id, NOW)))
    return out


ALL_PASS = {"a.owner": "pass", "a.runbook": "pass", "b.slo": "pass", "b.dr": "pass", "c.pdb": "pass"}


@pytest.mark.parametrize(
    "tier, statuses, score, level, ready, steps",
    [
        ("1", ALL_PASS, 100.0, "gold", True, []),
        # warn counts as met
        ("0", {**ALL_PASS, "c.pdb": "warn"}, 100.0, "gold", True, []),
        # a gold miss: silver reached, Tier-1 ready, Tier-0 not
        ("1", {**ALL_PASS, "c.pdb": "fail"}, 87.5, "silver", True, ["c.pdb"]),
        ("0", {**ALL_PASS, "c.pdb": "fail"}, 87.5, "silver", False, ["c.pdb"]),
        # a bronze miss caps the level at none even when silver checks pass
        ("2", {**ALL_PASS, "a.runbook": "fail"}, 87.5, None, False, ["a.runbook"]),
        # error is unmet, never silently pass
        ("1", {**ALL_PASS, "b.slo": "error"}, 75.0, "bronze", False, ["b.slo"]),
        # not_applicable leaves the check out of score and level
        ("2", {**ALL_PASS, "b.dr": "not_applicable", "c.pdb": "not_applicable"}, 100.0, "gold", True, []),
        # blocking unmet: not ready at any level, listed first in next steps
        ("2", {**ALL_PASS, "a.owner": "fail", "b.slo": "fail"}, 37.5, None, False, ["a.owner"]),
        # nothing applies: no score, no level
        ("1", {k: "not_applicable" for k in ALL_PASS}, None, None, False, []),
    ],
)
def test_verdict(tier, statuses, score, level, ready, steps) -> None:
    result = verdict(CARD, tier, entries(statuses))
    assert (result["score"], result["level"], result["ready"]) == (score, level, ready)
    assert [s["check"] for s in result["next_steps"]] == steps
    assert all(s["remediation"] == f"fix {s['check']}" for s in result["next_steps"])


def test_next_steps_list_blocking_then_the_lowest_unreached_level() -> None:
    result = verdict(CARD, "1", entries({**ALL_PASS, "a.owner": "fail", "a.runbook": "fail", "b.slo": "fail"}))
    assert [s["check"] for s in result["next_steps"]] == ["a.owner", "a.runbook"]


def test_waiver_counts_as_met_until_it_expires() -> None:
    waiver = Waiver("b.slo", "SLOs land next sprint", "sre-lead", NOW + timedelta(days=1))
    waived = entries({**ALL_PASS, "b.slo": "fail"}, [waiver])
    slo = next(e for e in waived if e["id"] == "b.slo")
    assert slo["status"] == "fail" and slo["met"] is True and slo["waived"] is True
    assert slo["waiver"]["approver"] == "sre-lead"
    assert verdict(CARD, "1", waived)["ready"] is True
    expired = Waiver("b.slo", "SLOs land next sprint", "sre-lead", NOW - timedelta(seconds=1))
    assert verdict(CARD, "1", entries({**ALL_PASS, "b.slo": "fail"}, [expired]))["ready"] is False


@pytest.mark.parametrize(
    "statuses, undecided",
    [
        ({**ALL_PASS, "b.slo": "error"}, True),  # only an error stands in the way
        ({**ALL_PASS, "b.slo": "error", "b.dr": "fail"}, False),  # a real failure decides
        (ALL_PASS, False),  # ready
    ],
)
def test_only_errors_block(statuses, undecided) -> None:
    assert only_errors_block(CARD, "1", entries(statuses)) is undecided
