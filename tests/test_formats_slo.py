"""SLO specs: OpenSLO v1/v1alpha, Sloth (file and CRD) and Pyrra, read into one model."""

from __future__ import annotations

from datetime import timedelta

import pytest

from prr.checks.formats.slo import SLO, load_slos, normalise_objective, parse_window
from prr.repo import open_snapshot
from tests.checks.cases import case_repo

DAYS = timedelta(days=1)


def slos_of(repo) -> tuple[list[SLO], dict]:
    return load_slos(open_snapshot(str(repo.path)))


def only_slo(make_repo, files: dict[str, str]) -> SLO:
    slos, errors = slos_of(make_repo(files))
    assert not errors, errors
    assert len(slos) == 1, slos
    return slos[0]


# -- fixture repos: what each SLO reads as ---------------------------------------------------------
# (name, format, path, line, objective, window, kind, alerting_enabled, problem substring or None)
FIXTURE_SLOS = {
    "slo.defined/sloth-availability-latency": [
        ("requests-availability", "sloth", "slos/checkout.yaml", 8, 0.999, 30 * DAYS, "availability", True, None),
        ("requests-latency", "sloth", "slos/checkout.yaml", 31, 0.99, 30 * DAYS, "latency", True, None),
    ],
    "slo.defined/sloth-crd-availability-only": [
        (
            "queries-availability",
            "sloth-crd",
            "deploy/k8s/monitoring.yaml",
            24,
            0.995,
            30 * DAYS,
            "availability",
            True,
            None,
        ),
    ],
    "alerts.burn-rate/openslo-written-out-mwmbr": [
        ("cart-availability", "openslo/v1", "openslo/cart.yaml", 34, 0.999, 28 * DAYS, "availability", False, None),
        ("cart-latency", "openslo/v1", "openslo/cart.yaml", 65, 0.99, 28 * DAYS, "latency", False, None),
    ],
    "slo.defined/openslo-v1alpha-no-alerts": [
        (
            "notifications-delivery",
            "openslo/v1alpha",
            "slo/notifications.yml",
            15,
            0.99,
            28 * DAYS,
            "availability",
            False,
            None,
        ),
    ],
    "slo.defined/pyrra-latency-alerting-disabled": [
        ("inventory-api-errors", "pyrra", "deploy/slo/inventory.yaml", 1, 0.995, 28 * DAYS, "availability", True, None),
        ("inventory-api-latency", "pyrra", "deploy/slo/inventory.yaml", 21, 0.99, 28 * DAYS, "latency", False, None),
    ],
    "slo.defined/sloth-objective-100-percent": [
        (
            "writes-availability",
            "sloth",
            "slos/ledger.yaml",
            4,
            None,
            30 * DAYS,
            "availability",
            False,
            "leaves no error budget",
        ),
    ],
    "slo.defined/openslo-missing-window": [
        (
            "profile-availability",
            "openslo/v1",
            "openslo/profile.yaml",
            25,
            0.995,
            None,
            "availability",
            False,
            "no time window",
        ),
    ],
    "slo.defined/sloth-bad-promql": [
        (
            "logins-availability",
            "sloth",
            "slos/auth.yaml",
            4,
            0.9995,
            30 * DAYS,
            "availability",
            False,
            "error_query is not valid PromQL",
        ),
    ],
    "slo.defined/only-in-examples": [],
}


@pytest.mark.parametrize("name", sorted(FIXTURE_SLOS))
def test_fixture_repos_read_as_expected(name, tmp_path):
    slos, errors = slos_of(case_repo(name, tmp_path))
    assert errors == {}
    got = [(s.name, s.source_format, s.path, s.line, s.objective, s.window, s.kind, s.alerting_enabled) for s in slos]
    assert got == [row[:8] for row in FIXTURE_SLOS[name]]
    for slo, row in zip(slos, FIXTURE_SLOS[name]):
        if row[8] is None:
            assert slo.valid, slo.problems
        else:
            assert any(row[8] in p for p in slo.problems), slo.problems


