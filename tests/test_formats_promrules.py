"""Prometheus rules (files, PrometheusRule CRDs, Sloth/Pyrra-generated) and the PromQL helpers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from prr.checks.formats import promql
from prr.checks.formats.promrules import (
    AlertRule,
    RecordingIndex,
    is_paging,
    load_alert_rules,
    load_recording_rules,
)
from prr.repo import open_snapshot
from tests.checks.cases import case_repo

M = timedelta(minutes=1)
H = timedelta(hours=1)

RULE_FILE = """\
groups:
  - name: api
    rules:
      - record: job:http_errors:ratio_rate5m
        expr: sum by (job) (rate(http_requests_total{code=~"5.."}[5m])) / sum by (job) (rate(http_requests_total[5m]))
      - alert: ApiDown
        expr: up{job="api"} == 0
        for: 5m
        labels:
          severity: page
        annotations:
          runbook_url: docs/runbook.md#apidown
"""
PROMETHEUS_RULE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: unrelated
data:
  key: value
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: api
spec:
  groups:
    - name: api.alerts
      rules:
        - alert: ApiErrors
          expr: job:http_errors:ratio_rate5m{job="api"} > 0.05
          labels:
            severity: warning
"""
GRAFANA_PROVISIONING = """\
apiVersion: 1
groups:
  - orgId: 1
    name: api
    folder: alerts
    interval: 1m
    rules:
      - uid: abc
        title: Api down
        condition: A
"""


def load(repo):
    snapshot = open_snapshot(str(repo.path))
    alerts, errors = load_alert_rules(snapshot)
    return alerts, errors, load_recording_rules(snapshot)


@pytest.mark.parametrize(
    "files, alerts, records",
    [
        (
            {"prometheus/rules.yml": RULE_FILE},
            [("ApiDown", "prometheus/rules.yml", 6)],
            [("job:http_errors:ratio_rate5m", 4)],
        ),
        ({"deploy/api.yaml": PROMETHEUS_RULE}, [("ApiErrors", "deploy/api.yaml", 16)], []),
        (
            {"prometheus/api.rules": RULE_FILE},
            [("ApiDown", "prometheus/api.rules", 6)],
            [("job:http_errors:ratio_rate5m", 4)],
        ),
        ({"grafana/provisioning/alerting/api.yaml": GRAFANA_PROVISIONING}, [], []),
        ({"tests/rules.yml": RULE_FILE, "examples/prometheusrule.yaml": PROMETHEUS_RULE}, [], []),
        (
            {"rules.yml": "groups:\n  - name: g\n    rules:\n      - alert: Always\n        expr: 1\n"},
            [("Always", "rules.yml", 4)],
            [],
        ),
    ],
)
def test_rule_files(make_repo, files, alerts, records):
    found, errors, recorded = load(make_repo(files))
    assert errors == {}
    assert [(a.name, a.path, a.line) for a in found] == alerts
    assert [(r.record, r.line) for r in recorded] == records
    assert all(a.parsed is not None and a.generated_by is None for a in found)


def test_alert_fields(make_repo):
    (alert,), _, _ = load(make_repo({"prometheus/rules.yml": RULE_FILE}))
    assert alert == AlertRule(
        name="ApiDown",
        labels={"severity": "page"},
        annotations={"runbook_url": "docs/runbook.md#apidown"},
        expr='up{job="api"} == 0',
        for_="5m",
        path="prometheus/rules.yml",
        line=6,
    )


@pytest.mark.parametrize(
    "name, line, message",
    [
        ("alerts.defined/rule-bad-promql", 9, "PaymentsSlow: expr is not valid PromQL"),
    ],
)
def test_unreadable_rule_files(tmp_path, name, line, message):
    alerts, errors, _ = load(case_repo(name, tmp_path))
    (error,) = errors.values()
    assert error.line == line and message in error.message
    if name == "alerts.defined/rule-bad-promql":  # the file's good rules are still read
        assert [a.name for a in alerts] == ["PaymentsDown"]


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("groups:\n  - name: g\n    rules:\n      - expr: up\n", 4, "needs `alert` or `record`"),
        ("groups:\n  - name: g\n    rules:\n      - alert: A\n        labels: {severity: page}\n", 4, "has no `expr`"),
        ("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: rate(x[5m]\n", 4, "not valid PromQL"),
        ("groups:\n  - name: g\n    rules: [\n", 4, "invalid YAML"),
        ("groups:\n  - rules\n  - name: g\n    rules: []\n", 2, "a rule group needs"),
    ],
)
def test_rule_file_errors(make_repo, text, line, message):
    _, errors, _ = load(make_repo({"monitoring/rules.yaml": text}))
    assert errors["monitoring/rules.yaml"].line == line
    assert message in errors["monitoring/rules.yaml"].message


