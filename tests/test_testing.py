"""prr.testing: what a plugin author tests a check with — real git repos with dated history, and
the check run as a scan runs it, on a fixed clock."""

from __future__ import annotations

from datetime import timedelta

import pytest

from prr.plugin import CheckContext, ConfigError, Evidence, Result, Status, check, failed, passed
from prr.testing import NOW, File, RepoBuilder, days_before, files_in, run_check

RUNBOOK = (
    "# Ledger runbook\n\nThe ledger records every payment the checkout service accepts and answers balance "
    "queries for the finance dashboards. It runs three replicas behind the internal load balancer and keeps "
    "its data in the ledger PostgreSQL cluster, with hourly snapshots kept for thirty days.\n\n"
    "## Balance queries time out\n\nCheck the replica lag panel on the ledger dashboard first. When one "
    "replica lags behind, restart it with `kubectl rollout restart deployment/ledger -n ledger` and watch the "
    "lag return to zero within five minutes. Page the database on-call if the primary itself is slow.\n\n"
    "## Rollback\n\nRoll back a bad release with `helm rollback ledger -n ledger` to the previous revision and "
    "tell the payments channel which version now runs.\n"
)
TIER_2 = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: billing\n  annotations:\n    prr/tier: '2'\n"


@check(
    id="acme.readme-age",
    title="README is recent",
    category="documentation",
    description="README.md changed within `max_days`.",
    remediation="Review the README.",
    params={"properties": {"max_days": {"type": "integer", "minimum": 1, "default": 30}}},
    time_dependent=True,
)
def readme_age(ctx: CheckContext) -> Result:
    age = (ctx.now - ctx.repo.last_changed("README.md")).days
    evidence = [Evidence(path="README.md", line=1)]
    if age > ctx.params["max_days"]:
        return failed(f"README.md is {age} days old (tier {ctx.service.tier})", evidence)
    return passed(f"README.md is {age} days old (tier {ctx.service.tier})", evidence)


CASES = [
    # (name, files, options, status, summary)
    ("undated files are a day old", {"README.md": "# x\n"}, {}, Status.PASS, "README.md is 1 days old (tier 1)"),
    (
        "a file carries its commit date",
        {"README.md": File("# x\n", date=days_before(45)), "main.go": "package main\n"},
        {},
        Status.FAIL,
        "README.md is 45 days old",
    ),
    ("parameters are passed", {"README.md": File("# x\n", days_before(45))}, {"params": {"max_days": 60}}, Status.PASS, "45 days"),
    ("the clock is given", {"README.md": "# x\n"}, {"now": NOW + timedelta(days=99)}, Status.FAIL, "100 days old"),
    ("the tier is given", {"README.md": "# x\n"}, {"tier": "0"}, Status.PASS, "(tier 0)"),
    ("the repo's tier wins", {"README.md": "# x\n", "catalog-info.yaml": TIER_2}, {"tier": "0"}, Status.PASS, "(tier 2)"),
]  # fmt: skip


@pytest.mark.parametrize("name, files, options, status, summary", CASES, ids=[c[0] for c in CASES])
def test_run_check_on_a_mapping_of_files(name, files, options, status, summary) -> None:
    result = run_check(readme_age, files, **options)
    assert (result.status, summary in result.summary) == (status, True), result.summary
    assert result.evidence == [Evidence(path="README.md", line=1)]


def test_a_built_in_check_by_id_on_a_history(tmp_path) -> None:
    repo = RepoBuilder(tmp_path / "billing")
    repo.commit({"RUNBOOK.md": RUNBOOK}, "runbook", days_ago=500)
    assert run_check("runbook.fresh", repo).status == Status.FAIL
    repo.commit({"RUNBOOK.md": RUNBOOK + "\nReviewed.\n"}, "review", days_ago=10)
    result = run_check("runbook.fresh", repo.path)
    assert (result.status, "changed 10 days ago" in result.summary) == (Status.PASS, True), result.summary


def test_parameters_are_checked_against_the_schema() -> None:
    with pytest.raises(ConfigError, match=r"acme.readme-age: bad parameter max_days: 0 is less than the minimum of 1"):
        run_check(readme_age, {"README.md": "# x\n"}, params={"max_days": 0})


def test_an_unknown_check_id_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"check 'acme\.nope' is not installed"):
        run_check("acme.nope", {"README.md": "# x\n"})


def test_a_fixture_folder_becomes_a_repo(tmp_path) -> None:
    (tmp_path / "fixture" / "docs").mkdir(parents=True)
    (tmp_path / "fixture" / "RUNBOOK.md").write_text(RUNBOOK)
    (tmp_path / "fixture" / "docs" / "logo.png").write_bytes(b"\x89PNG\r\n")
    assert files_in(tmp_path / "fixture") == {"RUNBOOK.md": RUNBOOK.encode(), "docs/logo.png": b"\x89PNG\r\n"}
    assert run_check("runbook.present", files_in(tmp_path / "fixture")).status == Status.PASS


def test_history_is_dated_on_the_builders_clock(tmp_path) -> None:
    repo = RepoBuilder(tmp_path / "svc", now=NOW - timedelta(days=1000))
    repo.commit({"README.md": "# x\n"}, days_ago=5)
    assert run_check(readme_age, repo, params={"max_days": 2000}).summary.startswith("README.md is 1005 days old")
