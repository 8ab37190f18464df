"""Alert rules and Alertmanager configs kept as templates (Terraform, Helm, Jinja, gotmpl) are
read once their placeholders are set aside; those that still are not YAML, and jsonnet, are
errors naming the file and why, never a silent pass or not_applicable."""

from __future__ import annotations

import pytest

from tests.checks.cases import NOW
from tests.conftest import run_check

TERRAFORM_RULES = """\
groups:
  - name: ${service}
    rules:
      - alert: ${title(service)}Down
        expr: up{job="${service}", env="${environment}"} == 0
        for: 5m
        labels:
          severity: page
          team: ${team}
%{ if environment == "production" ~}
      - alert: ${title(service)}HighErrorRate
        expr: sum(rate(http_requests_total{job="${service}",code=~"5.."}[5m])) / sum(rate(http_requests_total{job="${service}"}[5m])) > ${error_ratio}
        for: 10m
        labels:
          severity: page
%{ endif ~}
"""
JINJA_ALERTMANAGER = """\
# Rendered by the monitoring Ansible role.
route:
  receiver: slack-default
  group_wait: {{ alertmanager_group_wait | default('30s') }}
  routes:
{% if alertmanager_watchdog_enabled %}
    - matchers: ['alertname="Watchdog"']
      receiver: slack-default
{% endif %}
    - matchers: ['severity=~"page|critical"']
      receiver: pagerduty-sre
receivers:
  - name: slack-default
    slack_configs:
      - api_url: "{{ vault_slack_webhook }}"
        channel: "#alerts"
  - name: pagerduty-sre
    pagerduty_configs:
      - routing_key: "{{ vault_pagerduty_sre_key }}"
"""
GOTMPL_BROKEN = """\
groups:
  - name: payments
    rules:
{{ range .Values.alerts }}
    - alert: {{ .name }}
       expr: {{ .expr }}
{{ end }}
"""
JSONNET = """\
{
  prometheusAlerts+:: {
    groups+: [{
      name: 'payments',
      rules: [{
        alert: 'PaymentsDown',
        expr: 'up{job="payments"} == 0',
        labels: { severity: 'page' },
      }],
    }],
  },
}
"""
PAGING_RULES = "groups:\n  - name: payments\n    rules:\n      - alert: PaymentsDown\n        expr: up == 0\n        labels: {severity: page}\n"

CASES = [
    # (name, files, check, status, summary fragment, evidence (path, line))
    (
        "terraform templatefile rules",
        {"monitoring/rules.yml.tpl": TERRAFORM_RULES},
        "alerts.defined",
        "pass",
        "2 alert(s) in 1 file(s), each with a severity",
        ("monitoring/rules.yml.tpl", 4),
    ),
    (
        "helm-templated PrometheusRule",
        {
            "charts/payments/Chart.yaml": "apiVersion: v2\nname: payments\nversion: 0.1.0\n",
            "charts/payments/templates/prometheusrule.yaml": "{{- if .Values.alerts.enabled }}\n"
            "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n"
            '  name: {{ include "payments.fullname" . }}\n  labels:\n    {{- include "payments.labels" . | nindent 4 }}\n'
            "spec:\n  groups:\n    - name: payments\n      rules:\n        - alert: PaymentsDown\n"
            '          expr: up{job="{{ .Release.Name }}"} == 0\n          labels:\n            severity: page\n{{- end }}\n',
        },
        "alerts.defined",
        "pass",
        "1 alert(s) in 1 file(s)",
        ("charts/payments/templates/prometheusrule.yaml", 12),
    ),
    (
        "jinja alertmanager config routes the pages",
        {"monitoring/rules.yaml": PAGING_RULES, "ansible/templates/alertmanager.yml.j2": JINJA_ALERTMANAGER},
        "alerts.routed",
        "pass",
        "all 1 paging alert(s) reach a paging receiver",
        ("ansible/templates/alertmanager.yml.j2", 10),
    ),
    (
        "jinja loop naming receivers: routing cannot be known",
        {
            "monitoring/rules.yaml": PAGING_RULES,
            "ansible/templates/alertmanager.yml.j2": JINJA_ALERTMANAGER.replace(
                "      receiver: slack-default\n{% endif %}",
                "      receiver: slack-default\n{% endif %}\n{% for team in alert_teams %}\n"
                "    - matchers: ['team=\"{{ team.name }}\"']\n      receiver: pagerduty-{{ team.name }}\n{% endfor %}",
            ),
        },
        "alerts.routed",
        "error",
        'alertmanager.yml.j2:12: undefined receiver "pagerduty-__templated__" used in route',
        ("ansible/templates/alertmanager.yml.j2", 12),
    ),
    (
        "gotmpl that is not YAML without its placeholders",
        {"deploy/rules.yaml.gotmpl": GOTMPL_BROKEN},
        "alerts.defined",
        "error",
        "deploy/rules.yaml.gotmpl:6: a templated file that is not YAML once its placeholders are set aside",
        ("deploy/rules.yaml.gotmpl", 6),
    ),
    (
        "jsonnet rules",
        {"monitoring/alerts.libsonnet": JSONNET},
        "alerts.defined",
        "error",
        "monitoring/alerts.libsonnet: jsonnet is not rendered here",
        ("monitoring/alerts.libsonnet", None),
    ),
    (
        "jsonnet rules beside plain ones",
        {"monitoring/alerts.libsonnet": JSONNET, "monitoring/rules.yaml": PAGING_RULES},
        "alerts.routed",
        "error",
        "cannot verify routing",
        ("monitoring/rules.yaml", 4),
    ),
]


@pytest.mark.parametrize("name, files, check, status, summary, where", CASES, ids=[c[0] for c in CASES])
def test_templated_files(make_repo, name, files, check, status, summary, where) -> None:
    result = run_check(check, make_repo(files), now=NOW)
    assert (result.status.value, summary in result.summary) == (status, True), result.summary
    assert where in [(e.path, e.line) for e in result.evidence], result.evidence


def test_evidence_says_the_values_were_templated(make_repo) -> None:
    result = run_check("alerts.defined", make_repo({"monitoring/rules.yml.tpl": TERRAFORM_RULES}), now=NOW)
    assert result.evidence[
        0
    ].value == "${title(service)}Down (templated file: its placeholders were set aside)".replace(
        "${title(service)}", "__templated__"
    )