def test_broken_spec_is_an_error_beside_the_readable_ones(tmp_path):
    slos, errors = slos_of(case_repo("slo.defined/broken-yaml-beside-valid", tmp_path))
    assert [s.name for s in slos] == ["billing-api-errors"]
    assert list(errors) == ["slos/billing.yaml"]
    assert errors["slos/billing.yaml"].line == 9


# -- values ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, percent, ratio, problem",
    [
        (99.9, True, 0.999, None),
        ("99.95", True, 0.9995, None),
        ("99.9%", True, 0.999, None),
        (0.999, True, 0.999, None),  # a ratio written in a percent field
        (1, True, 0.01, None),
        (0.995, False, 0.995, None),
        (99.5, False, 0.995, None),  # a percent written in a ratio field
        (100, True, None, "100%"),
        (1, False, None, "100%"),
        (1.0, False, None, "100%"),
        (0, True, None, "not above 0"),
        (-5, False, None, "not above 0"),
        ("high", True, None, "not a number"),
        (None, True, None, "no objective"),
        (True, True, None, "not a number"),
    ],
)
def test_objectives_normalise_to_a_ratio(value, percent, ratio, problem):
    got, why = normalise_objective(value, percent)
    assert got == ratio
    assert (why is None) if problem is None else (problem in why)


@pytest.mark.parametrize(
    "text, window",
    [
        ("30d", 30 * DAYS),
        ("4w", 28 * DAYS),
        ("28d", 28 * DAYS),
        ("1M", 30 * DAYS),
        ("1Q", 91 * DAYS),
        ("1y", 365 * DAYS),
        ("12h", timedelta(hours=12)),
        ("1d12h", timedelta(hours=36)),
        ("", None),
        ("month", None),
        ("30", None),
        (30, None),
        ("0d", None),
        (None, None),
    ],
)
def test_windows(text, window):
    assert parse_window(text) == window


# -- format variants, inline -----------------------------------------------------------------------
SLOTH_FILE = """\
version: "prometheus/v1"
service: "{service}"
slos:
  - name: "requests"
    objective: 99.9
    sli:
{sli}
{alerting}
"""
EVENTS = """\
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))"""


def sloth(sli: str = EVENTS, alerting: str = "", service: str = "api") -> str:
    return SLOTH_FILE.format(service=service, sli=sli, alerting=alerting)


OPENSLO_THRESHOLD = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: search-p99
spec:
  service: search
  indicator:
    metadata:
      name: search-p99-latency
    spec:
      thresholdMetric:
        metricSource:
          type: Prometheus
          spec:
            query: histogram_quantile(0.99, sum by (le) (rate(search_request_duration_seconds_bucket[5m])))
  timeWindow:
    - duration: 1M
      isRolling: false
      calendar:
        startTime: "2024-01-01 00:00:00"
        timeZone: UTC
  budgetingMethod: Timeslices
  objectives:
    - displayName: p99 under 400ms
      op: lte
      value: 0.4
      target: 0.99
      timeSliceTarget: 0.95
      timeSliceWindow: 5m
"""
OPENSLO_DATADOG = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: web-latency
spec:
  service: web
  indicator:
    metadata:
      name: web-latency
    spec:
      thresholdMetric:
        metricSource:
          type: Datadog
          spec:
            query: avg:trace.http.request.duration{service:web}
  timeWindow:
    - duration: 7d
      isRolling: true
  budgetingMethod: Timeslices
  objectives:
    - op: lte
      value: 0.3
      targetPercent: 99.5
"""
OPENSLO_MISSING_REF = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: api
spec:
  service: api
  indicatorRef: api-good-requests
  timeWindow:
    - duration: 28d
      isRolling: true
  objectives:
    - target: 0.99
"""
PYRRA = """\
apiVersion: pyrra.dev/v1alpha1
kind: ServiceLevelObjective
metadata:
  name: {name}
  labels:
    pyrra.dev/team: platform
