"""`prr gate`: verdicts, the four formats, exit codes, --ref, URLs, stdout/stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from prr import schemas
from tests.test_storage import MINI_CARD, catalog

ROOT = Path(__file__).parent.parent


def gate(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "prr.cli", "gate", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


@pytest.fixture
def card(tmp_path: Path) -> str:
    (tmp_path / "card.yaml").write_text(MINI_CARD)
    return str(tmp_path / "card.yaml")


@pytest.fixture
def checkout(make_repo):
    repo = make_repo({"catalog-info.yaml": catalog("checkout", "1")}, days_ago=5, name="checkout")
    return repo


def test_ready_repo_exits_0_with_a_valid_json_report(checkout, card, tmp_path) -> None:
    out = gate(str(checkout.path), "--scorecard", card, "--format", "json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert schemas.problems("scan-report", report) == []
    assert report["service"] == {
        "ref": "component:default/checkout",
        "name": "checkout",
        "owner": "team-checkout",
        "tier": "1",
        "tier_declared": True,
        "tier_source": "catalog-info.yaml annotation prr/tier",
        "lifecycle": "production",
    }
    assert (report["level"], report["ready"], report["score"]) == ("silver", True, 100.0)
    assert "evaluating" in out.stderr and "evaluating" not in out.stdout


def test_not_ready_exits_1_and_text_ends_with_verdict_and_next_steps(make_repo, card, tmp_path) -> None:
    repo = make_repo({"catalog-info.yaml": catalog("search", None)})
    out = gate(str(repo.path), "--scorecard", card, cwd=tmp_path)
    assert out.returncode == 1
    assert "NOT READY  level bronze (Tier-1 needs silver)" in out.stdout
    assert "no tier declared: held to the default" in out.stdout
    steps = out.stdout.split("Next steps\n", 1)[1]
    assert steps.lstrip().startswith("1. ownership.tier")
    assert "prr/tier:" in steps  # the whole remediation, example included
    assert "\x1b[" not in out.stdout  # no colour codes when not on a terminal


def test_tier_flag_overrides_the_declared_tier(checkout, card, tmp_path) -> None:
    report = json.loads(
        gate(str(checkout.path), "--scorecard", card, "--tier", "2", "--format", "json", cwd=tmp_path).stdout
    )
    assert report["service"]["tier"] == "2" and report["service"]["tier_source"] == "--tier"
    assert report["scorecard"]["required_level"] == "bronze"


def test_junit_has_one_testcase_per_check(make_repo, card, tmp_path) -> None:
    repo = make_repo({"README.md": "nothing\n"})
    out = gate(
        str(repo.path), "--scorecard", card, "--format", "junit", "--output", str(tmp_path / "r.xml"), cwd=tmp_path
    )
    assert out.returncode == 1 and out.stdout == ""
    suite = ET.parse(tmp_path / "r.xml").getroot().find("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {"ownership.catalog", "ownership.tier"}
    assert cases["ownership.catalog"].find("failure") is not None
    assert suite.get("failures") == "2"


def test_sarif_points_failures_at_file_and_line(make_repo, card, tmp_path) -> None:
    repo = make_repo({"catalog-info.yaml": catalog("billing", "tier-9")})
    sarif = json.loads(gate(str(repo.path), "--scorecard", card, "--format", "sarif", cwd=tmp_path).stdout)
    assert sarif["version"] == "2.1.0"
    [result] = sarif["runs"][0]["results"]
    assert result["ruleId"] == "ownership.tier" and "tier-9" in result["message"]["text"]
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "catalog-info.yaml" and location["region"]["startLine"] == 6


def test_ref_and_uncommitted_changes(checkout, card, tmp_path) -> None:
    first = checkout.commit({}, "empty")
    checkout.commit({"catalog-info.yaml": None}, "remove the descriptor")
    (checkout.path / "catalog-info.yaml").write_text(catalog("checkout", "1"))  # uncommitted, ignored
    head = gate(str(checkout.path), "--scorecard", card, "--format", "json", cwd=tmp_path)
    assert head.returncode == 1 and "uncommitted changes" in head.stderr
    old = json.loads(
        gate(str(checkout.path), "--scorecard", card, "--ref", first, "--format", "json", cwd=tmp_path).stdout
    )
    assert old["source"]["commit"] == first and old["ready"] is True


def test_git_url_is_mirrored_into_the_cache(checkout, card, tmp_path) -> None:
    env = {"PRR_CACHE_DIR": str(tmp_path / "cache")}
    url = f"file://{checkout.path}"
    assert gate(url, "--scorecard", card, cwd=tmp_path, env=env).returncode == 0
    checkout.commit({"catalog-info.yaml": None}, "drop catalog")
    again = json.loads(gate(url, "--scorecard", card, "--format", "json", cwd=tmp_path, env=env).stdout)
    assert again["ready"] is False  # fetched incrementally: the new commit is seen
    assert len(list((tmp_path / "cache").glob("*.git"))) == 1


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["/nonexistent/repo"], 3, "no such directory"),
        (["{tmp}"], 3, "not a git repository"),
        (["{repo}", "--scorecard", "nope"], 2, "no shipped scorecard"),
        (["{repo}", "--tier", "7"], 2, "--tier '7'"),
        (["{repo}", "--ref", "no-such-branch"], 3, "cannot resolve 'no-such-branch'"),
        (["{repo}", "--config", "/nonexistent.yaml"], 2, "config file not found"),
        (["{repo}", "--config", "{tmp}/central-missing.yaml"], 2, "routing.alertmanager_config: no such file"),
        (["{repo}", "--output", "{tmp}/no-such-dir/r.json"], 2, "cannot write the report to"),
    ],
)
def test_errors_are_clear_and_exit_with_the_right_code(checkout, card, tmp_path, args, code, message) -> None:
    (tmp_path / "central-missing.yaml").write_text("routing: {alertmanager_config: /etc/nope/alertmanager.yml}\n")
    args = [a.format(tmp=tmp_path, repo=checkout.path) for a in args]
    if "--scorecard" not in args:
        args += ["--scorecard", card]
    out = gate(*args, cwd=tmp_path)
    assert out.returncode == code and message in out.stderr and out.stdout == ""


def test_config_is_never_read_from_the_scanned_repo(make_repo, card, tmp_path) -> None:
    repo = make_repo(
        {
            "catalog-info.yaml": catalog("sneaky", None),
            "prr.yaml": "waivers: [{service: 'component:default/sneaky', check: ownership.tier, "
            "reason: 'we waive ourselves', approver: me, expires: '2099-01-01T00:00:00Z'}]\n",
        }
    )
    out = gate(str(repo.path), "--scorecard", card, "--format", "json", cwd=repo.path)
    assert json.loads(out.stdout)["ready"] is False


def test_waivers_from_the_config_apply(make_repo, card, tmp_path) -> None:
    repo = make_repo({"catalog-info.yaml": catalog("search", None)})
    (tmp_path / "prr.yaml").write_text(
        "waivers:\n  - service: component:default/search\n    check: ownership.tier\n"
        "    reason: Tier review scheduled with SRE\n    approver: sre-lead\n    expires: '2099-01-01T00:00:00Z'\n"
    )
    out = gate(
        str(repo.path), "--scorecard", card, "--config", str(tmp_path / "prr.yaml"), "--format", "json", cwd=tmp_path
    )
    report = json.loads(out.stdout)
    tier = next(c for c in report["checks"] if c["id"] == "ownership.tier")
    assert out.returncode == 0 and tier["waived"] and tier["waiver"]["approver"] == "sre-lead"


def test_a_broken_catalog_is_an_error_with_its_line_and_the_other_checks_still_run(make_repo, card, tmp_path) -> None:
    repo = make_repo(
        {"catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: [x\n"}
    )
    report = json.loads(gate(str(repo.path), "--scorecard", card, "--format", "json", cwd=tmp_path).stdout)
    by_id = {c["id"]: c for c in report["checks"]}
    assert by_id["ownership.catalog"]["status"] == "error"
    assert by_id["ownership.catalog"]["evidence"] == [{"path": "catalog-info.yaml", "line": 5}]
    assert by_id["ownership.tier"]["status"] == "fail"
    assert report["service"]["ref"] == f"component:default/{repo.path.name}"
