"""readiness.yaml: durations, schema validation with YAML lines, drills, and DR targets."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest

from prr.checks.formats.durations import PATTERN, format_duration, parse_duration
from prr.checks.formats.readiness import dr_targets, load_readiness, parse_date, try_readiness
from prr.repo import open_snapshot

SCHEMA = json.loads((Path(__file__).parents[1] / "schemas" / "readiness.schema.json").read_text())


@pytest.mark.parametrize(
    "text, expected",
    [
        ("90s", timedelta(seconds=90)),
        ("15m", timedelta(minutes=15)),
        ("1h", timedelta(hours=1)),
        ("2d", timedelta(days=2)),
        ("1w", timedelta(weeks=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1.5h", timedelta(hours=1, minutes=30)),
        ("500ms", timedelta(milliseconds=500)),
        ("PT15M", timedelta(minutes=15)),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("P1D", timedelta(days=1)),
        ("P1DT12H", timedelta(days=1, hours=12)),
        ("pt90s", timedelta(seconds=90)),
        (" 15m ", timedelta(minutes=15)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "value", [15, "15", "15 min", "fifteen minutes", "P", "PT", "1h 30m", "-5m", "", True, None, 1.5]
)
def test_parse_duration_refuses(value) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(value)


@pytest.mark.parametrize(
    "delta, text",
    [
        (timedelta(seconds=90), "1m30s"),
        (timedelta(hours=1, minutes=30), "1h30m"),
        (timedelta(days=2), "2d"),
        (timedelta(0), "0s"),
    ],
)
def test_format_duration(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text


def test_schema_is_valid_and_shares_the_duration_grammar() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$defs"]["duration"]["pattern"] == PATTERN


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2025-03-12", datetime(2025, 3, 12, tzinfo=UTC)),
        ("2025-03-12T10:30:00Z", datetime(2025, 3, 12, 10, 30, tzinfo=UTC)),
        ("2025-03-12 10:30:00+02:00", datetime(2025, 3, 12, 8, 30, tzinfo=UTC)),
        ("2025-13-45", None),
        ("last spring", None),
    ],
)
def test_parse_date(text: str, expected: datetime | None) -> None:
    assert parse_date(text) == expected


VALID = """\
tier: 0
dr:
  rto: 30m
  rpo: PT5M
  drills:
    - date: 2025-02-01
      scenario: primary database lost
      measured_rto: 22m
      measured_rpo: 1m
      outcome: pass
      evidence: https://wiki.acme.example/dr/2025-02
oncall: https://acme.pagerduty.com/service-directory/PABC123
dashboards:
  - https://grafana.acme.example/d/abc/orders
  - {title: Orders SLOs, url: "https://grafana.acme.example/d/def/orders-slo"}
