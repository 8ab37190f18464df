"""slo.defined, alerts.defined and alerts.burn-rate over repos as teams keep them."""

from __future__ import annotations

import pytest

from tests.checks.cases import NOW
from tests.conftest import run_check

# (fixture repo, check, run options, status, evidence (path, line) that must be there, summary part)


def assert_result(result, status, evidence, reason):
    """``reason``: a fragment of the summary or of an evidence value that only the right reason gives."""
    assert result.status.value == status, result.summary
    assert reason and reason in " | ".join([result.summary, *(str(e.value) for e in result.evidence)]), (
        result.summary,
        result.evidence,
    )
    where = [(e.path, e.line) for e in result.evidence]
    assert all(item in where for item in evidence), where
    if status in ("fail", "error"):
        assert result.evidence, result.summary
        # evidence names file and line, or (for a missing file) says what to add
        assert all((e.path and e.line) or (not e.path and e.value) for e in result.evidence)


# -- burn-rate thresholds and pairing, inline --------------------------------------------------------
OPENSLO = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: api-availability
spec:
  service: api
  indicator:
    metadata:
      name: api-errors
    spec:
      ratioMetric:
        counter: true
        bad:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_requests_total{job="api",code=~"5.."}[5m]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(http_requests_total{job="api"}[5m]))
  timeWindow:
    - duration: 30d
      isRolling: true
  objectives:
    - target: 0.999
"""


def ratio(window: str) -> str:
    return (
        f'sum(rate(http_requests_total{{job="api",code=~"5.."}}[{window}])) '
        f'/ sum(rate(http_requests_total{{job="api"}}[{window}]))'
    )


def alert_file(threshold: str, long: str = "1h", short: str = "5m", name: str = "ApiErrorBudgetBurn") -> str:
    return f"""\
groups:
  - name: api-slo
    rules:
      - alert: {name}
        expr: |
          {ratio(long)} > {threshold}
          and
          {ratio(short)} > {threshold}
        labels:
          severity: page
"""


SLOTH_NAMED_NO_PAGE = """\
version: "prometheus/v1"
service: "api"
slos:
  - name: "requests"
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="api",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="api"}[{{.window}}]))
    alerting:
      name: ApiErrorBudgetBurn
      page_alert:
        disable: true
"""
LATENCY_ONLY_RULES = """\
groups:
  - name: api-latency
    rules:
      - alert: ApiSlowRequests
        expr: |
          1 - sum(rate(http_request_duration_seconds_bucket{job="api",le="0.3"}[1h])) / sum(rate(http_request_duration_seconds_count{job="api"}[1h])) > 0.144
          and
          1 - sum(rate(http_request_duration_seconds_bucket{job="api",le="0.3"}[5m])) / sum(rate(http_request_duration_seconds_count{job="api"}[5m])) > 0.144
        labels:
          severity: page
