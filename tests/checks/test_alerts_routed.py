"""alerts.routed: paging alerts routed through the repo's or the central Alertmanager config."""

from __future__ import annotations

import base64

import pytest

from tests.checks.cases import NOW, case_repo
from tests.conftest import run_check

RULES = """\
groups:
  - name: checkout
    rules:
      - alert: CheckoutDown
        expr: up{job="checkout"} == 0
        for: 5m
        labels:
          severity: critical
          team: payments
        annotations:
          summary: Checkout is down
      - alert: CheckoutSlow
        expr: histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="checkout"}[5m]))) > 1
        for: 10m
        labels:
          severity: warning
          team: payments
"""
WARNINGS_ONLY = RULES.replace("severity: critical", "severity: warning")
PAGER_LABEL = RULES.replace("severity: critical", "severity: high\n          pager: pagerduty")
BROKEN_RULES = "groups:\n  - name: checkout\n    rules:\n      - alert: X\n        expr: up ==\n"

RECEIVERS = """
receivers:
  - name: slack
    slack_configs:
      - api_url: https://hooks.slack.com/services/T0000/B0000/XXXXXXXX
        channel: "#payments"
  - name: pagerduty
    pagerduty_configs:
      - routing_key: 0123456789abcdef0123456789abcdef
"""
PAGES = (
    """\
route:
  receiver: slack
  routes:
    - matchers: [severity=~"critical|page"]
      receiver: pagerduty
"""
    + RECEIVERS
)
SWALLOWS = (
    """\
route:
  receiver: slack
  routes:
    - matchers: [team="payments"]
      receiver: slack
    - matchers: [severity=~"critical|page"]
      receiver: pagerduty
"""
    + RECEIVERS
)
CONTINUES = SWALLOWS.replace(
    "      receiver: slack\n    - matchers: [sev", "      receiver: slack\n      continue: true\n    - matchers: [sev"
)
ANCHORED = PAGES.replace('severity=~"critical|page"', 'severity=~"crit"')  # must not match "critical"
PROD_ONLY = PAGES.replace('[severity=~"critical|page"]', '[cluster="prod", severity="critical"]')
PAGER_ROUTE = PAGES.replace('[severity=~"critical|page"]', '[pager="pagerduty"]')
BAD_MATCHER = PAGES.replace('severity=~"critical|page"', 'severity=~"critical|page')
BAD_SECRET = (
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: alertmanager-main\nstringData:\n"
    "  alertmanager.yaml: |\n" + "".join(f"    {line}\n" for line in BAD_MATCHER.splitlines())
)


def _secret_b64(config: str) -> str:
    """A Secret as kube-prometheus writes it: the config base64-encoded under data (key on line 8)."""
    return (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: alertmanager-main\n  namespace: monitoring\n"
        "type: Opaque\ndata:\n  alertmanager.yaml: " + base64.b64encode(config.encode()).decode() + "\n"
    )


AMC = """\
apiVersion: monitoring.coreos.com/v1alpha1
kind: AlertmanagerConfig
metadata:
  name: checkout
  namespace: payments
  labels:
    alertmanagerConfig: platform
spec:
  route:
    receiver: payments-slack
    groupBy: [alertname]
    matchers:
      - name: team
        value: payments
    routes:
      - receiver: payments-pagerduty
        matchers:
          - name: severity
            value: critical|page
            regex: true
  receivers:
    - name: payments-slack
      slackConfigs:
        - apiURL: {name: payments-slack, key: url}
          channel: "#payments"
    - name: payments-pagerduty
      pagerdutyConfigs:
        - routingKey: {name: payments-pagerduty, key: routing-key}
"""
# v1beta1, a chat route for the whole team first: it takes the critical alerts too.
AMC_SWALLOWS = (
    AMC.replace("v1alpha1", "v1beta1")
    .replace(
        """    routes:
      - receiver: payments-pagerduty""",
        """    routes:
      - receiver: payments-slack
        matchers:
          - name: service
            matchType: "=~"
            value: checkout|cart
      - receiver: payments-pagerduty""",
    )
    .replace("            regex: true\n", '            matchType: "=~"\n')
)
AMC_OTHER_TEAM = AMC.replace("value: payments", "value: search")
AMC_RECEIVERS_ONLY = AMC[: AMC.index("  route:")] + AMC[AMC.index("  receivers:") :]
TEAM = "          team: payments\n"
RULES_STAGING = RULES.replace(TEAM, TEAM + "          namespace: payments-staging\n", 1)
RULES_WITH_SERVICE = RULES.replace(TEAM, TEAM + "          service: checkout\n", 1)
KUBE_PROMETHEUS_VALUES = "alertmanager:\n  enabled: true\n  config:\n" + "".join(
    f"    {line}\n" for line in PAGES.splitlines()
)