spec:
  target: "{target}"
  window: {window}
  indicator:
{indicator}
"""
BOOL_GAUGE = """\
    bool_gauge:
      metric: probe_success{job="blackbox",instance="https://shop.example.com"}"""
LATENCY_NATIVE = """\
    latencyNative:
      latency: "0.5"
      total:
        metric: http_request_duration_seconds{job="api"}"""
RATIO = """\
    ratio:
      errors:
        metric: http_requests_total{job="api",code=~"5.."}
      total:
        metric: http_requests_total{job="api"}"""


def pyrra(indicator: str = RATIO, target: str = "99.9", window: str = "28d", name: str = "api", extra: str = "") -> str:
    return PYRRA.format(name=name, target=target, window=window, indicator=indicator) + extra


@pytest.mark.parametrize(
    "files, expected",
    [
        ({"slos/api.yaml": sloth()}, {"kind": "availability", "source_format": "sloth", "objective": 0.999}),
        (
            {"slos/api.yaml": sloth(sli="      raw:\n        error_ratio_query: slo:api_errors:ratio_rate{{.window}}")},
            {"kind": "availability", "queries": {"error_ratio_query": "slo:api_errors:ratio_rate{{.window}}"}},
        ),
        (
            {
                "k8s/slo.yaml": "apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevel\nmetadata:\n  name: api\n"
                "spec:\n"
                + "\n".join(
                    "  " + l
                    for l in sloth(
                        sli="      raw:\n        errorRatioQuery: 1 - avg_over_time(probe_success[{{.window}}])"
                    ).splitlines()[1:]
                )
            },
            {"kind": "availability", "source_format": "sloth-crd"},
        ),
        (
            {"openslo/search.yaml": OPENSLO_THRESHOLD},
            {"kind": "latency", "window": 30 * DAYS, "objective": 0.99, "source_format": "openslo/v1"},
        ),
        ({"openslo/web.yaml": OPENSLO_DATADOG}, {"kind": "latency", "window": 7 * DAYS, "objective": 0.995}),
        ({"slo/probe.yaml": pyrra(BOOL_GAUGE)}, {"kind": "availability", "labels": {"team": "platform"}}),
        ({"slo/api.yaml": pyrra(LATENCY_NATIVE)}, {"kind": "latency"}),
        ({"slo/api.yaml": pyrra(target="0.999", window="2w")}, {"objective": 0.999, "window": 14 * DAYS}),
    ],
)
def test_variants(make_repo, files, expected):
    slo = only_slo(make_repo, files)
    assert slo.valid, slo.problems
    for attribute, value in expected.items():
        assert getattr(slo, attribute) == value


@pytest.mark.parametrize(
    "files, problem",
    [
        ({"slos/api.yaml": sloth(sli=EVENTS.replace("[{{.window}}]", "[5m]"))}, "no {{.window}} placeholder"),
        ({"slos/api.yaml": sloth(sli="      events: {}")}, "query is missing"),
        ({"slos/api.yaml": sloth(sli="      {}")}, "no SLI"),
        ({"slos/api.yaml": sloth(service="")}, "no `service`"),
        ({"openslo/api.yaml": OPENSLO_MISSING_REF}, "names no SLI in the repo"),
        ({"openslo/api.yaml": OPENSLO_MISSING_REF.replace("  objectives:\n    - target: 0.99\n", "")}, "no objectives"),
        ({"slo/api.yaml": pyrra(window="a month")}, "is not a duration"),
        ({"slo/api.yaml": pyrra(target="100")}, "100%"),
        ({"slo/api.yaml": pyrra(indicator="    {}")}, "no indicator"),
        ({"slo/api.yaml": pyrra(indicator=RATIO.replace('{job="api"}', '{job="api"'))}, "total is not valid PromQL"),
    ],
)
def test_problems(make_repo, files, problem):
    slo = only_slo(make_repo, files)
    assert any(problem in p for p in slo.problems), slo.problems


METRICSQL_EVENTS = """\
      events:
        error_query: 1 - histogram_share(0.3, sum(rate(http_request_duration_seconds_bucket{job="api"}[{{.window}}])) by (vmrange))
        total_query: sum(rate(http_request_duration_seconds_count{job="api"}[{{.window}}]))"""
VM_CHAIN = """\
  chain:
    - id: sloth.dev/contrib/validate_victoria_metrics/v1
    - id: sloth.dev/core/sli_rules/v1
    - id: sloth.dev/core/alert_rules/v1"""


@pytest.mark.parametrize(
    "text, valid",
    [
        # Sloth's VictoriaMetrics validation plugin: the queries are MetricsQL, not held to PromQL
        (
            sloth(sli=METRICSQL_EVENTS, alerting="    alerting:\n      name: ApiSlow").replace(
                "slos:\n", "slo_plugins:\n  overridePrevious: true\n" + VM_CHAIN + "\nslos:\n"
            ),
            True,
        ),
        (
            sloth(sli=METRICSQL_EVENTS).replace(
                "objective: 99.9\n",
                "objective: 99.9\n    plugins:\n" + "".join(f"    {line}\n" for line in VM_CHAIN.splitlines()),
            ),
            True,
        ),
        # without the plugin Sloth validates PromQL, and so do we
        (sloth(sli=METRICSQL_EVENTS), False),
    ],
)
def test_sloth_metricsql_plugin(make_repo, text, valid):
    slo = only_slo(make_repo, {"slos/api.yaml": text})
    assert slo.valid is valid, slo.problems
    if not valid:
        assert slo.problems == ["error_query is not valid PromQL: unknown function with name 'histogram_share'"]


OPENSLO_DYNATRACE = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: checkout-response
spec:
  service: checkout
  indicator:
    metadata:
      name: {indicator}
      displayName: Checkout {display}
    spec:
      thresholdMetric:
        metricSource:
          type: Dynatrace
          spec:
            metricSelector: builtin:service.response.time:filter(eq("dt.entity.service","SERVICE-1A2B"))
  timeWindow:
    - duration: 28d
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: fast enough
      op: lte
      value: 300000
      target: 0.95
"""