"""
OTHER_JOB_RULES = alert_file("0.0144").replace('job="api"', 'job="worker"')


@pytest.mark.parametrize(
    "files, params, status, evidence, summary",
    [
        ({"alerts.yaml": alert_file("(14.4 * (1 - 0.999))")}, {}, "pass", [("alerts.yaml", 4)], "ApiErrorBudgetBurn"),
        (
            {"alerts.yaml": alert_file("0.0144")},
            {},
            "pass",
            [("alerts.yaml", 4)],
            "by alert ApiErrorBudgetBurn: 1h/5m at 14.4×",
        ),
        # within 10% of 14.4x
        ({"alerts.yaml": alert_file("0.0135")}, {}, "pass", [("alerts.yaml", 4)], "ApiErrorBudgetBurn: 1h/5m at 13.5×"),
        # written for a 99% SLO: pages at 144x the budget rate of this 99.9% SLO
        (
            {"alerts.yaml": alert_file("(14.4 * (1 - 0.99))")},
            {},
            "fail",
            [("slo.yaml", 27), ("alerts.yaml", 4)],
            "lack a fast-burn page alert",
        ),
        (
            {"alerts.yaml": alert_file("0.016")},
            {},
            "fail",
            [("alerts.yaml", 4)],
            "1h/5m at 16×; expected 14.4× (1 − 0.999)",
        ),
        (
            {"alerts.yaml": alert_file("0.016")},
            {"threshold_tolerance": 0.2},
            "pass",
            [("alerts.yaml", 4)],
            "by alert ApiErrorBudgetBurn: 1h/5m at 16×",
        ),
        (
            {"alerts.yaml": alert_file("(6 * 0.001)", long="6h", short="30m")},
            {},
            "fail",
            [("alerts.yaml", 4)],
            "6h/30m at 6×; a fast-burn pair needs a 1h long window",
        ),
        # one window only
        (
            {"alerts.yaml": alert_file("0.0144", short="1h")},
            {},
            "fail",
            [("alerts.yaml", 4)],
            "1h/1h at 14.4×; the short window should be about 1/12 of 1h",
        ),
        (
            {"alerts.yaml": alert_file("0.0144", short="30m")},
            {},
            "fail",
            [("alerts.yaml", 4)],
            "1h/30m at 14.4×; the short window should be about 1/12 of 1h",
        ),
        ({"alerts.yaml": LATENCY_ONLY_RULES}, {}, "fail", [("slo.yaml", 27)], "'api-availability'"),
        ({"alerts.yaml": OTHER_JOB_RULES}, {}, "fail", [("slo.yaml", 27)], "no burn-rate alert is linked to it"),
        ({}, {}, "fail", [("slo.yaml", 27)], "lack a fast-burn page alert"),
        (
            {"alerts.yaml": "groups:\n  - name: api\n    rules:\n      - alert: X\n        expr: rate(x[5m]\n"},
            {},
            "error",
            [("alerts.yaml", 4), ("slo.yaml", 27)],
            "could not be read",
        ),
    ],
)
def test_burn_rate_against_an_openslo_slo(make_repo, files, params, status, evidence, summary):
    result = run_check("alerts.burn-rate", make_repo({"slo.yaml": OPENSLO, **files}), params=params, now=NOW)
    assert_result(result, status, evidence, summary)


@pytest.mark.parametrize(
    "files, status, evidence, summary",
    [
        # Sloth generates no page alert, but an alert written out under the SLO's alert name is linked
        (
            {"slos/api.yaml": SLOTH_NAMED_NO_PAGE, "alerts.yaml": alert_file("0.0144")},
            "pass",
            [("alerts.yaml", 4)],
            "'requests' by alert ApiErrorBudgetBurn: 1h/5m at 14.4×",
        ),
        ({"slos/api.yaml": SLOTH_NAMED_NO_PAGE}, "fail", [("slos/api.yaml", 10)], "sloth generates no page alerts"),
        # an alert carrying another SLO's sloth_id is not this SLO's, whatever its name
        (
            {
                "slos/api.yaml": SLOTH_NAMED_NO_PAGE,
                "alerts.yaml": alert_file("0.0144").replace(
                    "severity: page", "severity: page\n          sloth_id: other-requests"
                ),
            },
            "fail",
            [("slos/api.yaml", 10)],
            "sloth generates no page alerts",
        ),
    ],
)
def test_burn_rate_pairing_with_sloth(make_repo, files, status, evidence, summary):
    result = run_check("alerts.burn-rate", make_repo(files), now=NOW)
    assert_result(result, status, evidence, summary)
    if status == "fail":  # not paired with the alert written out for another SLO
        assert not any("ApiErrorBudgetBurn" in str(e.value) for e in result.evidence), result.evidence


@pytest.mark.parametrize(
    "files, tier, status, summary",
    [
        (
            {"slo.yaml": OPENSLO, "bad.yaml": OPENSLO.replace("target: 0.999", "target: 1")},
            "2",
            "warn",
            "1 invalid SLO",
        ),
        ({"slo.yaml": OPENSLO}, "0", "fail", "Tier-0 services need an availability and a latency SLO"),
        ({"README.md": "# api\n"}, "2", "fail", "no SLO spec found"),
    ],
)
def test_slo_defined_inline(make_repo, files, tier, status, summary):
    result = run_check("slo.defined", make_repo(files), tier=tier, now=NOW)
    assert result.status.value == status and summary in result.summary, result.summary


def test_alerts_defined_fails_before_it_errors(make_repo):
    """A definite finding (an alert without severity) is reported even beside an unreadable file."""
    files = {
        "a.yaml": "groups:\n  - name: a\n    rules:\n      - alert: NoSeverity\n        expr: up == 0\n",
        "b.yaml": "groups:\n  - name: b\n    rules:\n      - alert: Bad\n        expr: up ==\n",
    }
    result = run_check("alerts.defined", make_repo(files), now=NOW)
    assert result.status.value == "fail" and [(e.path, e.line) for e in result.evidence] == [("a.yaml", 4)]