CASES = [
    # id, repo files, central config text, portal routing extras, settings, status, evidence (path, line)
    (
        "routes-to-pagerduty",
        {"monitoring/rules.yaml": RULES, "alertmanager/alertmanager.yml": PAGES},
        None,
        {},
        {},
        "pass",
        [("monitoring/rules.yaml", 4)],
    ),
    (
        "swallowed-by-earlier-route",
        {"monitoring/rules.yaml": RULES, "alertmanager.yml": SWALLOWS},
        None,
        {},
        {},
        "fail",
        [("monitoring/rules.yaml", 4), ("alertmanager.yml", 4)],
    ),
    (
        "earlier-route-continues",
        {"monitoring/rules.yaml": RULES, "alertmanager.yml": CONTINUES},
        None,
        {},
        {},
        "pass",
        [("monitoring/rules.yaml", 4)],
    ),
    (
        "regex-is-anchored",
        {"monitoring/rules.yaml": RULES, "alertmanager.yml": ANCHORED},
        None,
        {},
        {},
        "fail",
        [("monitoring/rules.yaml", 4), ("alertmanager.yml", 2)],
    ),
    (
        "pager-label-counts-as-paging",
        {"rules/checkout.rules.yml": PAGER_LABEL, "alertmanager.yml": PAGER_ROUTE},
        None,
        {},
        {},
        "pass",
        [("rules/checkout.rules.yml", 4)],
    ),
    (
        "pager-label-unrouted",
        {"rules/checkout.rules.yml": PAGER_LABEL, "alertmanager.yml": PAGES},
        None,
        {},
        {},
        "fail",
        [("rules/checkout.rules.yml", 4), ("alertmanager.yml", 2)],
    ),
    (
        "one-of-two-repo-configs-pages",
        {"monitoring/rules.yaml": RULES, "local/alertmanager.yml": SWALLOWS, "deploy/alertmanager.yml": PAGES},
        None,
        {},
        {},
        "pass",
        [("monitoring/rules.yaml", 4), ("deploy/alertmanager.yml", 4)],
    ),
    (
        "kube-prometheus-stack-values",
        {"monitoring/rules.yaml": RULES, "values.yaml": KUBE_PROMETHEUS_VALUES},
        None,
        {},
        {},
        "pass",
        [("monitoring/rules.yaml", 4)],
    ),
    ("central-config", {"monitoring/rules.yaml": RULES}, PAGES, {}, {}, "pass", [("monitoring/rules.yaml", 4)]),
    (
        "central-config-with-extra-labels",
        {"monitoring/rules.yaml": RULES},
        PROD_ONLY,
        {"extra_labels": {"cluster": "prod"}},
        {},
        "pass",
        [("monitoring/rules.yaml", 4)],
    ),
    (
        "central-config-without-the-extra-label",
        {"monitoring/rules.yaml": RULES},
        PROD_ONLY,
        {},
        {},
        "fail",
        [("monitoring/rules.yaml", 4), ("central.yml", 2)],
    ),
    (
        "repo-config-wins-over-central",
        {"monitoring/rules.yaml": RULES, "alertmanager.yml": SWALLOWS},
        PAGES,
        {},
        {},
        "fail",
        [("alertmanager.yml", 4)],
    ),
    (
        "custom-paging-severities",
        {"monitoring/rules.yaml": RULES, "alertmanager.yml": SWALLOWS},
        None,
        {},
        {"paging_severities": ["p1"]},
        "not_applicable",
        [],
    ),
    # paging alerts whose routing cannot be verified: an error, never "not applicable"
    ("no-alertmanager-config", {"monitoring/rules.yaml": RULES}, None, {}, {}, "error", [("monitoring/rules.yaml", 4)]),
    (
        "example-config-is-not-the-services",
        {"monitoring/rules.yaml": RULES, "examples/alertmanager.yml": PAGES},
        None,
        {},
        {},
        "error",
        [],
    ),
    (
        "no-paging-alerts",
        {"monitoring/rules.yaml": WARNINGS_ONLY, "alertmanager.yml": PAGES},
        None,
        {},
        {},
        "not_applicable",
        [],
    ),
    (
        "bad-matcher",
        {"monitoring/rules.yaml": RULES, "alertmanager/config.yaml": BAD_MATCHER},
        None,
        {},
        {},
        "error",
        [("alertmanager/config.yaml", 4)],
    ),
    (
        "bad-yaml",
        {"monitoring/rules.yaml": RULES, "alertmanager.yml": PAGES.replace("  routes:", "   routes:")},
        None,
        {},
        {},
        "error",
        [("alertmanager.yml", 3)],
    ),
    (
        "unrelated-broken-yaml",
        {"monitoring/rules.yaml": RULES, "alertmanager.yml": PAGES, "deploy/values.yaml": "image:\n  tag: [1.2\n"},
        None,
        {},
        {},
        "pass",
        [("monitoring/rules.yaml", 4)],
    ),
    (
        "bad-matcher-in-secret",
        {"monitoring/rules.yaml": RULES, "deploy/alertmanager-secret.yaml": BAD_SECRET},
        None,
        {},
        {},
        "error",
        [("deploy/alertmanager-secret.yaml", 10)],
    ),
    (
        "secret-base64-data",
        {"monitoring/rules.yaml": RULES, "deploy/alertmanager-secret.yaml": _secret_b64(PAGES)},
        None,
        {},
        {},
        "pass",
        [("monitoring/rules.yaml", 4), ("deploy/alertmanager-secret.yaml", 8)],
    ),
    (
        "secret-base64-swallows",
        {"monitoring/rules.yaml": RULES, "deploy/alertmanager-secret.yaml": _secret_b64(SWALLOWS)},
        None,
        {},
        {},
        "fail",
        [("monitoring/rules.yaml", 4), ("deploy/alertmanager-secret.yaml", 8)],
    ),
    (
        "secret-base64-bad-matcher",
        {"monitoring/rules.yaml": RULES, "deploy/alertmanager-secret.yaml": _secret_b64(BAD_MATCHER)},
        None,
        {},
        {},
        "error",
        [("deploy/alertmanager-secret.yaml", 8)],
    ),
    (
        "secret-not-base64",
        {"monitoring/rules.yaml": RULES, "deploy/alertmanager-secret.yaml": _secret_b64(PAGES).replace("cm91", "cm9_")},
        None,
        {},
        {},
        "error",
        [("deploy/alertmanager-secret.yaml", 8)],
    ),
    (
        "alertmanagerconfig-pages",
        {"monitoring/rules.yaml": RULES, "deploy/alertmanagerconfig.yaml": AMC},
        None,
        {},
        {},
        "pass",
        [("monitoring/rules.yaml", 4), ("deploy/alertmanagerconfig.yaml", 16)],
    ),
    (
        "alertmanagerconfig-child-swallows",
        {"monitoring/rules.yaml": RULES_WITH_SERVICE, "deploy/alertmanagerconfig.yaml": AMC_SWALLOWS},
        None,
        {},
        {},
        "fail",
        [("monitoring/rules.yaml", 4), ("deploy/alertmanagerconfig.yaml", 16)],
    ),
    (
        "alertmanagerconfig-child-swallows-only-its-service",
        {"monitoring/rules.yaml": RULES, "deploy/alertmanagerconfig.yaml": AMC_SWALLOWS},
        None,
        {},
        {},
        "pass",
        [("monitoring/rules.yaml", 4)],
    ),
    (
        "alertmanagerconfig-rule-in-another-namespace",
        {"monitoring/rules.yaml": RULES_STAGING, "deploy/alertmanagerconfig.yaml": AMC},
        None,
        {},
        {},
        "fail",
        [("monitoring/rules.yaml", 4), ("deploy/alertmanagerconfig.yaml", 10)],
    ),
    (
        "alertmanagerconfig-merged-into-central",
        {"monitoring/rules.yaml": RULES, "deploy/alertmanagerconfig.yaml": AMC_OTHER_TEAM},
        PAGES,
        {},
        {},
        "pass",
        [("monitoring/rules.yaml", 4), ("central.yml", 4)],
    ),
    (
        "alertmanagerconfig-unmatched-without-central",
        {"monitoring/rules.yaml": RULES, "deploy/alertmanagerconfig.yaml": AMC_OTHER_TEAM},
        None,
        {},
        {},
        "fail",
        [("monitoring/rules.yaml", 4), ("deploy/alertmanagerconfig.yaml", 10)],
    ),
    (
        "alertmanagerconfig-beside-a-repo-config",
        {
            "monitoring/rules.yaml": RULES,
            "alertmanager.yml": SWALLOWS,
            "deploy/alertmanagerconfig.yaml": AMC_OTHER_TEAM,
        },
        PAGES,
        {},
        {},
        "fail",
        [("alertmanager.yml", 4), ("deploy/alertmanagerconfig.yaml", 10)],
    ),
    (
        "alertmanagerconfig-receivers-only",
        {"monitoring/rules.yaml": RULES, "deploy/alertmanagerconfig.yaml": AMC_RECEIVERS_ONLY},
        None,
        {},
        {},
        "error",
        [],
    ),
    (
        "alertmanagerconfig-string-matchers",
        {
            "monitoring/rules.yaml": RULES,
            "deploy/alertmanagerconfig.yaml": AMC.replace(
                "      - name: team\n        value: payments", '      - team="payments"'
            ),
        },
        None,
        {},
        {},
        "error",
        [("deploy/alertmanagerconfig.yaml", 13)],
    ),
    (
        "alertmanagerconfig-broken-yaml",
        {"monitoring/rules.yaml": RULES, "deploy/alertmanagerconfig.yaml": AMC.replace("    routes:", "   routes:")},
        None,
        {},
        {},
        "error",
        [("deploy/alertmanagerconfig.yaml", 15)],
    ),
    ("bad-central-config", {"monitoring/rules.yaml": RULES}, BAD_MATCHER, {}, {}, "error", [("central.yml", 4)]),
    ("missing-central-config", {"monitoring/rules.yaml": RULES}, "<missing>", {}, {}, "error", [("central.yml", None)]),
    (
        "unreadable-rules-and-nothing-failing",
        {"monitoring/rules.yaml": RULES, "monitoring/broken.rules.yaml": BROKEN_RULES, "alertmanager.yml": PAGES},
        None,
        {},
        {},
        "error",
        [("monitoring/broken.rules.yaml", 4)],
    ),
    (
        "unreadable-rules-but-one-fails",
        {"monitoring/rules.yaml": RULES, "monitoring/broken.rules.yaml": BROKEN_RULES, "alertmanager.yml": SWALLOWS},
        None,
        {},
        {},
        "fail",
        [("monitoring/rules.yaml", 4)],
    ),
]