@pytest.mark.parametrize(
    "indicator, display, kind",
    [
        # a threshold SLI whose vendor query does not say "latency": its name does
        ("checkout-latency", "response time", "latency"),
        ("checkout-response", "request duration", "latency"),
        ("checkout-queue-depth", "queue depth", "availability"),
    ],
)
def test_openslo_threshold_indicator_named_for_latency(make_repo, indicator, display, kind):
    slo = only_slo(make_repo, {"openslo/checkout.yaml": OPENSLO_DYNATRACE.format(indicator=indicator, display=display)})
    assert (slo.valid, slo.kind) == (True, kind), slo.problems


def test_openslo_indicator_ref_resolves_across_files(make_repo, tmp_path):
    sli = (
        "apiVersion: openslo/v1\nkind: SLI\nmetadata:\n  name: api-good-requests\nspec:\n  ratioMetric:\n"
        "    counter: true\n    good:\n      metricSource:\n        type: Prometheus\n        spec:\n"
        '          query: sum(rate(http_requests_total{code!~"5.."}[5m]))\n    total:\n      metricSource:\n'
        "        type: Prometheus\n        spec:\n          query: sum(rate(http_requests_total[5m]))\n"
    )
    slo = only_slo(make_repo, {"openslo/slo.yaml": OPENSLO_MISSING_REF, "openslo/sli.yaml": sli})
    assert slo.valid and set(slo.queries) == {"good", "total"}


def test_several_objectives_make_several_slos(make_repo):
    spec = OPENSLO_THRESHOLD.replace(
        "      timeSliceWindow: 5m\n",
        "      timeSliceWindow: 5m\n"
        "    - displayName: p99 under 1s\n      op: lte\n      value: 1\n"
        "      target: 0.999\n",
    )
    slos, _ = slos_of(make_repo({"openslo/search.yaml": spec}))
    assert [(s.name, s.objective, s.line) for s in slos] == [
        ("search-p99/p99 under 400ms", 0.99, 24),
        ("search-p99/p99 under 1s", 0.999, 30),
    ]


@pytest.mark.parametrize(
    "path, included",
    [
        ("slos/api.yaml", True),
        ("examples/slos/api.yaml", False),
        ("docs/slo.yaml", False),
        ("test/fixtures/slo.yaml", False),
        ("deploy/prod/slo.yml", True),
    ],
)
def test_example_and_test_folders_are_skipped(make_repo, path, included):
    slos, _ = slos_of(make_repo({path: sloth()}))
    assert bool(slos) is included


