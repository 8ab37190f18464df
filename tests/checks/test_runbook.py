"""runbook.present, runbook.fresh and runbook.alerts-linked over realistic repos."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest

from tests.checks.cases import NOW, case_repo
from tests.conftest import run_check

REAL_RUNBOOK = (
    "# Billing runbook\n\nBilling charges customers every month from their subscription plan. It reads plans "
    "from the catalogue API, charges through Stripe and writes invoices to the billing database.\n\n"
    "## Invoice run failed\n\nRe-run the job for the failed day with `kubectl create job --from=cronjob/invoice-run "
    "invoice-rerun -n billing`. Watch the job logs; a Stripe rate limit error means waiting ten minutes before "
    "the next attempt. Tell finance in #billing-ops when the run has completed.\n\n"
    "## Rollback\n\nRoll back with `helm rollback billing -n billing` to the previous revision.\n"
)
CATALOG = (
    "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: billing\n{links}spec:\n"
    "  type: service\n  owner: team-billing\n  lifecycle: production\n"
)
RUNBOOK_LINK = "  links:\n    - url: {url}\n      title: {title}\n"


def catalog(url: str | None = None, title: str = "Billing runbook") -> str:
    return CATALOG.format(links=RUNBOOK_LINK.format(url=url, title=title) if url else "")


# -- runbook.present ----------------------------------------------------------------------------


INLINE_PRESENT = [
    # (name, files, status, summary fragment)
    ("runbooks folder", {"runbooks/invoice-run.md": REAL_RUNBOOK}, "pass", "runbooks/invoice-run.md"),
    ("docs/runbook.md", {"docs/runbook.md": REAL_RUNBOOK}, "pass", "docs/runbook.md"),
    (
        "catalog link to an in-repo file",
        {"catalog-info.yaml": catalog("./docs/operations.md"), "docs/operations.md": REAL_RUNBOOK},
        "pass",
        "docs/operations.md",
    ),
    (
        "catalog link typed runbook",
        {
            "catalog-info.yaml": CATALOG.format(
                links="  links:\n    - url: https://wiki.acme.example/billing\n      title: Billing on-call\n      type: runbook\n"
            )
        },
        "warn",
        "external only",
    ),
    (
        "external link and a stub",
        {
            "catalog-info.yaml": catalog("https://wiki.acme.example/billing"),
            "RUNBOOK.md": "# Runbook\n\nSee the wiki.\n",
        },
        "warn",
        "RUNBOOK.md is only a stub",
    ),
    ("a README is not a runbook", {"README.md": REAL_RUNBOOK, "catalog-info.yaml": catalog()}, "fail", "no runbook"),
    (
        "catalog link that is not a runbook",
        {"catalog-info.yaml": catalog("https://wiki.acme.example/billing", "Design doc")},
        "fail",
        "no runbook",
    ),
    (
        "unparseable catalog",
        {"catalog-info.yaml": "metadata:\n  name: billing\n  links: [\n"},
        "error",
        "cannot tell whether there is a runbook: catalog-info.yaml:4",
    ),
    (
        "real runbook beside an unparseable catalog",
        {"catalog-info.yaml": "metadata: [\n", "RUNBOOK.md": REAL_RUNBOOK},
        "pass",
        "runbook RUNBOOK.md",
    ),
]


@pytest.mark.parametrize("name, files, status, summary", INLINE_PRESENT, ids=[c[0] for c in INLINE_PRESENT])
def test_present_inline(make_repo, name, files, status, summary) -> None:
    result = run_check("runbook.present", make_repo(files), now=NOW)
    assert (result.status.value, summary in result.summary) == (status, True), result.summary


# -- runbook.fresh ------------------------------------------------------------------------------
def test_fresh_fails_on_a_runbook_untouched_for_over_a_year(make_repo) -> None:
    repo = make_repo({"RUNBOOK.md": REAL_RUNBOOK}, days_ago=400)
    repo.commit({"main.go": "package main\n"}, date=NOW - timedelta(days=2))  # code moves on, the runbook does not
    result = run_check("runbook.fresh", repo, now=NOW)
    assert result.status.value == "fail"
    assert "runbook not changed within 365 days: RUNBOOK.md (400 days)" in result.summary
    assert [(e.path, e.line) for e in result.evidence] == [("RUNBOOK.md", 1)]


FRESH_HISTORY = [
    # (name, commits [(files, days_ago)], params, status, summary fragment)
    ("recent", [({"RUNBOOK.md": REAL_RUNBOOK}, 30)], {}, "pass", "RUNBOOK.md changed 30 days ago, within 365"),
    (
        "reviewed after going stale",
        [({"RUNBOOK.md": REAL_RUNBOOK}, 500), ({"RUNBOOK.md": REAL_RUNBOOK + "\nReviewed.\n"}, 10)],
        {},
        "pass",
        "changed 10 days ago",
    ),
    ("stricter window", [({"RUNBOOK.md": REAL_RUNBOOK}, 30)], {"max_age_days": 20}, "fail", "within 20 days"),
    (
        "one of two runbooks stale",
        [({"runbooks/invoices.md": REAL_RUNBOOK}, 700), ({"runbooks/refunds.md": REAL_RUNBOOK}, 3)],
        {},
        "fail",
        "runbooks/invoices.md (700 days)",
    ),
    # freshness is judged on the file that exists; whether it is enough is runbook.present's call
    ("stub only", [({"RUNBOOK.md": "# Runbook\n\nTBD\n"}, 3)], {}, "pass", "RUNBOOK.md changed 3 days ago"),
    ("no runbook", [({"README.md": "# billing\n"}, 3)], {}, "not_applicable", "runbook.present reports it"),
]


@pytest.mark.parametrize("name, commits, params, status, summary", FRESH_HISTORY, ids=[c[0] for c in FRESH_HISTORY])
def test_fresh_by_history(make_repo, name, commits, params, status, summary) -> None:
    (first, days), *rest = commits
    repo = make_repo(first, days_ago=days)
    for files, days_ago in rest:
        repo.commit(files, date=NOW - timedelta(days=days_ago))
    result = run_check("runbook.fresh", repo, params=params, now=NOW)
    assert (result.status.value, summary in result.summary) == (status, True), result.summary


def test_fresh_is_measured_from_the_scan_time(make_repo) -> None:
    repo = make_repo({"RUNBOOK.md": REAL_RUNBOOK}, days_ago=10)
    later = NOW + timedelta(days=400)
    assert run_check("runbook.fresh", repo, now=NOW).status.value == "pass"
    assert run_check("runbook.fresh", repo, now=later).status.value == "fail"


def test_fresh_on_a_shallow_clone_is_an_error(make_repo, tmp_path) -> None:
    repo = make_repo({"RUNBOOK.md": REAL_RUNBOOK}, days_ago=900)
    repo.commit({"main.go": "package main\n"}, date=NOW - timedelta(days=1))
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(shallow)], check=True)
    result = run_check("runbook.fresh", shallow, now=NOW)
    assert result.status.value == "error"
    assert "cannot date RUNBOOK.md" in result.summary and "shallow" in result.summary


# -- runbook.alerts-linked ---------------------------------------------------------------------


def test_alerts_linked_names_each_broken_link(tmp_path) -> None:
    result = run_check("runbook.alerts-linked", case_repo("runbook.alerts-linked/broken-links", tmp_path), now=NOW)
    assert [e.value for e in result.evidence] == [
        "PaymentsDown: RUNBOOK.md has no heading with anchor #payments-down",
        "PaymentsQueueBacklog: 'docs/runbooks/queue.md' is not a URL and docs/runbooks/queue.md or "
        "alerts/docs/runbooks/queue.md does not exist in the repo",
        "PaymentsWebhookErrors: no runbook_url annotation (link the heading of RUNBOOK.md that explains it)",
    ]


SLOTH = """\
version: prometheus/v1
service: billing
slos:
  - name: requests-availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{{job="billing",code=~"5.."}}[{{{{.window}}}}]))
        total_query: sum(rate(http_requests_total{{job="billing"}}[{{{{.window}}}}]))
    alerting:
      name: BillingAvailabilityBurn
      annotations:
        runbook: {runbook}
      page_alert:
        labels:
          severity: critical
      ticket_alert:
        labels:
          severity: warning