def _evidence(result):
    return {(e.path.rsplit("/", 1)[-1] if e.path.startswith("/") else e.path, e.line) for e in result.evidence}


@pytest.mark.parametrize("case,files,central,routing,settings,status,evidence", CASES, ids=[c[0] for c in CASES])
def test_alerts_routed(case, files, central, routing, settings, status, evidence, make_repo, tmp_path):
    config = {}
    if central is not None:
        path = tmp_path / "central.yml"
        if central != "<missing>":
            path.write_text(central)
        config = {"routing": {"alertmanager_config": str(path), **routing}}
    result = run_check("alerts.routed", make_repo(files), config=config, settings=settings, now=NOW)
    assert result.status.value == status, result.summary
    assert set(evidence) <= _evidence(result), result.evidence


def test_unverifiable_routing_names_both_fixes(make_repo, registry):
    result = run_check("alerts.routed", make_repo({"monitoring/rules.yaml": RULES}), now=NOW)
    assert result.status.value == "error"
    assert result.summary.startswith("cannot verify routing: the repo has 1 paging alert(s) but no Alertmanager config")
    remediation = registry.get("alerts.routed").remediation
    assert "keep it in the repo" in remediation and "`routing.alertmanager_config` in the portal config" in remediation


def test_failure_names_the_receiver_and_the_route_that_swallowed_the_alert(make_repo):
    result = run_check(
        "alerts.routed", make_repo({"monitoring/rules.yaml": RULES, "alertmanager.yml": SWALLOWS}), now=NOW
    )
    assert result.summary == "1 of 1 paging alert(s) reach no paging receiver: CheckoutDown"
    rule, route = result.evidence
    assert (rule.path, rule.line) == ("monitoring/rules.yaml", 4)
    assert rule.value == 'CheckoutDown {alertname="CheckoutDown", severity="critical", team="payments"}'
    assert (route.path, route.line) == ("alertmanager.yml", 4)
    assert route.value == ('CheckoutDown is routed by route.routes[0] (team="payments") to slack, which does not page')


