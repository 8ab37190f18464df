"""The engine: it runs the checks of the registry it is given, accounts for every check of the
scorecard, and reuses an earlier result only when nothing it depends on has changed."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from prr import schemas
from prr.checks.formats.files import unreadable
from prr.checks.formats.yamlfile import FormatError
from prr.engine import NO_LIVE_SYSTEMS, Attestation, ScanRequest, carried_over, evaluate
from prr.plugin import Check, CheckContext, Registry, Result, check, errored, failed, holds_until, passed
from prr.repo import BUDGET_SPENT, MISSING_CONTENT, RepoSnapshot, open_snapshot
from prr.scorecard import Scorecard, load_scorecard
from prr.scoring import Waiver
from prr.testing import NOW, RepoBuilder

COMMON: dict[str, Any] = dict(category="testing", description="A test check.", remediation="None: test only.")
LOG = {"properties": {"log": {"type": "string"}, "limit": {"type": "integer", "default": 3}}, "required": ["log"]}


@check(id="acme.hello", title="Says hello", **COMMON)
def hello(ctx: CheckContext) -> Result:
    return passed(f"hello from commit {ctx.repo.commit[:7]}")


def _logged(ctx: CheckContext) -> Result:
    with open(ctx.params["log"], "a") as log:
        log.write("ran\n")
    return passed(f"ran with limit {ctx.params['limit']}")


@check(id="acme.counted", title="Counts its runs", params=LOG, **COMMON)
def counted(ctx: CheckContext) -> Result:
    return _logged(ctx)


@check(id="acme.aged", title="Judges an age", params=LOG, time_dependent=True, **COMMON)
def aged(ctx: CheckContext) -> Result:
    return _logged(ctx)


@check(id="acme.flaky", title="Errors", params=LOG, **COMMON)
def flaky(ctx: CheckContext) -> Result:
    _logged(ctx)
    return errored("the upstream was unreachable")


@check(id="acme.live", title="Asks a live system", kind="live", **COMMON)
def live_probe(ctx: CheckContext) -> Result:
    return passed(f"asked {ctx.live['prometheus']}")


def scorecard(tmp_path: Path, registry: Registry, checks: list[dict[str, Any]], version: str = "1") -> Scorecard:
    path = tmp_path / f"card-{version}.yaml"
    card = {
        "apiVersion": "prr/v1",
        "kind": "Scorecard",
        "id": "engine-test",
        "version": version,
        "levels": ["bronze"],
        "tiers": {"1": {"required_level": "bronze"}},
        "default_tier": "1",
        "checks": [{"level": "bronze", **c} for c in checks],
    }
    path.write_text(yaml.safe_dump(card))
    return load_scorecard(str(path), registry)


@pytest.fixture
def repo(tmp_path: Path) -> RepoBuilder:
    built = RepoBuilder(tmp_path / "service")
    built.commit({"README.md": "# service\n"}, days_ago=3)
    return built


def scan(repo: RepoBuilder, card: Scorecard, registry: Registry, **options: Any) -> dict[str, Any]:
    """The report of ``repo`` at HEAD; ``options`` are more fields of the ScanRequest (they win)."""
    fields = {"snapshot": open_snapshot(str(repo.path)), "scorecard": card, "registry": registry, "now": NOW}
    return evaluate(ScanRequest(**{**fields, **options}))


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["id"]: entry for entry in report["checks"]}


# -- the registry given is the registry that runs ------------------------------------------------
def test_checks_of_the_given_registry_run_in_the_worker_processes(tmp_path, repo) -> None:
    def local(ctx: CheckContext) -> Result:  # defined in a function: travels to the worker by value
        return passed(f"local check saw {len(ctx.repo.files())} file(s)")

    inner = check(id="acme.local", title="Defined in a test", **COMMON)(local)
    registry = Registry({"acme.hello": hello, "acme.local": inner})
    card = scorecard(tmp_path, registry, [{"id": "acme.hello"}, {"id": "acme.local"}])
    checks = by_id(scan(repo, card, registry))
    head = open_snapshot(str(repo.path)).commit
    assert (checks["acme.hello"]["status"], checks["acme.hello"]["summary"]) == (
        "pass",
        f"hello from commit {head[:7]}",
    )
    assert (checks["acme.local"]["status"], checks["acme.local"]["summary"]) == ("pass", "local check saw 1 file(s)")


def test_a_check_that_cannot_travel_is_an_error_and_the_others_still_run(tmp_path, repo) -> None:
    lock = threading.Lock()

    def holds_a_lock(ctx: CheckContext) -> Result:
        with lock:
            return passed("never sent")

    stuck = check(id="acme.stuck", title="Holds a lock", **COMMON)(holds_a_lock)
    registry = Registry({"acme.hello": hello, "acme.stuck": stuck})
    card = scorecard(tmp_path, registry, [{"id": "acme.stuck"}, {"id": "acme.hello"}])
    checks = by_id(scan(repo, card, registry))
    assert checks["acme.stuck"]["status"] == "error"
    assert "cannot be sent to its worker process" in checks["acme.stuck"]["summary"]
    assert checks["acme.hello"]["status"] == "pass"


# -- nothing vanishes ------------------------------------------------------------------------------
def test_a_live_check_without_live_systems_is_not_applicable_and_says_why(tmp_path, repo) -> None:
    registry = Registry({"acme.hello": hello, "acme.live": live_probe})
    card = scorecard(tmp_path, registry, [{"id": "acme.hello"}, {"id": "acme.live"}])
    unconfigured = by_id(scan(repo, card, registry))
    assert (unconfigured["acme.live"]["status"], unconfigured["acme.live"]["summary"]) == (
        "not_applicable",
        NO_LIVE_SYSTEMS,
    )
    configured = by_id(scan(repo, card, registry, live_clients={"prometheus": "prometheus.internal"}))
    assert (configured["acme.live"]["status"], configured["acme.live"]["summary"]) == (
        "pass",
        "asked prometheus.internal",
    )


# -- results reused only when their inputs are unchanged --------------------------------------------
def runs(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


Change = Callable[[Path, RepoBuilder, Registry, list[dict[str, Any]]], dict[str, Any]]


def unchanged(tmp_path, repo, registry, checks) -> dict[str, Any]:
    return {"scorecard": scorecard(tmp_path, registry, checks)}


def new_commit(tmp_path, repo, registry, checks) -> dict[str, Any]:
    repo.commit({"main.go": "package main\n"}, days_ago=1)
    return {"scorecard": scorecard(tmp_path, registry, checks), "snapshot": open_snapshot(str(repo.path))}


def new_param(tmp_path, repo, registry, checks) -> dict[str, Any]:
    return {"scorecard": scorecard(tmp_path, registry, [{**c, "params": {**c["params"], "limit": 5}} for c in checks])}


def new_check_version(tmp_path, repo, registry, checks) -> dict[str, Any]:
    bumped = Registry({c.id: dataclasses.replace(c, version="2") for c in registry})
    return {"scorecard": scorecard(tmp_path, bumped, checks), "registry": bumped}


def new_scorecard_version(tmp_path, repo, registry, checks) -> dict[str, Any]:
    return {"scorecard": scorecard(tmp_path, registry, checks, version="2")}


def tier_set_by_config(tmp_path, repo, registry, checks) -> dict[str, Any]:
    return {"scorecard": scorecard(tmp_path, registry, checks), "tier_override": "1", "tier_override_source": "test"}


REUSE_CASES = [
    # (what changed between the two scans, whether the plain repo check runs again)
    (unchanged, False),
    (new_commit, True),
    (new_param, True),
    (new_check_version, True),
    (new_scorecard_version, True),
    (tier_set_by_config, True),
]


@pytest.mark.parametrize("change, reruns", REUSE_CASES, ids=[c[0].__name__ for c in REUSE_CASES])
def test_results_are_reused_only_while_their_inputs_are_unchanged(tmp_path, repo, change: Change, reruns) -> None:
    registry = Registry({c.id: c for c in (counted, aged, flaky)})
    logs = {c.id: tmp_path / f"{c.id}.log" for c in registry}
    checks = [{"id": check_id, "params": {"log": str(log)}} for check_id, log in logs.items()]
    first = scan(repo, scorecard(tmp_path, registry, checks), registry)
    first = {**first, "scan_id": 41}  # as stored
    assert all(entry["reused_from"] is None for entry in first["checks"])

    changes = change(tmp_path, repo, registry, checks)
    second = scan(repo, changes.pop("scorecard"), changes.pop("registry", registry), reuse_from=first, **changes)
    entries = by_id(second)
    assert runs(logs["acme.counted"]) == (2 if reruns else 1)
    assert runs(logs["acme.aged"]) == 2  # depends on the time: always run afresh
    assert runs(logs["acme.flaky"]) == 2  # an error is never reused
    assert entries["acme.aged"]["reused_from"] is None and entries["acme.flaky"]["reused_from"] is None
    if reruns:
        assert entries["acme.counted"]["reused_from"] is None
    else:
        assert entries["acme.counted"]["reused_from"] == {"scan_id": 41, "scanned_at": first["source"]["scanned_at"]}
        assert entries["acme.counted"]["summary"] == by_id(first)["acme.counted"]["summary"]
        assert entries["acme.counted"]["fingerprint"] == by_id(first)["acme.counted"]["fingerprint"]
    assert schemas.problems("scan-report", second) == []


def test_a_reused_result_keeps_pointing_at_the_scan_that_ran_it(tmp_path, repo) -> None:
    registry = Registry({"acme.counted": counted})
    log = tmp_path / "counted.log"
    card = scorecard(tmp_path, registry, [{"id": "acme.counted", "params": {"log": str(log)}}])
    first = {**scan(repo, card, registry), "scan_id": 1}
    second = {**scan(repo, card, registry, reuse_from=first), "scan_id": 2}
    third = scan(repo, card, registry, reuse_from=second)
    assert runs(log) == 1
    assert by_id(third)["acme.counted"]["reused_from"]["scan_id"] == 1


def test_shipped_checks_that_judge_ages_depend_on_the_time(registry) -> None:
    assert {c.id for c in registry if c.time_dependent} >= {"runbook.fresh", "dr.tested"}


def test_checks_pickle_by_reference_when_their_name_finds_them() -> None:
    import pickle

    assert pickle.loads(pickle.dumps(hello)) is hello
    clone = pickle.loads(pickle.dumps(dataclasses.replace(hello, version="9")))  # not what `hello` names
    assert isinstance(clone, Check) and clone.version == "9" and clone is not hello


# -- an unchanged commit re-stamps the earlier report -------------------------------------------------
@check(id="acme.dated", title="Judges an age, says until when", params=LOG, time_dependent=True, **COMMON)
def dated(ctx: CheckContext) -> Result:
    _logged(ctx)
    return holds_until(passed("fresh for a day from the scan"), NOW + timedelta(days=1))


@check(id="acme.failing", title="Fails", params=LOG, **COMMON)
def failing(ctx: CheckContext) -> Result:
    _logged(ctx)
    return failed("not there yet")


@check(id="acme.answered", title="Answered by a person", kind="manual", **COMMON)
def answered(ctx: CheckContext) -> Result:
    raise AssertionError("a manual check is never run")


RESTAMP_CHECKS = (counted, dated, failing, answered, live_probe)
HOUR = timedelta(hours=1)


def answers_until(expires: datetime) -> Callable[[str], dict[str, Attestation]]:
    return lambda ref: {"acme.answered": Attestation("acme.answered", True, "sam@example.com", expires)}


def restamp_scans(
    tmp_path: Path, repo: RepoBuilder, new_commit: bool = False, **second: Any
) -> tuple[dict[str, Any], dict[str, int], RepoSnapshot]:
    """A first scan at NOW (stored as scan 7), then one an hour later reusing it, with ``second``'s
    options; the second report, how often each repo check ran in all, and the second's snapshot."""
    registry = Registry({c.id: c for c in RESTAMP_CHECKS})
    logs = {c.id: tmp_path / f"{c.id}.log" for c in RESTAMP_CHECKS if "log" in c.params_schema.get("required", [])}
    checks = [{"id": c.id, "params": {"log": str(logs[c.id])} if c.id in logs else {}} for c in RESTAMP_CHECKS]
    card = scorecard(tmp_path, registry, checks)
    first = {**scan(repo, card, registry, attestations=answers_until(NOW + 2 * HOUR)), "scan_id": 7}
    if new_commit:
        repo.commit({"main.go": "package main\n"}, days_ago=1)
    snapshot = open_snapshot(str(repo.path))
    options = {"attestations": answers_until(NOW + 2 * HOUR), "now": NOW + HOUR, "snapshot": snapshot, **second}
    if "scorecard_version" in options:
        card = scorecard(tmp_path, registry, checks, version=options.pop("scorecard_version"))
    report = scan(repo, card, registry, reuse_from=first, **options)
    return report, {check_id: runs(log) for check_id, log in logs.items()}, snapshot