def test_broken_yaml_that_is_no_rule_file_is_not_an_error(make_repo):
    _, errors, _ = load(make_repo({"prometheus/rules.yml": RULE_FILE, "config/app.yaml": "server: [8080\n"}))
    assert errors == {}


def test_loki_rules_are_read_without_a_promql_check(tmp_path):
    alerts, errors, _ = load(case_repo("alerts.defined/loki-and-prometheus-rules", tmp_path))
    assert errors == {}
    assert [(a.name, a.parsed is None) for a in alerts] == [("GatewayPanics", True), ("GatewayDown", False)]


@pytest.mark.parametrize(
    "name, expected",
    [
        (
            "slo.defined/sloth-availability-latency",
            [
                ("CheckoutHighErrorRate", "sloth", 15, "page", "docs/runbook.md#checkouthigherrorrate"),
                ("CheckoutHighErrorRate", "sloth", 15, "ticket", "docs/runbook.md#checkouthigherrorrate"),
                ("CheckoutHighLatency", "sloth", 43, "page", "docs/runbook.md#checkouthighlatency"),
            ],
        ),
        ("slo.defined/pyrra-latency-alerting-disabled", [("ErrorBudgetBurn", "pyrra", 1, None, None)] * 4),
        ("slo.defined/sloth-bad-promql", []),  # an invalid spec generates nothing
    ],
)
def test_generated_alerts_are_included(tmp_path, name, expected):
    alerts, errors, _ = load(case_repo(name, tmp_path))
    assert errors == {}
    assert [
        (a.name, a.generated_by, a.line, a.labels.get("sloth_severity"), a.annotations.get("runbook")) for a in alerts
    ] == expected
    assert all(a.parsed is not None and a.path for a in alerts)


def test_a_broken_sloth_spec_is_a_rule_error_but_a_broken_openslo_is_not(make_repo):
    broken = "slos:\n  - name: a\n   objective: 99\n"
    _, errors, _ = load(
        make_repo(
            {
                "slos/a.yaml": 'version: "prometheus/v1"\n' + broken,
                "openslo/b.yaml": "apiVersion: openslo/v1\nkind: SLO\n" + broken,
            }
        )
    )
    assert list(errors) == ["slos/a.yaml"]


@pytest.mark.parametrize(
    "labels, severities, paging",
    [
        ({"severity": "page"}, ["page"], True),
        ({"severity": "CRITICAL"}, ["critical"], True),
        ({"severity": "warning"}, ["page", "critical"], False),
        ({"sloth_severity": "page", "severity": "pageteam"}, ["page"], True),
        ({"severity": "high", "pager": "pagerduty"}, ["page"], True),
        ({"team": "api"}, ["page"], False),
    ],
)
def test_is_paging(labels, severities, paging):
    rule = AlertRule("A", labels, {}, "up == 0", None, "rules.yml", 1)
    assert is_paging(rule, severities) is paging


def test_is_paging_defaults():
    assert is_paging(AlertRule("A", {"severity": "sev1"}, {}, "up", None, "r.yml", 1))
    assert not is_paging(AlertRule("A", {"severity": "info"}, {}, "up", None, "r.yml", 1))


def test_recording_index_tells_sloth_series_apart_by_labels(tmp_path):
    _, _, recorded = load(case_repo("alerts.burn-rate/sloth-recordings-handwritten", tmp_path))
    index = RecordingIndex(recorded)
    mine = promql.parse('slo:sli_error:ratio_rate1h{sloth_id="payments-api-requests-availability"}')
    other = promql.parse('slo:sli_error:ratio_rate1h{sloth_id="someone-else"}')
    assert len(index(mine)) == 1 and index(other) == []
    assert promql.window_of(mine, index) == H


# -- PromQL helpers --------------------------------------------------------------------------------
WORKBOOK = """
(
  job:slo_errors_per_request:ratio_rate1h{job="myjob"} > (14.4*0.001)
and
  job:slo_errors_per_request:ratio_rate5m{job="myjob"} > (14.4*0.001)
)
or
(
  job:slo_errors_per_request:ratio_rate6h{job="myjob"} > (6*0.001)
and
  job:slo_errors_per_request:ratio_rate30m{job="myjob"} > (6*0.001)
)"""
SLOTH_OUTPUT = """
(
    max(slo:sli_error:ratio_rate5m{sloth_id="a-b", sloth_service="a", sloth_slo="b"} > (14.4 * 0.0009999999999999432)) without (sloth_window)
    and
    max(slo:sli_error:ratio_rate1h{sloth_id="a-b", sloth_service="a", sloth_slo="b"} > (14.4 * 0.0009999999999999432)) without (sloth_window)
)"""
RAW_RATIO = (
    'sum(rate(http_requests_total{code=~"5.."}[1h])) / sum(rate(http_requests_total[1h])) > 0.0144 '
    'and sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 0.0144'
)


