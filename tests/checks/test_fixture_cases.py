"""Every fixture case under tests/fixtures/checks/ concludes what its expected.yaml says, and
every built-in check has cases for each status it can give."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from prr.plugin import builtin_checks
from tests.checks.cases import CASES_DIR, Expectation, case_repo, expectations
from tests.conftest import run_check

EXPECTATIONS = expectations()
STATUSES = {"pass", "fail", "not_applicable", "error"}  # and warn, for the checks that can warn
# Statuses a check never gives, by design, and why (each is also absent from its module).
NEVER = {
    "alerts.defined": {"not_applicable": "it is the check that requires alert rules to exist"},
    "delivery.ci": {"not_applicable": "it is the check that requires a CI pipeline to exist"},
    "delivery.rollback": {
        "not_applicable": "every service needs a rollback path",
        "error": "files it cannot read are the runbook and resilience checks' to report; it looks for a path elsewhere",
    },
    "dr.plan": {"not_applicable": "it is the check that requires recovery targets to exist"},
    "observability.dashboard": {"not_applicable": "every service needs a dashboard"},
    "ownership.catalog": {"not_applicable": "every service needs a descriptor"},
    "ownership.oncall": {"not_applicable": "every service needs an on-call"},
    "ownership.tier": {
        "not_applicable": "every service needs a tier",
        "error": "a tier source that cannot be read is passed over for the next one (a broken descriptor is ownership.catalog's error)",
    },
    "runbook.present": {"not_applicable": "it is the check that requires a runbook to exist"},
    "slo.defined": {"not_applicable": "it is the check that requires SLOs to exist"},
}
CONSTRUCTORS = {
    "pass": "passed(",
    "fail": "failed(",
    "warn": "warned(",
    "error": "errored(",
    "not_applicable": "not_applicable(",
}


@pytest.mark.parametrize("expected", EXPECTATIONS, ids=[e.id for e in EXPECTATIONS])
def test_case(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, expected: Expectation) -> None:
    bindir = tmp_path / "bin"  # git and nothing else on PATH: no helm, whatever this machine has
    bindir.mkdir()
    (bindir / "git").symlink_to(shutil.which("git") or "git")
    monkeypatch.setenv("PATH", str(bindir))
    result = run_check(
        expected.check, case_repo(expected.case, tmp_path, expected.now), now=expected.now, **expected.options
    )
    assert (result.status.value, expected.summary in result.summary) == (expected.status, True), result.summary
    cited = {f"{e.path}:{e.line}" for e in result.evidence} | {e.path for e in result.evidence if e.path}
    assert set(expected.evidence) <= cited, result.evidence
    if expected.status in ("fail", "error"):  # where to look: a file and line, or what to add
        assert result.evidence and all((e.path and e.line) or (not e.path and e.value) for e in result.evidence)


def test_cases_are_kept_by_check_id() -> None:
    builtin = set(builtin_checks())
    for folder in CASES_DIR.iterdir():
        assert folder.name in builtin, f"{folder}: not a built-in check id"
        for case in folder.iterdir():
            assert (case / "expected.yaml").is_file(), f"{case}: no expected.yaml"
            assert folder.name in (case / "expected.yaml").read_text(), f"{case}: says nothing about {folder.name}"


def _source(check_id: str) -> str:
    return Path(builtin_checks()[check_id].run.__code__.co_filename).read_text()


# Live checks ask running servers: their pass / fail / error / not_applicable cases run against a
# real Prometheus and Alertmanager in tests/test_live_checks.py, not over fixture folders.
REPO_CHECKS = sorted(check_id for check_id, check in builtin_checks().items() if check.kind != "live")


@pytest.mark.parametrize("check_id", REPO_CHECKS)
def test_every_status_of_every_builtin_check_has_a_case(check_id: str) -> None:
    """pass, fail, not_applicable and error (but those it never gives, by design), and warn
    where the check can warn: a new check without cases fails here."""
    source = _source(check_id)
    wanted = (STATUSES - set(NEVER.get(check_id, {}))) | ({"warn"} if re.search(r"\bwarned\(", source) else set())
    covered = {e.status for e in EXPECTATIONS if e.check == check_id}
    assert wanted <= covered, f"{check_id}: no fixture case for {sorted(wanted - covered)}"


@pytest.mark.parametrize("check_id", sorted(NEVER))
def test_statuses_said_never_given_are_not_given(check_id: str) -> None:
    source = _source(check_id)
    for status in NEVER[check_id]:
        assert not re.search(rf"(?<![\w.]){re.escape(CONSTRUCTORS[status])}", source), (check_id, status)
