"""One runbook, read the same way by every check that reads it: runbook.present, runbook.fresh,
runbook.alerts-linked and delivery.rollback name the same file, whatever the layout."""

from __future__ import annotations

from datetime import timedelta

import pytest

from prr.testing import RepoBuilder
from tests.checks.cases import NOW
from tests.conftest import run_check

STUB = "# Orders runbook\n\nTODO: write this before launch.\n"
REAL = """\
<!-- Copyright 2025 Acme Inc. Licensed under the Apache License, Version 2.0. -->
# Orders runbook

## OrdersHighErrorRate

Orders fails requests. Look at the error panel of the Orders dashboard, then the payments-api
health: `kubectl get pods -n orders -l app=payments-api`.

## Rollback

Roll back with `argocd app rollback order-service` to the previous healthy revision.
"""
RULES = """\
groups:
  - name: orders
    rules:
      - alert: OrdersHighErrorRate
        expr: sum(rate(http_requests_total{job="orders",code=~"5.."}[5m])) / sum(rate(http_requests_total{job="orders"}[5m])) > 0.05
        for: 5m
        labels: {severity: page}
"""
LINKED_RULES = RULES + "        annotations:\n          runbook_url: LINK\n"

LAYOUTS = [
    # (name, files, the runbook every check names)
    ("stub at docs/runbook.md", {"docs/runbook.md": STUB, "monitoring/rules.yaml": RULES}, "docs/runbook.md"),
    ("stub at the root", {"RUNBOOK.md": STUB, "monitoring/rules.yaml": RULES}, "RUNBOOK.md"),
    ("real runbook in runbooks/", {"runbooks/orders.md": REAL, "monitoring/rules.yaml": RULES}, "runbooks/orders.md"),
    (
        "real runbook only an alert links",
        {
            "docs/operations.md": REAL,
            "monitoring/rules.yaml": LINKED_RULES.replace("LINK", "docs/operations.md#ordershigherrorrate"),
        },
        "docs/operations.md",
    ),
    (
        "real runbook beside a stub",
        {"docs/runbook.md": REAL, "runbooks/old.md": STUB, "monitoring/rules.yaml": RULES},
        "docs/runbook.md",
    ),
]


def _named(result) -> set[str]:
    return {e.path for e in result.evidence if e.path} | {
        word.strip("():,;`'").split("#")[0]
        for word in f"{result.summary} {' '.join(str(e.value) for e in result.evidence)}".split()
    }


@pytest.mark.parametrize("name, files, runbook", LAYOUTS, ids=[c[0] for c in LAYOUTS])
def test_every_runbook_check_names_the_same_file(tmp_path, name, files, runbook) -> None:
    repo = RepoBuilder(tmp_path / "orders")
    repo.commit(files, "orders service", date=NOW - timedelta(days=3))
    for check_id in ("runbook.present", "runbook.fresh", "runbook.alerts-linked", "delivery.rollback"):
        result = run_check(check_id, repo, now=NOW)
        assert runbook in _named(result), (check_id, result.summary, result.evidence)


def test_a_stub_is_told_to_expand_the_file_it_found(tmp_path) -> None:
    repo = RepoBuilder(tmp_path / "orders")
    repo.commit({"docs/runbook.md": STUB}, "orders service", date=NOW - timedelta(days=3))
    present = run_check("runbook.present", repo, now=NOW)
    assert present.status.value == "fail"
    assert "docs/runbook.md is a stub" in present.summary and "expand docs/runbook.md" in present.summary
    assert "RUNBOOK.md" not in present.summary.replace("docs/runbook.md", "")
    fresh = run_check("runbook.fresh", repo, now=NOW)
    assert (fresh.status.value, fresh.summary) == ("pass", "docs/runbook.md changed 3 days ago, within 365")
    rollback = run_check("delivery.rollback", repo, now=NOW)
    assert rollback.status.value == "fail" and "add a '## Rollback' section to docs/runbook.md" in rollback.summary