def test_pass_names_the_paging_receiver(make_repo):
    result = run_check(
        "alerts.routed", make_repo({"monitoring/rules.yaml": RULES, "alertmanager.yml": CONTINUES}), now=NOW
    )
    assert [(e.path, e.line, e.value) for e in result.evidence] == [
        (
            "monitoring/rules.yaml",
            4,
            "CheckoutDown → pagerduty (pagerduty_configs) via route.routes[1] at alertmanager.yml:7",
        ),
        ("alertmanager.yml", 7, "route.routes[1] → pagerduty"),
    ]
    assert result.details["alertmanager_configs"] == ["alertmanager.yml"]


def test_kube_prometheus_repo_with_a_secret_and_a_prometheusrule(tmp_path):
    result = run_check("alerts.routed", case_repo("alerts.routed/kube-prometheus", tmp_path), now=NOW)
    assert result.status.value == "pass", result.summary
    assert result.summary == "all 2 paging alert(s) reach a paging receiver"
    assert [(e.path, e.line) for e in result.evidence] == [
        ("deploy/monitoring/prometheusrule.yaml", 12),
        ("deploy/monitoring/prometheusrule.yaml", 21),
        ("deploy/monitoring/alertmanager-secret.yaml", 17),
    ]  # the route, in the Secret's embedded config
    assert result.evidence[2].value == "route.routes[1] → payments-pagerduty"
    assert "alertmanager-secret.yaml:17" in result.evidence[0].value


