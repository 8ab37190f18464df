"""Specs, rules and configs in example and test folders are not the service's; the folder list
is the portal config's `scan.non_production_dirs`, and a check that finds things only there
says so."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from prr import schemas
from tests.checks.cases import NOW
from tests.conftest import run_check

SLOTH = """\
version: prometheus/v1
service: orders
slos:
  - name: requests-availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="orders",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="orders"}[{{.window}}]))
    alerting:
      name: OrdersHighErrorRate
      page_alert: {labels: {severity: page}}
      ticket_alert: {labels: {severity: ticket}}
"""
RULES = "groups:\n  - name: orders\n    rules:\n      - alert: OrdersDown\n        expr: up == 0\n        labels: {severity: page}\n"
ALERTMANAGER = """\
route:
  receiver: pager
receivers:
  - name: pager
    pagerduty_configs:
      - routing_key: 0123456789abcdef0123456789abcdef
"""
SAMPLES = {f"examples/{n}/slo.yaml": SLOTH.replace("orders", n) for n in ("shop", "blog", "wiki")}

CASES = [
    # (name, files, config, check, status, summary fragment only that reason produces)
    (
        "SLO specs only under examples/",
        SAMPLES,
        {},
        "slo.defined",
        "fail",
        "; 3 SLO spec(s) under examples/ not counted: non-production folder; configure `scan.non_production_dirs`",
    ),
    (
        "alert rules only under test/",
        {"test/fixtures-rules.yaml": RULES, "e2e/rules.yaml": RULES},
        {},
        "alerts.defined",
        "fail",
        "2 alert rule(s) under e2e/, test/ not counted: non-production folders; configure `scan.non_production_dirs`",
    ),
    (
        "alertmanager config only under docs/",
        {"monitoring/rules.yaml": RULES, "docs/alertmanager.yml": ALERTMANAGER},
        {},
        "alerts.routed",
        "error",
        "1 Alertmanager config(s) under docs/ not counted: non-production folder",
    ),
    (
        "a configured list replaces the default: docs/ counts",
        {"monitoring/rules.yaml": RULES, "docs/alertmanager.yml": ALERTMANAGER},
        {"scan": {"non_production_dirs": ["examples", "sandbox"]}},
        "alerts.routed",
        "pass",
        "all 1 paging alert(s) reach a paging receiver",
    ),
    (
        "a configured folder is set aside",
        {"sandbox/slo.yaml": SLOTH},
        {"scan": {"non_production_dirs": ["sandbox"]}},
        "slo.defined",
        "fail",
        "1 SLO spec(s) under sandbox/ not counted: non-production folder",
    ),
    (
        "examples/ counts when the list leaves it out",
        SAMPLES,
        {"scan": {"non_production_dirs": ["test"]}},
        "slo.defined",
        "pass",
        "3 valid SLO(s)",
    ),
]


@pytest.mark.parametrize("name, files, config, check, status, summary", CASES, ids=[c[0] for c in CASES])
def test_non_production_dirs(make_repo, name, files, config, check, status, summary) -> None:
    result = run_check(check, make_repo(files), config=config, now=NOW, tier="2")
    assert (result.status.value, summary in result.summary) == (status, True), result.summary


def test_the_portal_config_accepts_the_list_and_gate_passes_it(make_repo, tmp_path: Path) -> None:
    assert schemas.problems("config", {"scan": {"non_production_dirs": ["sandbox"]}}) == []
    assert schemas.problems("config", {"scan": {"non_production_dirs": ["a/b"]}}) != []
    repo = make_repo({"sandbox/slo.yaml": SLOTH, "slos/orders.yaml": SLOTH.replace("orders", "orders-api")})
    config = tmp_path / "prr.yaml"
    config.write_text("scan:\n  non_production_dirs: [sandbox]\n")
    out = subprocess.run(
        [sys.executable, "-m", "prr.cli", "gate", str(repo.path), "--config", str(config), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    slo = next(c for c in json.loads(out.stdout)["checks"] if c["id"] == "slo.defined")
    assert [s["path"] for s in slo["details"]["slos"]] == ["slos/orders.yaml"], slo