health_url: https://orders.acme.example/healthz
x-team-notes: free for teams
"""

PROBLEM_CASES = [
    # (name, readiness.yaml, [(keys, line, message fragment)])
    ("valid", VALID, []),
    ("empty file", "", []),
    ("duration without unit", "dr:\n  rto: 30\n  rpo: 5m\n", [(("dr", "rto"), 2, "30 has no unit")]),
    ("duration in words", "dr:\n  rto: 30m\n  rpo: 5 minutes\n", [(("dr", "rpo"), 3, "'5 minutes' is not a duration")]),
    (
        "unknown outcome",
        "dr:\n  drills:\n    - date: 2025-01-01\n      scenario: restore\n      outcome: succeeded\n",
        [(("dr", "drills", 0, "outcome"), 5, "'succeeded' is not one of")],
    ),
    (
        "drill without a date",
        "dr:\n  drills:\n    - scenario: restore\n      outcome: pass\n",
        [(("dr", "drills", 0), 3, "'date' is a required property")],
    ),
    (
        "impossible date",
        "dr:\n  drills:\n    - date: 2025-02-30\n      scenario: restore\n      outcome: pass\n",
        [(("dr", "drills", 0, "date"), 3, "not a valid date")],
    ),
    ("typo in dr", "dr:\n  rto: 1h\n  rp0: 5m\n", [(("dr",), 3, "unknown key 'rp0' (expected rto, rpo, drills)")]),
    ("unknown top-level key", "tier: 1\ndashbaords: []\n", [((), 2, "unknown key 'dashbaords'")]),
    ("empty oncall mapping", "oncall: {}\n", [(("oncall",), 1, "is not a schedule/service URL or name")]),
    (
        "dashboard not a URL",
        "dashboards:\n  - grafana orders board\n",
        [(("dashboards", 0), 2, "is not a dashboard URL")],
    ),
]


@pytest.mark.parametrize("name, text, expected", PROBLEM_CASES, ids=[c[0] for c in PROBLEM_CASES])
def test_schema_problems_carry_yaml_lines(make_repo, name, text, expected) -> None:
    readiness = load_readiness(open_snapshot(str(make_repo({"readiness.yaml": text}).path)))
    got = [(p.where, p.line, str(p)) for p in readiness.problems]
    assert len(got) == len(expected), got
    for (where, line, message), (keys, exp_line, fragment) in zip(got, expected):
        assert (where, line) == (keys, exp_line)
        assert fragment in message


@pytest.mark.parametrize(
    "written, outcome", [("pass", "pass"), ("passed", "pass"), ("failed", "fail"), ("partial", "partial")]
)
def test_drills_are_typed(make_repo, written: str, outcome: str) -> None:
    text = VALID.replace("outcome: pass", f"outcome: {written}")
    readiness = load_readiness(open_snapshot(str(make_repo({"readiness.yaml": text}).path)))
    (drill,) = readiness.drills()
    assert readiness.problems == []
    assert (drill.line, drill.date, drill.outcome, drill.measured_rto, drill.measured_rpo) == (
        6,
        datetime(2025, 2, 1, tzinfo=UTC),
        outcome,
        timedelta(minutes=22),
        timedelta(minutes=1),
    )


@pytest.mark.parametrize(
    "files, error_line",
    [
        ({"readiness.yaml": "dr:\n  rto: 1h\n   rpo: 5m\n"}, 3),
        ({"readiness.yml": "- tier: 1\n"}, 1),
    ],
)
def test_unreadable_readiness_is_a_format_error(make_repo, files, error_line) -> None:
    readiness, error = try_readiness(open_snapshot(str(make_repo(files).path)))
    assert readiness is None and error.line == error_line


def test_no_readiness_file(make_repo) -> None:
    assert try_readiness(open_snapshot(str(make_repo().path))) == (None, None)


TARGET_CASES = [
    # (name, files, rto, rpo, problem fragment)
    (
        "readiness.yaml",
        {"readiness.yaml": "dr:\n  rto: 1h\n  rpo: 15m\n"},
        ("readiness.yaml", 2, "1h"),
        ("readiness.yaml", 3, "15m"),
        None,
    ),
    (
        "cortex custom metadata",
        {
            "cortex.yaml": "openapi: 3.0.1\ninfo:\n  title: x\n  x-cortex-tag: x\n"
            "  x-cortex-custom-metadata:\n    rto: 4h\n    rpo: 1h\n"
        },
        ("cortex.yaml", 6, "4h"),
        ("cortex.yaml", 7, "1h"),
        None,
    ),
    (
        "opslevel properties",
        {"opslevel.yml": "version: 1\nservice:\n  name: x\n  properties:\n    rto: 2h\n"},
        ("opslevel.yml", 5, "2h"),
        None,
        None,
    ),
    (
        "datadog extensions fill the gap",
        {
            "readiness.yaml": "dr:\n  rto: 30m\n",
            "service.datadog.yaml": "schema-version: v2.2\ndd-service: x\nextensions:\n  rpo: 5m\n",
        },
        ("readiness.yaml", 2, "30m"),
        ("service.datadog.yaml", 4, "5m"),
        None,
    ),
    (
        "portal target not a duration",
        {"cortex.yaml": "info:\n  x-cortex-custom-metadata:\n    rto: four hours\n"},
        None,
        None,
        "x-cortex-custom-metadata.rto",
    ),
    ("broken portal file", {"opslevel.yml": "service: [\n"}, None, None, "invalid YAML"),
    ("nothing declared", {"README.md": "# x\n"}, None, None, None),
]


@pytest.mark.parametrize("name, files, rto, rpo, problem", TARGET_CASES, ids=[c[0] for c in TARGET_CASES])
def test_dr_targets(make_repo, name, files, rto, rpo, problem) -> None:
    repo = open_snapshot(str(make_repo(files).path))
    readiness, _ = try_readiness(repo)
    targets = dr_targets(repo, readiness)
    for target, expected in ((targets.rto, rto), (targets.rpo, rpo)):
        got = (target.path, target.line, format_duration(target.value)) if target else None
        assert got == expected
    assert (problem in targets.problems[0][2]) if problem else not targets.problems