def test_an_unchanged_commit_is_re_stamped_without_reading_the_repo(tmp_path, repo) -> None:
    report, ran, snapshot = restamp_scans(tmp_path, repo)
    assert ran == {"acme.counted": 1, "acme.dated": 1, "acme.failing": 1}  # nothing ran again
    assert snapshot._entries is None  # the tree was never even listed
    entries = by_id(report)
    assert report["source"]["scanned_at"] == "2025-06-01T13:00:00Z"
    assert {i: e["reused_from"] for i, e in entries.items() if e["reused_from"]} == {
        i: {"scan_id": 7, "scanned_at": "2025-06-01T12:00:00Z"} for i in ("acme.counted", "acme.dated", "acme.failing")
    }
    # Just what a full scan at the same time says, but for where the results come from.
    registry = Registry({c.id: c for c in RESTAMP_CHECKS})
    card = load_scorecard(str(tmp_path / "card-1.yaml"), registry)
    full = scan(repo, card, registry, now=NOW + HOUR, attestations=answers_until(NOW + 2 * HOUR))
    assert without_origin(report) == without_origin(full)
    assert schemas.problems("scan-report", report) == []


def without_origin(report: dict[str, Any]) -> dict[str, Any]:
    checks = [{k: v for k, v in entry.items() if k != "reused_from"} for entry in report["checks"]]
    return {**report, "checks": checks, "duration_seconds": None}