@pytest.mark.parametrize(
    "text, line, hint",
    [
        ('version: "prometheus/v1"\nservice: api\nslos:\n  - name: a\n   objective: 99\n', 5, False),
        (
            "{{- if .Values.slo.enabled }}\napiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevel\n{{- end }}\n",
            1,
            True,
        ),
        ('version: "prometheus/v1"\nservice: api\nslos:\n  name: a\n', 3, False),  # slos not a list
    ],
)
def test_unreadable_spec_files(make_repo, text, line, hint):
    slos, errors = slos_of(make_repo({"slos/api.yaml": text}))
    assert slos == [] and list(errors) == ["slos/api.yaml"]
    assert errors["slos/api.yaml"].line == line
    assert ("templated file" in errors["slos/api.yaml"].message) is hint


def test_unrelated_broken_yaml_is_not_an_slo_error(make_repo):
    slos, errors = slos_of(make_repo({"slos/api.yaml": sloth(), ".github/workflows/ci.yml": "on: [push\n"}))
    assert len(slos) == 1 and errors == {}


# -- the alerts a spec generates -------------------------------------------------------------------
SLOTH_ALERTING = """\
    alerting:
      name: ApiHighErrorRate
      labels:
        category: availability
      annotations:
        runbook: https://runbooks.example.com/api
      page_alert:
        labels:
          severity: critical
        annotations:
          summary: api burns its budget
      ticket_alert:
        disable: {ticket_disabled}"""


@pytest.mark.parametrize("ticket_disabled, severities", [("false", ["page", "ticket"]), ("true", ["page"])])
def test_sloth_generated_alerts(make_repo, ticket_disabled, severities):
    slo = only_slo(make_repo, {"slos/api.yaml": sloth(alerting=SLOTH_ALERTING.format(ticket_disabled=ticket_disabled))})
    assert slo.alerting_enabled and slo.alerting_name == "ApiHighErrorRate" and slo.alerting_line == 10
    assert [a.labels["sloth_severity"] for a in slo.generated_alerts] == severities
    page = slo.generated_alerts[0]
    assert page.name == "ApiHighErrorRate" and page.line == 10
    assert page.labels["severity"] == "critical" and page.labels["category"] == "availability"
    assert page.labels["sloth_id"] == "api-requests"
    assert page.annotations == {"runbook": "https://runbooks.example.com/api", "summary": "api burns its budget"}
    assert "slo:sli_error:ratio_rate1h" in page.expr and "14.4 * 0.001" in page.expr


@pytest.mark.parametrize(
    "alerting, enabled",
    [
        ("", False),  # no alerting block: Sloth has no alert name to generate
        ("    alerting:\n      name: A\n      page_alert:\n        disable: true", False),
        ("    alerting:\n      name: A", True),
    ],
)
def test_sloth_alerting_on_or_off(make_repo, alerting, enabled):
    assert only_slo(make_repo, {"slos/api.yaml": sloth(alerting=alerting)}).alerting_enabled is enabled


@pytest.mark.parametrize(
    "extra, window, count, first_windows",
    [
        ("", "28d", 4, ("5m", "1h")),
        ("", "2w", 4, ("2m30s", "30m")),
        ("  alerting:\n    disabled: true\n", "28d", 0, None),
        ("  alerting:\n    burnrates: false\n", "28d", 0, None),
        ("  alerting:\n    name: ApiBudgetBurn\n", "28d", 4, ("5m", "1h")),
    ],
)
def test_pyrra_generated_alerts(make_repo, extra, window, count, first_windows):
    slo = only_slo(make_repo, {"slo/api.yaml": pyrra(window=window, extra=extra)})
    assert len(slo.generated_alerts) == count and slo.alerting_enabled is bool(count)
    if count:
        first = slo.generated_alerts[0]
        assert first.name == (slo.alerting_name or "ErrorBudgetBurn")
        assert (first.labels["short"], first.labels["long"]) == first_windows
        assert first.labels["severity"] == "critical" and first.labels["slo"] == "api"
        assert first.labels["team"] == "platform" and first.labels["job"] == "api"
        assert "http_requests:burnrate" in first.expr and "14 * (1-0.999)" in first.expr