"""
BROKEN_RULES = """\
groups:
  - name: billing
    rules:
      - alert: BillingDown
        expr: up{job="billing"} ==
        labels:
          severity: critical
"""

INLINE_LINKED = [
    (
        "sloth runbook annotation resolves",
        {"slos/billing.yaml": SLOTH.format(runbook="RUNBOOK.md#invoice-run-failed"), "RUNBOOK.md": REAL_RUNBOOK},
        "pass",
        "the paging alert links a runbook that resolves",
    ),
    (
        "sloth runbook anchor missing",
        {"slos/billing.yaml": SLOTH.format(runbook="RUNBOOK.md#availability"), "RUNBOOK.md": REAL_RUNBOOK},
        "fail",
        "no heading with anchor #availability",
    ),
    (
        "unreadable rule file, no paging alert known",
        {"monitoring/rules.yaml": BROKEN_RULES},
        "error",
        "cannot read every alert rule",
    ),
    ("no alerts at all", {"README.md": "# billing\n"}, "not_applicable", "no paging alerts"),
]


@pytest.mark.parametrize("name, files, status, summary", INLINE_LINKED, ids=[c[0] for c in INLINE_LINKED])
def test_alerts_linked_inline(make_repo, name, files, status, summary) -> None:
    result = run_check("runbook.alerts-linked", make_repo(files), now=NOW)
    assert (result.status.value, summary in result.summary) == (status, True), result.summary