@pytest.mark.parametrize(
    "expr, expected",
    [
        (WORKBOOK, [(H, 5 * M, 0.0144, 14.4), (6 * H, 30 * M, 0.006, 6)]),
        (SLOTH_OUTPUT, [(H, 5 * M, 14.4 * 0.0009999999999999432, 14.4)]),
        (RAW_RATIO, [(H, 5 * M, 0.0144, None)]),
        ("0.0144 < job:errors:ratio_rate1h", [(H, None, 0.0144, None)]),  # one window, constant first
        ("job:errors:ratio_rate1h > 14.4 * (1 - 0.999)", [(H, None, 14.4 * (1 - 0.999), 14.4)]),
        ('job:errors:ratio_rate1h > on() group_left 14.4 * (1 - slo_objective{slo="a"})', [(H, None, None, 14.4)]),
        (
            'http_requests:burnrate5m{slo="a"} > (14 * (1-0.99)) and http_requests:burnrate1h{slo="a"} > (14 * (1-0.99))',
            [(H, 5 * M, 14 * (1 - 0.99), 14)],
        ),
        ('up{job="api"} == 0', []),
        ("job:errors:ratio_rate1h < 0.01", []),  # below: not an alert on burning budget
    ],
)
def test_burn_rate_conditions(expr, expected):
    got = promql.burn_rate_conditions(promql.parse(expr))
    assert [(c.long_window, c.short_window, c.threshold, c.factor) for c in got] == [
        (l, s, pytest.approx(t) if t is not None else None, f) for l, s, t, f in expected
    ]


def test_generated_sloth_alert_reads_as_the_workbook_pairs(tmp_path):
    alerts, _, _ = load(case_repo("slo.defined/sloth-availability-latency", tmp_path))
    pairs = promql.burn_rate_conditions(alerts[0].parsed)
    assert [(c.long_window, c.short_window, c.factor) for c in pairs] == [(H, 5 * M, 14.4), (6 * H, 30 * M, 6)]


@pytest.mark.parametrize(
    "query, latency",
    [
        ('sum(rate(http_request_duration_seconds_bucket{le="0.3"}[5m]))', True),
        ("histogram_quantile(0.99, sum by (le) (rate(rpc_seconds_bucket[5m])))", True),
        ('api_latency_seconds{quantile="0.99"}', True),
        ('sum(rate(http_request_duration_seconds_count{code=~"5.."}[5m]))', False),
        ('sum(rate(http_requests_total{code=~"5.."}[5m]))', False),
        ("sum(rate(rpc_seconds_bucket[5m]))", False),  # a bucket without le is the whole histogram
    ],
)
def test_is_latency_query(query, latency):
    assert promql.is_latency_query(promql.parse(query)) is latency


@pytest.mark.parametrize(
    "query, windows, names",
    [
        ("sum(rate(a[5m])) / sum(rate(b[1h]))", [5 * M, H], {"a", "b"}),
        ("max_over_time(rate(a[5m])[1d:5m])", [timedelta(days=1), 5 * M], {"a"}),
        ('{__name__="a", job="x"}', [], {"a"}),
    ],
)
def test_collectors(query, windows, names):
    expr = promql.parse(query)
    assert promql.range_windows(expr) == windows
    assert promql.metric_names(expr) == names


def test_label_matchers_and_substitution():
    query = 'sum(rate(http_requests_total{job="api",code=~"5.."}[{{ .window }}]))'
    expr = promql.parse(promql.substitute_window(query))
    assert promql.label_matchers(expr) == [
        ("http_requests_total", "job", "=", "api"),
        ("http_requests_total", "code", "=~", "5.."),
    ]
    assert promql.range_windows(expr) == [5 * M]
    with pytest.raises(promql.PromQLError):
        promql.parse(query)


@pytest.mark.parametrize(
    "text, value",
    [
        ("14.4 * (1 - 0.999)", 14.4 * (1 - 0.999)),
        ("(6*0.001)", 0.006),
        ("-1", -1),
        ("2 ^ 3", 8),
        ("1 / 0", None),
        ("up", None),
        ("scalar(up) * 2", None),
    ],
)
def test_constant_folding(text, value):
    got = promql.constant(promql.parse(text))
    assert got == (pytest.approx(value) if value is not None else None)


def test_helm_templated_rules_are_read_with_placeholders_set_aside(tmp_path):
    alerts, errors, _ = load(case_repo("alerts.defined/helm-templated-prometheusrule", tmp_path))
    assert errors == {}
    (alert,) = alerts
    assert (alert.name, alert.line, alert.templated) == ("OrdersHighErrorRate", 12, True)
    assert alert.labels == {"severity": "__templated__"}
    assert 'job="__templated__"' in alert.expr
