"""The demo fleet builds real, dated git repos in real formats, broken only where it says so."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from glob import glob
from pathlib import Path

import promql_parser
import pytest
import yaml

from prr.checks.formats.yamlfile import FormatError, load_documents, looks_templated
from prr.config import load_config
from prr.demo import BROKEN_YAML, EXPECTED, REPOS, TEMPLATED, create_demo_fleet
from prr.repo import open_snapshot
from prr.service import resolve_service

NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
NAMES = sorted(REPOS)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("demo")
    create_demo_fleet(dest, now=NOW)
    return dest


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def tracked(repo: Path) -> list[str]:
    return git(repo, "ls-files").split("\n")[:-1]


def yaml_docs(repo: Path) -> dict[str, list]:
    """Every parseable, non-templated YAML file of a repo."""
    return {
        p: load_documents((repo / p).read_text(), p)
        for p in tracked(repo)
        if p.endswith((".yaml", ".yml"))
        and (repo.name, p) not in BROKEN_YAML
        and not p.startswith(TEMPLATED.get(repo.name, "\0"))
    }


def commit_dates(repo: Path, *paths: str) -> list[datetime]:
    out = git(repo, "log", "--format=%cI", "--", *paths)
    return [datetime.fromisoformat(line) for line in out.split()]


def test_fleet_holds_every_documented_repo(fleet: Path):
    assert sorted(p.name for p in (fleet / "repos").iterdir()) == NAMES == sorted(EXPECTED)


@pytest.mark.parametrize("name", NAMES)
def test_each_repo_is_a_clean_git_repo_with_dated_history(fleet: Path, name: str):
    repo = fleet / "repos" / name
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    assert git(repo, "status", "--porcelain") == ""
    dates = commit_dates(repo)
    assert len(dates) >= 3
    assert len(set(dates)) == len(dates), "commits share a timestamp"
    assert dates == sorted(dates, reverse=True), "history is not in date order"
    assert max(dates) <= NOW and NOW - min(dates) <= timedelta(days=800)
    assert max(dates) - min(dates) >= timedelta(days=180), "history is not spread over time"
    assert len({line for line in git(repo, "log", "--format=%an").split("\n") if line}) >= 2


@pytest.mark.parametrize("name", NAMES)
def test_every_yaml_file_parses_except_the_documented_ones(fleet: Path, name: str):
    repo = fleet / "repos" / name
    docs = yaml_docs(repo)  # raises FormatError on any undocumented breakage
    assert docs, f"{name} has no YAML at all"
    for path in tracked(repo):
        if path.endswith((".yaml", ".yml")):
            templated = path.startswith(TEMPLATED.get(name, "\0"))
            assert looks_templated((repo / path).read_text()) == templated, path


@pytest.mark.parametrize(("name", "path"), sorted(BROKEN_YAML))
def test_broken_yaml_fails_at_the_documented_line(fleet: Path, name: str, path: str):
    text = (fleet / "repos" / name / path).read_text()
    with pytest.raises(FormatError) as caught:
        load_documents(text, path)
    line = BROKEN_YAML[(name, path)]
    assert caught.value.line == line
    with pytest.raises(yaml.YAMLError):  # any YAML parser, not only ours
        list(yaml.safe_load_all(text))
    assert f"line {line}" in EXPECTED[name]["why"]


def test_config_is_a_valid_portal_config_for_the_fleet(fleet: Path):
    config = yaml.safe_load((fleet / "prr.yaml").read_text())
    assert config == {
        "database_url": f"sqlite:///{fleet.resolve()}/prr.db",
        "scorecard": "production-readiness",
        "fleet": [{"repo": f"{fleet.resolve()}/repos/*"}],
        "routing": {"alertmanager_config": "alertmanager/alertmanager.yml"},
        "auth": {
            "roles": {"approver": {"users": ["sre-lead"]}, "admin": {"users": ["platform-admin"]}},
            "teams": {"team-checkout": ["checkout-dev"]},
        },
    }
    # validates against schemas/config.schema.json, and refuses a central config that is not there
    load_config(fleet / "prr.yaml")
    assert sorted(Path(p).name for p in glob(config["fleet"][0]["repo"])) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_service_identity_and_tier_are_as_documented(fleet: Path, name: str):
    snapshot = open_snapshot(str(fleet / "repos" / name))
    service = resolve_service(snapshot, tier_override=None, known_tiers={"0", "1", "2"}, default_tier="1")
    assert service.ref == f"component:default/{name}"
    assert (service.tier, service.tier_declared) == (EXPECTED[name]["tier"], EXPECTED[name]["tier_declared"])


# -- the formats are real: PromQL parses, burn-rate alerts use the workbook's factors -------------


def queries(docs: list) -> list[str]:
    """Every PromQL expression in alert rules, Sloth, Pyrra and OpenSLO documents."""
    found: list[str] = []

    def walk(node, key=None):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and key in {
            "expr",
            "query",
            "metric",
            "error_query",
            "total_query",
            "errorQuery",
            "totalQuery",
        }:
            found.append(node.replace("{{.window}}", "5m"))

    walk(docs)
    return found


@pytest.mark.parametrize("name", NAMES)
def test_every_promql_expression_parses(fleet: Path, name: str):
    repo = fleet / "repos" / name
    exprs = [q for docs in yaml_docs(repo).values() for q in queries(docs)]
    for path in tracked(repo):
        if path.startswith("dashboards/"):
            exprs += [t["expr"] for panel in json.loads((repo / path).read_text())["panels"] for t in panel["targets"]]
    for expr in exprs:
        promql_parser.parse(expr)
    assert exprs or name == "legacy-reports"


def _value(node) -> float:
    if isinstance(node, promql_parser.NumberLiteral):
        return node.val
    if isinstance(node, promql_parser.ParenExpr):
        return _value(node.expr)
    ops = {"+": float.__add__, "-": float.__sub__, "*": float.__mul__, "/": float.__truediv__}
    return ops[str(node.op)](float(_value(node.lhs)), float(_value(node.rhs)))


def thresholds(expr: str) -> set[tuple[timedelta, float]]:
    """(range window, threshold) of every ``lhs > number`` comparison in an expression."""
    pairs: set[tuple[timedelta, float]] = set()

    def visit(node):
        if isinstance(node, promql_parser.BinaryExpr) and str(node.op) == ">":
            ranges: list[timedelta] = []
            promql_parser.walk(
                node.lhs, lambda n: ranges.append(n.range) if isinstance(n, promql_parser.MatrixSelector) else None
            )
            pairs.update((r, round(_value(node.rhs), 9)) for r in ranges)

    promql_parser.walk(promql_parser.parse(expr), visit)
    return pairs


def slo_objectives(docs: dict[str, list]) -> dict[str, float]:
    """OpenSLO SLO name -> objective ratio."""
    return {
        d["metadata"]["name"]: d["spec"]["objectives"][0]["target"]
        for file in docs.values()
        for d in file
        if isinstance(d, dict) and str(d.get("apiVersion", "")).startswith("openslo/") and d.get("kind") == "SLO"
    }


H, M = timedelta(hours=1), timedelta(minutes=1)
WORKBOOK = {
    "page": {(H, 14.4), (5 * M, 14.4), (6 * H, 6), (30 * M, 6)},
    "ticket": {(24 * H, 3), (2 * H, 3), (72 * H, 1), (6 * H, 1)},
}


WRITTEN_OUT = [
    "catalog-service",
    "checkout",
    "edge-gateway",
    "inventory",
    "notifications",
    "product-reviews",
    "user-profile",
]  # the others generate theirs with Sloth / Pyrra, or have no SLO


@pytest.mark.parametrize("name", WRITTEN_OUT)
def test_written_out_burn_rate_alerts_follow_the_workbook(fleet: Path, name: str):
    repo = fleet / "repos" / name
    docs = yaml_docs(repo)
    for broken_repo, path in BROKEN_YAML:
        if broken_repo == name:  # the SLOs as they were before the file broke
            docs[path] = load_documents(git(repo, "show", f"HEAD~1:{path}"), path)
    objectives = slo_objectives(docs)
    rules = [
        r
        for file in docs.values()
        for d in file
        if isinstance(d, dict)
        for g in (d.get("groups") or (d.get("spec") or {}).get("groups") or [])
        for r in g["rules"]
    ]
    burn = [r for r in rules if "slo" in r.get("labels", {})]
    assert burn and {r["labels"]["slo"] for r in burn} == set(objectives)
    for rule in burn:
        budget = 1 - objectives[rule["labels"]["slo"]]
        expected = {(w, round(f * budget, 9)) for w, f in WORKBOOK[rule["labels"]["severity"]]}
        assert thresholds(rule["expr"]) == expected, rule["alert"]


# -- what EXPECTED relies on is really in the history --------------------------------------------


def readiness(fleet: Path, name: str) -> dict:
    return yaml.safe_load((fleet / "repos" / name / "readiness.yaml").read_text())


@pytest.mark.parametrize(
    ("name", "path", "days"),
    [
        ("payments-api", "docs/runbook.md", 500),
        ("checkout", "docs/runbook.md", 40),
        ("user-profile", "docs/runbook.md", 25),
        ("inventory", "slo/inventory.yaml", 20),
    ],
)
def test_files_last_changed_when_expected_says(fleet: Path, name: str, path: str, days: int):
    assert NOW - commit_dates(fleet / "repos" / name, path)[0] == timedelta(days=days)


@pytest.mark.parametrize(
    ("name", "ages", "outcomes"),
    [
        ("checkout", [400, 75], ["passed", "passed"]),
        ("edge-gateway", [260, 30], ["passed", "failed"]),
        ("catalog-service", [330], ["passed"]),
        ("notifications", [420], ["passed"]),
    ],
)
def test_drills_are_dated_relative_to_now(fleet: Path, name: str, ages: list[int], outcomes: list[str]):
    drills = readiness(fleet, name)["dr"]["drills"]
    assert [(NOW.date() - datetime.fromisoformat(d["date"]).date()).days for d in drills] == ages
    assert [d["outcome"] for d in drills] == outcomes


def test_the_renamed_runbook_heading_is_really_gone(fleet: Path):
    repo = fleet / "repos" / "user-profile"
    runbook = (repo / "docs/runbook.md").read_text()
    rules = (repo / "deploy/monitoring/prometheusrule.yaml").read_text()
    assert "docs/runbook.md#session-store-unavailable" in rules
    assert "## Session store down" in runbook and "Session store unavailable" not in runbook
    assert "## Availability error budget burn" in runbook


def test_rebuilding_needs_force_and_gives_the_same_commits(fleet: Path, tmp_path: Path):
    heads = {n: git(fleet / "repos" / n, "rev-parse", "HEAD") for n in NAMES}
    with pytest.raises(FileExistsError):
        create_demo_fleet(fleet, now=NOW)
    (fleet / "prr.db").write_text("stale")
    config = create_demo_fleet(fleet, now=NOW, force=True)
    assert config == fleet.resolve() / "prr.yaml" and not (fleet / "prr.db").exists()
    assert {n: git(fleet / "repos" / n, "rev-parse", "HEAD") for n in NAMES} == heads
