"""Alert rules where teams keep them: rule files in a ConfigMap, vmalert rule files and VMRules
(MetricsQL), and composite burn-rate alerts over several SLIs, paired with the SLOs they cover."""

from __future__ import annotations

import pytest

from tests.checks.cases import NOW
from tests.conftest import run_check

CONFIGMAP = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: prometheus-rules
  namespace: monitoring
data:
  payments.rules.yaml: |
    groups:
      - name: payments
        rules:
          - alert: PaymentsDown
            expr: up{job="payments"} == 0
            for: 5m
            labels:
              severity: page
          - alert: PaymentsQueueBacklog
            expr: rabbitmq_queue_messages{queue="payments"} > 1000
            for: 15m
  prometheus.yml: |
    global:
      scrape_interval: 30s
"""
CONFIGMAP_BROKEN = CONFIGMAP.replace("            for: 5m\n", "            for: 5m\n           labels: [\n", 1)
VMALERT = """\
groups:
  - name: payments
    type: prometheus
    concurrency: 2
    labels:
      team: payments
    rules:
      - alert: PaymentsHighLatency
        expr: histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket{job="payments"}[5m])) by (vmrange)) > 0.5 default 0
        for: 10m
        labels:
          severity: page
        annotations:
          runbook_url: https://runbooks.example.com/payments#latency
      - alert: PaymentsErrors
        expr: with (errors = sum(rate(http_requests_total{job="payments",code=~"5.."}[5m]))) errors > 1
        labels:
          severity: ticket
"""
VMRULE = """\
apiVersion: operator.victoriametrics.com/v1beta1
kind: VMRule
metadata:
  name: payments
spec:
  groups:
    - name: payments
      rules:
        - alert: PaymentsDown
          expr: up{job="payments"} == 0 default 1
          labels:
            severity: critical
"""
PLAIN_BAD_METRICSQL = """\
groups:
  - name: payments
    rules:
      - alert: PaymentsDown
        expr: up{job="payments"} == 0 default 1
        labels:
          severity: critical
"""


def openslo(name: str, target: float, good: str, total: str) -> str:
    return f"""\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: {name}
spec:
  service: checkout
  budgetingMethod: Occurrences
  timeWindow: [{{duration: 30d, isRolling: true}}]
  objectives:
    - target: {target}
  indicator:
    metadata: {{name: {name}-sli}}
    spec:
      ratioMetric:
        good: {{metricSource: {{type: Prometheus, spec: {{query: '{good}'}}}}}}
        total: {{metricSource: {{type: Prometheus, spec: {{query: '{total}'}}}}}}
"""


SLOS = (
    openslo(
        "checkout-availability",
        0.999,
        'sum(rate(http_requests_total{job="checkout",code!~"5.."}[5m]))',
        'sum(rate(http_requests_total{job="checkout"}[5m]))',
    )
    + "---\n"
    + openslo(
        "checkout-latency",
        0.99,
        'sum(rate(http_request_duration_seconds_bucket{job="checkout",le="0.3"}[5m]))',
        'sum(rate(http_request_duration_seconds_count{job="checkout"}[5m]))',
    )
)


def ratio(window: str, errors: bool) -> str:
    if errors:
        return (
            f'(1 - sum(rate(http_requests_total{{job="checkout",code!~"5.."}}[{window}])) '
            f'/ sum(rate(http_requests_total{{job="checkout"}}[{window}])))'
        )
    return (
        f'(1 - sum(rate(http_request_duration_seconds_bucket{{job="checkout",le="0.3"}}[{window}])) '
        f'/ sum(rate(http_request_duration_seconds_count{{job="checkout"}}[{window}])))'
    )


COMPOSITE = f"""\
groups:
  - name: checkout-slo
    rules:
      - alert: CheckoutErrorBudgetBurn
        expr: |
          (
            {ratio("1h", True)} > (14.4 * 0.001)
            and
            {ratio("5m", True)} > (14.4 * 0.001)
          )
          or
          (
            {ratio("1h", False)} > (14.4 * 0.01)
            and
            {ratio("5m", False)} > (14.4 * 0.01)
          )
        labels:
          severity: critical
"""
# kube-prometheus's KubeAPIErrorBudgetBurn: one recorded burn rate combines the read and write SLIs.
APISERVER_SLO = openslo(
    "apiserver-read-availability",
    0.99,
    'sum(rate(apiserver_request_total{verb="LIST",code!~"5.."}[5m]))',
    'sum(rate(apiserver_request_total{verb="LIST"}[5m]))',
)
APISERVER_RULES = """\
groups:
  - name: kube-apiserver-burnrate.rules
    rules:
      - record: apiserver_request:burnrate1h
        expr: |
          (1 - sum(rate(apiserver_request_total{verb="LIST",code!~"5.."}[1h])) / sum(rate(apiserver_request_total{verb="LIST"}[1h])))
          or
          (1 - sum(rate(apiserver_request_total{verb="POST",code!~"5.."}[1h])) / sum(rate(apiserver_request_total{verb="POST"}[1h])))
      - record: apiserver_request:burnrate5m
        expr: |
          (1 - sum(rate(apiserver_request_total{verb="LIST",code!~"5.."}[5m])) / sum(rate(apiserver_request_total{verb="LIST"}[5m])))
          or
          (1 - sum(rate(apiserver_request_total{verb="POST",code!~"5.."}[5m])) / sum(rate(apiserver_request_total{verb="POST"}[5m])))
  - name: kube-apiserver-slos
    rules:
      - alert: KubeAPIErrorBudgetBurn
        expr: |
          sum(apiserver_request:burnrate1h) > (14.40 * 0.01000)
          and on(cluster)
          sum(apiserver_request:burnrate5m) > (14.40 * 0.01000)
        for: 2m
        labels:
          long: 1h
          severity: critical
          short: 5m
