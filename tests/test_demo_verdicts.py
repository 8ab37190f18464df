"""End to end: `prr gate` on each demo repo gives the verdict a careful reader of its files gives.

The expected verdicts are documented with the demo fleet (app/demo/repos.py EXPECTED).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from prr import report_output, schemas
from prr.config import load_config
from prr.demo import EXPECTED, create_demo_fleet
from prr.engine import ScanRequest, evaluate
from prr.plugin import load_registry
from prr.repo import open_snapshot
from prr.scorecard import load_scorecard

ROOT = Path(__file__).parent.parent
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("demo")
    create_demo_fleet(dest, now=NOW)
    return dest / "repos"


@pytest.fixture(scope="module")
def reports(fleet: Path) -> dict[str, dict]:
    """Each demo repo scanned as `prr scan --config prr.yaml` would (the demo's portal config)."""
    registry = load_registry()
    card = load_scorecard("production-readiness", registry)
    config = load_config(fleet.parent / "prr.yaml").check_config()
    return {
        name: evaluate(
            ScanRequest(
                snapshot=open_snapshot(str(fleet / name)), scorecard=card, registry=registry, config=config, now=NOW
            )
        )
        for name in EXPECTED
    }


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_verdict_matches_what_the_files_say(reports: dict[str, dict], name: str) -> None:
    report, expected = reports[name], EXPECTED[name]
    statuses = {c["id"]: c["status"] for c in report["checks"]}
    summaries = {c["id"]: f"{c['status']}: {c['summary']}" for c in report["checks"]}
    assert schemas.problems("scan-report", report) == []
    assert report["service"]["tier"] == expected["tier"]
    assert report["service"]["tier_declared"] == expected["tier_declared"]
    for check_id, status in expected["checks"].items():
        assert statuses.get(check_id) == status, (check_id, summaries.get(check_id))
    assert (report["level"], report["ready"]) == (expected["level"], expected["ready"]), summaries


def test_every_unmet_check_says_where_to_look(reports: dict[str, dict]) -> None:
    """Evidence names the file and line to change, or, for a missing file, what to add."""
    for name, report in reports.items():
        for c in report["checks"]:
            if c["status"] in ("fail", "error"):
                assert c["evidence"] and c["remediation"], (name, c["id"])
                for e in c["evidence"]:
                    assert (e.get("path") and e.get("line")) or (not e.get("path") and e.get("value")), (
                        name,
                        c["id"],
                        e,
                    )


@pytest.mark.parametrize("fmt", ["text", "json", "junit", "sarif"])
def test_gate_formats_on_a_demo_repo(fleet: Path, fmt: str) -> None:
    out = subprocess.run(
        [
            *(sys.executable, "-m", "prr.cli", "gate", str(fleet / "user-profile")),
            *("--config", str(fleet.parent / "prr.yaml"), "--format", fmt),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert out.returncode == (0 if EXPECTED["user-profile"]["ready"] else 1), out.stderr
    if fmt == "json":
        assert json.loads(out.stdout)["service"]["ref"] == "component:default/user-profile"
    elif fmt == "junit":
        names = {c.get("name") for c in ET.fromstring(out.stdout).iter("testcase")}
        assert "runbook.alerts-linked" in names
    elif fmt == "sarif":
        results = json.loads(out.stdout)["runs"][0]["results"]
        assert any(r["ruleId"] == "runbook.alerts-linked" and r.get("locations") for r in results)
    else:
        assert "NOT READY" in out.stdout and "runbook.alerts-linked" in out.stdout


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_format_carries_the_same_verdict(reports: dict[str, dict], name: str) -> None:
    report = reports[name]
    text = report_output.to_text(report)
    verdict_line = next(line for line in text.splitlines() if "READY" in line)
    assert verdict_line.startswith("READY" if report["ready"] else "NOT READY")
    assert f"level {report['level'] or 'none'}" in verdict_line
    suite = ET.fromstring(report_output.to_junit(report)).find("testsuite")
    assert int(suite.get("tests")) == len(report["checks"])
    unmet = {c["id"] for c in report["checks"] if c["status"] in ("fail", "error") and not c["waived"]}
    assert {
        c.get("name") for c in suite.iter("testcase") if c.find("failure") is not None or c.find("error") is not None
    } == unmet
    sarif = json.loads(report_output.to_sarif(report))
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= unmet
    # errors are what keeps the service from its tier's bar; misses above it are warnings
    levels, bar = report["scorecard"]["levels"], report["scorecard"]["required_level"]
    by_id = {c["id"]: c for c in report["checks"]}
    for result in sarif["runs"][0]["results"]:
        check = by_id[result["ruleId"]]
        above = levels.index(check["level"]) > levels.index(bar) and not check["blocking"]
        expected = "note" if check["status"] == "warn" else "warning" if above else "error"
        assert result["level"] == expected, (name, check["id"])