RESTAMP_BREAKERS = [
    # (what differs in the second scan, the repo checks that run again)
    ("new commit", {"new_commit": True}, {"acme.counted", "acme.dated", "acme.failing"}),
    ("a result past its valid_until", {"now": NOW + 2 * timedelta(days=1)}, {"acme.dated"}),
    ("scanned before the earlier scan", {"now": NOW - HOUR}, {"acme.dated"}),
    ("live systems configured", {"live_clients": {"prometheus": "prometheus.internal"}}, set()),
    (
        "tier set by the portal",
        {"tier_override": "1", "tier_override_source": "test"},
        {"acme.counted", "acme.dated", "acme.failing"},
    ),
    (
        "portal config",
        {"config": {"routing": {"extra_labels": {"team": "x"}}}},
        {"acme.counted", "acme.dated", "acme.failing"},
    ),
    ("scorecard version", {"scorecard_version": "2"}, {"acme.counted", "acme.dated", "acme.failing"}),
]


@pytest.mark.parametrize("change, rerun", [c[1:] for c in RESTAMP_BREAKERS], ids=[c[0] for c in RESTAMP_BREAKERS])
def test_what_can_change_without_the_commit_is_honoured(tmp_path, repo, change: dict[str, Any], rerun) -> None:
    report, ran, snapshot = restamp_scans(tmp_path, repo, **change)
    assert {check_id for check_id, count in ran.items() if count == 2} == rerun
    assert snapshot._entries is not None  # the repo was read: a scan, reusing what it can
    if "live_clients" in change:
        assert by_id(report)["acme.live"]["summary"] == "asked prometheus.internal"


