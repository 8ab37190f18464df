"""dr.plan and dr.tested: recovery targets declared, and drills that prove them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.checks.cases import NOW
from tests.conftest import run_check

JUNE_2025 = datetime(2025, 6, 1, 12, tzinfo=UTC)


def days_ago(n: int) -> str:
    return (NOW.date() - timedelta(days=n)).isoformat()


def drill(age: int, outcome: str = "pass", rto: str | None = "20m", rpo: str | None = "1m") -> str:
    measured = (f"\n      measured_rto: {rto}" if rto else "") + (f"\n      measured_rpo: {rpo}" if rpo else "")
    return (
        f"    - date: {days_ago(age)}\n      scenario: restore the invoices database from backup{measured}\n"
        f"      outcome: {outcome}\n      evidence: https://wiki.acme.example/dr/{age}\n"
    )


def readiness(*drills: str, targets: str = "  rto: 1h\n  rpo: 15m\n", tier: int = 1) -> str:
    return f"tier: {tier}\ndr:\n{targets}" + ("  drills:\n" + "".join(drills) if drills else "")


TESTED_CASES = [
    # (name, readiness.yaml, status, summary fragment, evidence line of the drill that decided)
    (
        "recent passing drill",
        readiness(drill(40)),
        "pass",
        "passed, 40 days ago: RTO 20m within 1h, RPO 1m within 15m",
        6,
    ),
    (
        "older passing drill within the window counts",
        readiness(drill(10, outcome="fail"), drill(90)),
        "pass",
        "passed, 90 days ago",
        12,
    ),
    ("no drills", readiness(), "fail", "no DR drill recorded in readiness.yaml", 2),
    ("too old", readiness(drill(400)), "fail", "400 days old (max 365)", 6),
    ("failed outcome", readiness(drill(20, outcome="fail")), "fail", "outcome fail", 6),
    ("partial outcome", readiness(drill(20, outcome="partial")), "fail", "outcome partial", 6),
    ("measured RTO over target", readiness(drill(20, rto="2h")), "fail", "measured RTO 2h over the 1h target", 6),
    ("measured RPO over target", readiness(drill(20, rpo="1h")), "fail", "measured RPO 1h over the 15m target", 6),
    ("RPO not measured", readiness(drill(20, rpo=None)), "fail", "no measured_rpo", 6),
    (
        "no targets to measure against",
        readiness(drill(20), targets="  rto: 1h\n"),
        "fail",
        "no RPO target to measure against (declare dr.rpo)",
        5,
    ),
    ("dated in the future", readiness(drill(-30)), "fail", "dated in the future", 6),
    ("'passed' is read as pass", readiness(drill(20, outcome="passed")), "pass", "passed, 20 days ago", 6),
    ("'failed' is read as fail", readiness(drill(20, outcome="failed")), "fail", "outcome fail", 6),
    ("bad outcome word", readiness(drill(20, outcome="ok")), "error", "'ok' is not one of", 10),
]


@pytest.mark.parametrize("name, text, status, summary, line", TESTED_CASES, ids=[c[0] for c in TESTED_CASES])
def test_tested(make_repo, name, text, status, summary, line) -> None:
    result = run_check("dr.tested", make_repo({"readiness.yaml": text}), now=NOW)
    assert (result.status.value, summary in result.summary) == (status, True), result.summary
    assert ("readiness.yaml", line) in [(e.path, e.line) for e in result.evidence]


def test_tested_applies_to_tier_0_and_1_only(make_repo) -> None:
    repo = make_repo({"readiness.yaml": readiness(tier=2)})
    result = run_check("dr.tested", repo, now=NOW)
    assert result.status.value == "not_applicable" and "this one is Tier-2" in result.summary
    assert run_check("dr.tested", repo, params={"tiers": ["0", "1", "2"]}, now=NOW).status.value == "fail"


def test_tested_is_measured_from_the_scan_time(make_repo) -> None:
    repo = make_repo({"readiness.yaml": readiness(drill(40))})
    assert run_check("dr.tested", repo, now=NOW).status.value == "pass"
    later = NOW + timedelta(days=400)
    assert run_check("dr.tested", repo, now=later).status.value == "fail"


PLAN_CASES = [
    # (name, files, status, summary fragment, (path, line))
    (
        "ISO-8601 targets",
        {"readiness.yaml": "dr:\n  rto: PT30M\n  rpo: PT0S\n"},
        "pass",
        "RTO 30m and RPO 0s declared",
        ("readiness.yaml", 2),
    ),
    (
        "RPO missing",
        {"readiness.yaml": "tier: 1\ndr:\n  rto: 4h\n"},
        "fail",
        "no RPO target declared in readiness.yaml",
        ("readiness.yaml", 2),
    ),
    (
        "readiness.yaml without dr",
        {"readiness.yaml": "tier: 1\noncall: PABC123\n"},
        "fail",
        "no RTO and RPO target declared in readiness.yaml",
        ("readiness.yaml", 1),
    ),
    (
        "no readiness.yaml",
        {"README.md": "# invoices\n"},
        "fail",
        "no RTO and RPO target declared (no readiness.yaml)",
        (None, None),
    ),
    (
        "opslevel properties",
        {"opslevel.yml": "version: 1\nservice:\n  name: invoices\n  properties:\n    rto: 2h\n    rpo: 30m\n"},
        "pass",
        "RTO 2h and RPO 30m",
        ("opslevel.yml", 5),
    ),
    (
        "typo under dr",
        {"readiness.yaml": "dr:\n  rto: 1h\n  rp0: 5m\n"},
        "error",
        "unknown key 'rp0'",
        ("readiness.yaml", 3),
    ),
    (
        "broken portal file and nothing else",
        {"cortex.yaml": "info:\n  x-cortex-tag: [\n"},
        "error",
        "cortex.yaml",
        ("cortex.yaml", 3),
    ),
]


@pytest.mark.parametrize("name, files, status, summary, where", PLAN_CASES, ids=[c[0] for c in PLAN_CASES])
def test_plan(make_repo, name, files, status, summary, where) -> None:
    result = run_check("dr.plan", make_repo(files), now=NOW)
    assert (result.status.value, summary in result.summary) == (status, True), result.summary
    assert where in [(e.path, e.line) for e in result.evidence]