"""

CASES = [
    # (name, files, check, status, summary fragment only that reason produces, evidence (path, line))
    (
        "rules in a ConfigMap",
        {"deploy/monitoring/prometheus-rules.yaml": CONFIGMAP},
        "alerts.defined",
        "fail",
        "1 of 2 alert(s) have no severity label: PaymentsQueueBacklog",
        ("deploy/monitoring/prometheus-rules.yaml", 16),
    ),
    (
        "a ConfigMap rule file that is not YAML",
        {"deploy/monitoring/prometheus-rules.yaml": CONFIGMAP_BROKEN},
        "alerts.defined",
        "error",
        "could not read 1 alert rule file(s): deploy/monitoring/prometheus-rules.yaml:",
        ("deploy/monitoring/prometheus-rules.yaml", 14),
    ),
    (
        "vmalert rules with MetricsQL",
        {"vmalert/payments.rules.yml": VMALERT},
        "alerts.defined",
        "pass",
        "2 alert(s) in 1 file(s), each with a severity",
        ("vmalert/payments.rules.yml", 8),
    ),
    (
        "vmalert paging alert links its runbook",
        {"vmalert/payments.rules.yml": VMALERT},
        "runbook.alerts-linked",
        "pass",
        "the paging alert links a runbook that resolves",
        ("vmalert/payments.rules.yml", 8),
    ),
    (
        "VMRule resource",
        {"deploy/vmrule.yaml": VMRULE},
        "alerts.defined",
        "pass",
        "1 alert(s) in 1 file(s)",
        ("deploy/vmrule.yaml", 9),
    ),
    (
        "MetricsQL in a Prometheus rule file",
        {"monitoring/rules.yml": PLAIN_BAD_METRICSQL},
        "alerts.defined",
        "error",
        "PaymentsDown: expr is not valid PromQL",
        ("monitoring/rules.yml", 4),
    ),
    (
        "one alert ORs the burn rates of two SLIs",
        {"slos/checkout.yaml": SLOS, "monitoring/slo-alerts.yaml": COMPOSITE},
        "alerts.burn-rate",
        "pass",
        "'checkout-availability' by alert CheckoutErrorBudgetBurn (one of the 2 SLIs it ORs): 1h/5m at 14.4×; "
        "'checkout-latency' by alert CheckoutErrorBudgetBurn (one of the 2 SLIs it ORs): 1h/5m at 14.4×",
        ("monitoring/slo-alerts.yaml", 4),
    ),
    (
        "a composite alert whose latency branch burns too slowly",
        {"slos/checkout.yaml": SLOS, "monitoring/slo-alerts.yaml": COMPOSITE.replace("(14.4 * 0.01)", "(2 * 0.01)")},
        "alerts.burn-rate",
        "fail",
        "1 of 2 SLO(s) lack a fast-burn page alert",
        ("monitoring/slo-alerts.yaml", 4),
    ),
    (
        "KubeAPIErrorBudgetBurn over a recorded multi-SLI burn rate",
        {"slos/apiserver.yaml": APISERVER_SLO, "monitoring/apiserver.rules.yaml": APISERVER_RULES},
        "alerts.burn-rate",
        "pass",
        "'apiserver-read-availability' by alert KubeAPIErrorBudgetBurn",
        ("monitoring/apiserver.rules.yaml", 16),
    ),
]


@pytest.mark.parametrize("name, files, check, status, summary, where", CASES, ids=[c[0] for c in CASES])
def test_alert_rule_sources(make_repo, name, files, check, status, summary, where) -> None:
    result = run_check(check, make_repo(files), now=NOW)
    assert (result.status.value, summary in result.summary) == (status, True), result.summary
    assert where in [(e.path, e.line) for e in result.evidence], result.evidence


def test_vmalert_group_labels_reach_the_rules(make_repo) -> None:
    from prr.checks.formats.promrules import load_alert_rules
    from prr.repo import open_snapshot

    repo = make_repo({"vmalert/payments.rules.yml": VMALERT})
    alerts, errors = load_alert_rules(open_snapshot(str(repo.path)))
    assert errors == {}
    assert [(a.name, a.labels, a.parsed is None) for a in alerts] == [
        ("PaymentsHighLatency", {"team": "payments", "severity": "page"}, True),
        ("PaymentsErrors", {"team": "payments", "severity": "ticket"}, True),
    ]