def test_answers_waivers_and_expiries_apply_to_a_re_stamped_report(tmp_path, repo) -> None:
    waiver = Waiver("acme.failing", "migrating", "lee@example.com", NOW + 3 * HOUR)
    report, ran, _ = restamp_scans(
        tmp_path, repo, now=NOW + 2 * HOUR, attestations=answers_until(NOW + HOUR), waivers=lambda ref: [waiver]
    )
    assert ran == {"acme.counted": 1, "acme.dated": 1, "acme.failing": 1}  # re-stamped, nothing ran
    entries = by_id(report)
    assert (entries["acme.answered"]["status"], entries["acme.answered"]["summary"]) == (
        "fail",
        "attestation by sam@example.com expired on 2025-06-01",
    )
    assert entries["acme.failing"]["waived"] and entries["acme.failing"]["met"]
    assert entries["acme.failing"]["waiver"]["approver"] == "lee@example.com"


@pytest.mark.parametrize(
    "why, holds",
    [
        ("invalid YAML: mapping values are not allowed here", True),
        (MISSING_CONTENT, False),  # a fetch can mend a partial clone without a new commit
        (BUDGET_SPENT, False),  # depends on what else the scan read
    ],
)
def test_an_error_about_unreadable_files_holds_only_while_they_would_read_the_same(why: str, holds: bool) -> None:
    result = unreadable(errored("could not read 1 file(s)"), [FormatError("rules.yaml", 3, why)])
    assert ("valid_until" in result.details) is holds
    item = {**result.to_dict(), "id": "acme.reads"}
    report = {"source": {"scanned_at": "2025-06-01T12:00:00Z"}}
    assert carried_over(counted, item, report, NOW + HOUR) is holds
