"""Each check's remediation example, applied as it says, makes the check pass.

The example is taken from the remediation as a report shows it at the scan's time (``{today}``
filled in), so an example can never go stale: a drill dated in the example is dated today.
Examples that are fragments are applied the way the remediation text says: merged into the
manifest or descriptor they belong to, appended to the runbook, or put in a rule group.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import yaml

from prr.plugin import TODAY_FIELD, load_registry
from prr.testing import RepoBuilder
from tests.checks.cases import NOW
from tests.conftest import run_check

CATALOG = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout
  annotations:
    prr/tier: "1"
spec:
  type: service
  owner: group:default/team-payments
  lifecycle: production
"""
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
  labels: {app: checkout}
spec:
  replicas: 3
  selector:
    matchLabels: {app: checkout}
  template:
    metadata:
      labels: {app: checkout}
    spec:
      containers:
        - name: checkout
          image: registry.example.com/checkout:1.4.2
          ports: [{containerPort: 8080}]
"""
RUNBOOK = """\
# Checkout runbook

## What it is

Checkout turns a cart into an order. It calls payments-api and writes to the orders Postgres database.

## CheckoutHighErrorRate

Users see failed checkouts. Check the Checkout dashboard for the failing route, then payments-api
health: `kubectl get pods -n shop -l app=payments-api`.
"""
PAGING_RULES = """\
groups:
  - name: checkout
    rules:
      - alert: CheckoutDown
        expr: up{job="checkout"} == 0
        for: 5m
        labels: {severity: page, team: payments}
"""
OPENSLO = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-availability
spec:
  service: checkout
  budgetingMethod: Occurrences
  timeWindow: [{duration: 30d, isRolling: true}]
  objectives:
    - target: 0.999
  indicator:
    metadata: {name: checkout-errors}
    spec:
      ratioMetric:
        good:
          metricSource: {type: Prometheus, spec: {query: 'sum(rate(http_requests_total{job="checkout",code!~"5.."}[5m]))'}}
        total:
          metricSource: {type: Prometheus, spec: {query: 'sum(rate(http_requests_total{job="checkout"}[5m]))'}}
"""


def as_file(path: str) -> Callable[[str, dict[str, str]], dict[str, str]]:
    return lambda example, base: {**base, path: example + "\n"}


def appended_to(path: str) -> Callable[[str, dict[str, str]], dict[str, str]]:
    return lambda example, base: {**base, path: base[path] + "\n" + example + "\n"}


def prepended_to(path: str) -> Callable[[str, dict[str, str]], dict[str, str]]:
    return lambda example, base: {**base, path: example + "\n\n" + base[path]}


def merged_into(path: str) -> Callable[[str, dict[str, str]], dict[str, str]]:
    """The example is a fragment of the document at ``path``: deep-merged into it (lists of
    named items merged by name). Of an example showing alternatives, the first."""

    def apply(example: str, base: dict[str, str]) -> dict[str, str]:
        merged = _merge(yaml.safe_load(base[path]), next(yaml.safe_load_all(example)))
        return {**base, path: yaml.safe_dump(merged, sort_keys=False)}

    return apply


def in_rule_group(path: str) -> Callable[[str, dict[str, str]], dict[str, str]]:
    """The example is one rule: it goes in a rule group of a rule file."""
    indented = lambda example: "\n".join("      " + line for line in example.splitlines())  # noqa: E731
    return lambda example, base: {**base, path: f"groups:\n  - name: checkout\n    rules:\n{indented(example)}\n"}


def _merge(base: Any, extra: Any) -> Any:
    if isinstance(base, dict) and isinstance(extra, dict):
        return {**base, **{k: _merge(base.get(k), v) for k, v in extra.items()}}
    if isinstance(base, list) and isinstance(extra, list) and all(isinstance(i, dict) for i in base + extra):
        names = {i.get("name") for i in extra}
        return [_merge(next((b for b in base if b.get("name") == i.get("name")), {}), i) for i in extra] + [
            b for b in base if b.get("name") not in names
        ]
    return extra


@dataclass
class Case:
    check: str
    apply: Callable[[str, dict[str, str]], dict[str, str]]
    base: dict[str, str] = field(default_factory=dict)  # the service before the fix
    stale_days: float = 1  # age of the base commit