def test_sloth_page_alert_swallowed_by_a_service_route(tmp_path):
    result = run_check("alerts.routed", case_repo("alerts.routed/sloth-swallowed", tmp_path), now=NOW)
    assert result.status.value == "fail", result.summary
    assert result.summary == "1 of 1 paging alert(s) reach no paging receiver: CheckoutHighErrorRate"
    assert [(e.path, e.line) for e in result.evidence] == [
        ("slos/checkout.yaml", 14),
        ("alertmanager/alertmanager.yml", 9),
    ]
    assert "slack-checkout" in result.evidence[1].value
    assert result.details["alertmanager_configs"] == ["alertmanager/alertmanager.yml"]  # not examples/


def test_alertmanagerconfig_pass_says_its_namespace_matcher_was_taken_to_hold(make_repo):
    result = run_check("alerts.routed", make_repo({"monitoring/rules.yaml": RULES, "deploy/amc.yaml": AMC}), now=NOW)
    assert result.summary == (
        "all 1 paging alert(s) reach a paging receiver (through AlertmanagerConfig routes "
        "whose namespace matcher is taken to hold: the alerts must carry namespace=payments "
        "from their series)"
    )
    assert [(e.path, e.line, e.value) for e in result.evidence] == [
        (
            "monitoring/rules.yaml",
            4,
            "CheckoutDown → payments/checkout/payments-pagerduty (pagerdutyConfigs) via "
            "spec.route.routes[0] at deploy/amc.yaml:16",
        ),
        ("deploy/amc.yaml", 16, "spec.route.routes[0] → payments/checkout/payments-pagerduty"),
    ]


def test_alertmanagerconfig_failure_names_the_top_route_that_did_not_match(make_repo):
    result = run_check(
        "alerts.routed", make_repo({"monitoring/rules.yaml": RULES_STAGING, "deploy/amc.yaml": AMC}), now=NOW
    )
    assert result.summary == "1 of 1 paging alert(s) reach no paging receiver: CheckoutDown"
    assert result.evidence[1].value == (
        "CheckoutDown is not matched by AlertmanagerConfig payments/checkout's "
        'spec.route (team="payments", namespace="payments")'
    )


def test_base64_secret_evidence_says_where_in_the_decoded_config(make_repo):
    result = run_check(
        "alerts.routed",
        make_repo({"monitoring/rules.yaml": RULES, "deploy/alertmanager-secret.yaml": _secret_b64(PAGES)}),
        now=NOW,
    )
    assert result.evidence[0].value == (
        "CheckoutDown → pagerduty (pagerduty_configs) via route.routes[0] (line 4 of the base64-decoded "
        "data.alertmanager.yaml) at deploy/alertmanager-secret.yaml:8"
    )
    broken = run_check(
        "alerts.routed",
        make_repo({"monitoring/rules.yaml": RULES, "deploy/alertmanager-secret.yaml": _secret_b64(BAD_MATCHER)}),
        now=NOW,
    )
    assert broken.evidence[0].value.endswith("(line 4 of the base64-decoded data.alertmanager.yaml)")