CASES = [
    Case("alerts.burn-rate", as_file("monitoring/slo-burn.rules.yaml"), {"slos/checkout.yaml": OPENSLO}),
    Case("alerts.defined", as_file("monitoring/checkout.rules.yaml")),
    Case("alerts.routed", as_file("alertmanager/alertmanager.yml"), {"monitoring/rules.yaml": PAGING_RULES}),
    Case("delivery.ci", as_file(".github/workflows/ci.yml"), {"go.mod": "module example.com/checkout\n"}),
    Case("delivery.rollback", appended_to("RUNBOOK.md"), {"RUNBOOK.md": RUNBOOK}),
    Case("dr.plan", as_file("readiness.yaml")),
    Case("dr.tested", as_file("readiness.yaml"), {"catalog-info.yaml": CATALOG}),
    Case("observability.dashboard", merged_into("catalog-info.yaml"), {"catalog-info.yaml": CATALOG}),
    Case("ownership.catalog", as_file("catalog-info.yaml")),
    Case("ownership.oncall", merged_into("catalog-info.yaml"), {"catalog-info.yaml": CATALOG}),
    Case(
        "ownership.tier",
        merged_into("catalog-info.yaml"),
        {"catalog-info.yaml": CATALOG.replace('  annotations:\n    prr/tier: "1"\n', "")},
    ),
    Case("resilience.pdb", as_file("deploy/pdb.yaml"), {"deploy/deployment.yaml": DEPLOYMENT}),
    Case("resilience.probes", merged_into("deploy/deployment.yaml"), {"deploy/deployment.yaml": DEPLOYMENT}),
    Case(
        "resilience.replicas",
        merged_into("deploy/deployment.yaml"),
        {"deploy/deployment.yaml": DEPLOYMENT.replace("replicas: 3", "replicas: 1")},
    ),
    Case("resilience.resources", merged_into("deploy/deployment.yaml"), {"deploy/deployment.yaml": DEPLOYMENT}),
    Case(
        "runbook.alerts-linked",
        in_rule_group("monitoring/rules.yaml"),
        {"RUNBOOK.md": RUNBOOK},
    ),
    Case("runbook.fresh", prepended_to("RUNBOOK.md"), {"RUNBOOK.md": RUNBOOK}, stale_days=400),
    Case("runbook.present", as_file("RUNBOOK.md")),
    Case("slo.defined", as_file("slos/checkout.yaml")),
]
# Every built-in check has a case: a check whose remediation example is not a complete fix says
# why here instead.
NOT_A_COMPLETE_FIX: dict[str, str] = {}


def example_of(check_id: str) -> str:
    """The first code block of the check's remediation, as shown at NOW."""
    remediation = load_registry().get(check_id).remediation_on(NOW)
    block = re.search(r"```\w*\n(.*?)```", remediation, re.S)
    assert block, f"{check_id}: the remediation has no example"
    return block[1].rstrip("\n")


def test_every_check_is_covered() -> None:
    builtin = {c.id for c in load_registry() if c.kind == "repo" and c.run.__module__.startswith("prr.checks.")}
    assert builtin == {c.check for c in CASES} | set(NOT_A_COMPLETE_FIX)


@pytest.mark.parametrize("case", CASES, ids=[c.check for c in CASES])
def test_the_remediation_example_fixes_the_check(tmp_path, case: Case) -> None:
    repo = RepoBuilder(tmp_path / "checkout")
    repo.commit({"README.md": "# checkout\n", **case.base}, "the service", date=NOW - timedelta(days=case.stale_days))
    before = run_check(case.check, repo, now=NOW)
    repo.commit(case.apply(example_of(case.check), case.base), "apply the remediation", date=NOW - timedelta(hours=1))
    after = run_check(case.check, repo, now=NOW)
    assert before.status.value != "pass", before.summary
    assert after.status.value == "pass", after.summary


def test_examples_with_dates_are_dated_when_shown() -> None:
    check = load_registry().get("dr.tested")
    assert TODAY_FIELD in check.remediation
    assert "date: 2026-03-02" in check.remediation_on(NOW)
