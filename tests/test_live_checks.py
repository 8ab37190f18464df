"""The live checks against a real Prometheus and Alertmanager on 127.0.0.1 (tests/live_servers.py).

Repos: ``live-checkout`` (rules deployed as they are in git, paging alerts routed to PagerDuty,
SLOs met) and ``live-payments`` (one rule failing at evaluation, one never deployed, paging
alerts routed to Slack, an SLO missed). Scans run at the end of the synthetic data.
"""

from __future__ import annotations

import pickle
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from prr.config import load_config
from prr.demo.live import free_port
from prr.fleet import FleetEntry, scan_entry
from prr.live import LiveClients, clients_from_config, display_url
from prr.plugin import ConfigError, load_registry
from prr.scorecard import load_scorecard
from tests.conftest import fixture_repo, run_check
from tests.live_servers import DATA_END, ERROR_RATIOS, SLOTH_RECORDED_ERROR_RATIO

LIVE_CHECKS = ("live.alerts-loaded", "live.alerts-routed", "live.slo-attainment", "live.health")


def live(prometheus: str | None = None, alertmanager: str | None = None, **options: Any) -> LiveClients:
    """Clients as the portal config builds them; ``options`` apply to both systems."""
    systems = {
        name: {"url": url, **options}
        for name, url in (("prometheus", prometheus), ("alertmanager", alertmanager))
        if url
    }
    clients = clients_from_config(
        {"live": {"environment": "test", "environments": {"test": systems}, "allowed_hosts": ["127.0.0.1"]}}
    )
    assert clients is not None
    return clients


@pytest.fixture
def servers(prometheus_server: str, alertmanager_server: str) -> LiveClients:
    return live(prometheus_server, alertmanager_server)


@pytest.fixture
def closed_port() -> str:
    """A 127.0.0.1 URL nothing listens on."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A 127.0.0.1 URL that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


HEALTH_ANSWERS = {"/ok": 200, "/down": 503, "/moved": 302, "/slow": 200}


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/garbage"):  # a web page where an API was expected
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>login</html>")
            return
        if self.path == "/slow":
            time.sleep(3)
        self.send_response(HEALTH_ANSWERS.get(self.path, 404))
        self.send_header("Location", "http://127.0.0.1:9/elsewhere")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def check(check_id: str, repo: Any, clients: LiveClients | None, **options: Any):
    return run_check(check_id, repo, live=clients, now=DATA_END, **options)


def values(result) -> list[str]:
    return [str(e.value) for e in result.evidence]


# -- live.alerts-loaded --------------------------------------------------------------------------
def test_alerts_loaded_passes_when_every_rule_is_loaded_and_healthy(tmp_path: Path, servers: LiveClients) -> None:
    result = check("live.alerts-loaded", fixture_repo("live-checkout", tmp_path), servers)
    assert result.status == "pass", result.summary
    assert result.summary == "all 3 alert(s) loaded in Prometheus (test) with health ok"
    assert result.details["observed_at"] == "2025-03-01T00:00:00Z"


def test_alerts_loaded_fails_naming_missing_and_failing_rules(tmp_path: Path, servers: LiveClients) -> None:
    result = check("live.alerts-loaded", fixture_repo("live-payments", tmp_path), servers)
    assert result.status == "fail"
    assert "PaymentsLatencyHigh" in result.summary and "PaymentsDuplicateSeries" in result.summary
    by_name = {str(e.value).split(":")[0]: e for e in result.evidence}
    assert set(by_name) == {"PaymentsLatencyHigh", "PaymentsDuplicateSeries"}
    assert (by_name["PaymentsLatencyHigh"].path, by_name["PaymentsLatencyHigh"].line) == ("monitoring/alerts.yaml", 13)
    assert "not loaded in Prometheus (test)" in str(by_name["PaymentsLatencyHigh"].value)
    broken = by_name["PaymentsDuplicateSeries"]
    assert broken.line == 9 and "health err:" in str(broken.value) and "match" in str(broken.value)
    assert result.details["missing"] == ["PaymentsLatencyHigh"]
    assert result.details["broken"] == ["PaymentsDuplicateSeries"]


# -- live.alerts-routed --------------------------------------------------------------------------
def test_alerts_routed_passes_when_the_live_config_pages(tmp_path: Path, servers: LiveClients) -> None:
    result = check("live.alerts-routed", fixture_repo("live-checkout", tmp_path), servers)
    assert result.status == "pass", result.summary
    assert values(result) == [
        "CheckoutDown → checkout-pagerduty (pagerduty_configs)",
        "CheckoutHighErrorRate → checkout-pagerduty (pagerduty_configs)",
    ]


def test_alerts_routed_fails_naming_where_unpaged_alerts_go(tmp_path: Path, servers: LiveClients) -> None:
    result = check("live.alerts-routed", fixture_repo("live-payments", tmp_path), servers)
    assert result.status == "fail"
    assert result.summary == "3 of 3 paging alert(s) reach no paging receiver in Alertmanager (test)"
    assert values(result)[0] == "PaymentsDown → team-slack via route, which does not page"
    assert (result.evidence[0].path, result.evidence[0].line) == ("monitoring/alerts.yaml", 4)


def test_alerts_routed_uses_the_portals_extra_labels(tmp_path: Path, servers: LiveClients) -> None:
    """team=checkout from the portal config routes payments' alerts like checkout's."""
    config = {"routing": {"extra_labels": {"team": "checkout"}}}
    result = check("live.alerts-routed", fixture_repo("live-payments", tmp_path), servers, config=config)
    assert result.status == "fail"  # the rule's own team label wins over the extra label
    rule_without_team = (
        "groups:\n- name: x\n  rules:\n  - alert: A\n    expr: vector(1)\n    labels: {severity: page}\n"
    )
    repo = tmp_path / "plain"
    from prr.testing import RepoBuilder

    RepoBuilder(repo).commit({"rules.yaml": rule_without_team}, "rules", days_ago=1)
    assert check("live.alerts-routed", repo, servers, config=config).status == "pass"


# -- live.slo-attainment -------------------------------------------------------------------------
def test_slo_attainment_matches_the_synthetic_data(tmp_path: Path, servers: LiveClients) -> None:
    result = check("live.slo-attainment", fixture_repo("live-checkout", tmp_path), servers)
    assert result.status == "pass", result.summary
    slos = {s["name"]: s for s in result.details["slos"]}
    assert set(slos) == {"availability", "checkout-requests"}
    sloth, openslo = slos["availability"], slos["checkout-requests"]
    assert sloth["source"] == "sloth recording rule" and openslo["source"] == "spec query"
    # within 0.1 percentage point (0.001 as a ratio) of the data; in fact to rounding
    assert abs(sloth["attainment"] - (1 - SLOTH_RECORDED_ERROR_RATIO)) < 1e-9
    assert abs(openslo["attainment"] - (1 - ERROR_RATIOS["checkout"])) < 1e-6
    assert abs(openslo["error_budget_remaining"] - 0.5) < 1e-3
    assert openslo == {**openslo, "objective": 0.999, "window": "30d", "observed_at": "2025-03-01T00:00:00Z"}
    assert "checkout-requests: 99.950% over 30d (objective 99.9%), error budget remaining 50.0%" in result.summary


def test_slo_attainment_fails_when_an_objective_is_missed(tmp_path: Path, servers: LiveClients) -> None:
    result = check("live.slo-attainment", fixture_repo("live-payments", tmp_path), servers)
    assert result.status == "fail"
    (figures,) = result.details["slos"]
    assert abs(figures["attainment"] - (1 - ERROR_RATIOS["payments"])) < 1e-6
    assert abs(figures["error_budget_remaining"] - (-1.0)) < 1e-3
    assert result.summary.startswith("1 of 1 SLO(s) missed: payments-requests: 99.800% over 30d")
    assert (result.evidence[0].path, result.evidence[0].line) == ("slos/payments.pyrra.yaml", 2)


def test_slo_attainment_of_openslo_counters_written_as_sums(make_repo, servers: LiveClients) -> None:
    """``counter: true`` indicators written as ``sum(counter)``: measured by their increase."""
    spec = (
        "apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: payments-sums}\nspec:\n"
        "  timeWindow: [{duration: 30d, isRolling: true}]\n  indicator:\n    metadata: {name: x}\n"
        "    spec:\n      ratioMetric:\n        counter: true\n        bad:\n          metricSource:\n"
        '            {type: Prometheus, spec: {query: \'sum(http_requests_total{job="payments",code=~"5.."})\'}}\n'
        "        total:\n          metricSource:\n"
        "            {type: Prometheus, spec: {query: 'sum(http_requests_total{job=\"payments\"})'}}\n"
        "  objectives: [{target: 0.99}]\n"
    )
    result = check("live.slo-attainment", make_repo({"slo.yaml": spec}), servers)
    assert result.status == "pass", result.summary
    (figures,) = result.details["slos"]
    assert abs(figures["attainment"] - (1 - ERROR_RATIOS["payments"])) < 1e-6


def test_slo_attainment_is_an_error_when_prometheus_has_no_series(make_repo, servers: LiveClients) -> None:
    spec = (
        "apiVersion: pyrra.dev/v1alpha1\nkind: ServiceLevelObjective\nmetadata: {name: ghost}\n"
        "spec:\n  target: '99'\n  window: 7d\n  indicator:\n    ratio:\n"
        '      errors: {metric: \'http_requests_total{job="ghost",code=~"5.."}\'}\n'
        "      total: {metric: 'http_requests_total{job=\"ghost\"}'}\n"
    )
    result = check("live.slo-attainment", make_repo({"slo.yaml": spec}), servers)
    assert result.status == "error"
    assert "ghost: Prometheus has no data for its SLI over 1w" in result.summary


# -- live.health ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "status", "summary"),
    [
        ("/ok", "pass", "answered HTTP 200"),
        ("/down", "fail", "answered HTTP 503"),
        ("/moved", "fail", "answered HTTP 302"),
        ("/slow", "fail", "did not answer within 1s"),
    ],
)
def test_health_asks_the_declared_url(
    make_repo, health_server: str, path: str, status: str, summary: str, closed_port: str
) -> None:
    repo = make_repo({"readiness.yaml": f"health_url: {health_server}{path}\n"})
    started = time.monotonic()
    result = check("live.health", repo, live(closed_port), params={"timeout_seconds": 1})
    assert time.monotonic() - started < 2.5
    assert result.status == status, result.summary
    assert summary in result.summary
    assert (result.evidence[0].path, result.evidence[0].line) == ("readiness.yaml", 1)


def test_health_never_requests_a_host_that_is_not_allowed(make_repo, closed_port: str) -> None:
    repo = make_repo({"readiness.yaml": "health_url: http://user:secret@metadata.internal/latest?token=x\n"})
    result = check("live.health", repo, live(closed_port))
    assert result.status == "error"
    assert "'metadata.internal' of the health URL is not on the portal config's live.allowed_hosts" in result.summary
    assert "secret" not in repr(result.to_dict()) and "token" not in repr(result.to_dict())


def test_health_is_an_error_when_the_url_cannot_be_reached(make_repo, closed_port: str) -> None:
    repo = make_repo({"readiness.yaml": f"health_url: {closed_port}/healthz\n"})
    result = check("live.health", repo, live(closed_port))
    assert result.status == "error"
    assert "connection refused" in result.summary


# -- unreachable systems -------------------------------------------------------------------------
@pytest.mark.parametrize("check_id", LIVE_CHECKS[:3])
@pytest.mark.parametrize(("server", "reason"), [("closed_port", "connection refused"), ("silent_server", "no answer")])
def test_an_unreachable_system_is_an_error_within_its_timeout(
    request: pytest.FixtureRequest, tmp_path: Path, check_id: str, server: str, reason: str
) -> None:
    url = request.getfixturevalue(server)
    clients = live(url, url, timeout_seconds=0.5, retries=1)
    started = time.monotonic()
    result = check(check_id, fixture_repo("live-checkout", tmp_path), clients)
    elapsed = time.monotonic() - started
    assert result.status == "error"
    assert reason in result.summary and "after 2 attempts" in result.summary
    assert result.evidence[0].url.startswith(url)
    assert elapsed < 2 * 0.5 + 0.5 + 1.0  # two attempts, one backoff, slack


def test_a_system_that_answers_garbage_is_an_error(tmp_path: Path, health_server: str) -> None:
    clients = live(health_server + "/garbage", health_server + "/garbage")
    for check_id in LIVE_CHECKS[:3]:
        result = check(check_id, fixture_repo("live-checkout", tmp_path / check_id), clients)
        assert result.status == "error", (check_id, result.summary)
        assert "not JSON" in result.summary


# -- not configured / nothing to check -----------------------------------------------------------
@pytest.mark.parametrize("check_id", LIVE_CHECKS)
def test_without_live_systems_every_live_check_says_why_it_does_not_apply(tmp_path: Path, check_id: str) -> None:
    result = check(check_id, fixture_repo("live-checkout", tmp_path), None)
    assert result.status == "not_applicable"
    assert "no live systems configured" in result.summary


@pytest.mark.parametrize(
    ("check_id", "reason"),
    [
        ("live.alerts-loaded", "the repo has no alert rules"),
        ("live.alerts-routed", "no paging alerts"),
        ("live.slo-attainment", "no valid SLO"),
        ("live.health", "no health URL declared"),
    ],
)
def test_a_repo_without_the_things_a_live_check_asks_about(
    make_repo, servers: LiveClients, check_id: str, reason: str
) -> None:
    result = check(check_id, make_repo({"README.md": "# nothing\n"}), servers)
    assert result.status == "not_applicable"
    assert reason in result.summary


def test_a_system_missing_from_the_environment_is_named(tmp_path: Path, prometheus_server: str) -> None:
    result = check("live.alerts-routed", fixture_repo("live-checkout", tmp_path), live(prometheus_server))
    assert result.status == "not_applicable"
    assert result.summary == "no alertmanager configured for environment test in `live`"


# -- through the config, the engine and its worker processes, into storage -------------------------
def test_a_fleet_scan_runs_live_checks_from_the_config_and_stores_their_details(
    tmp_path: Path, prometheus_server: str, alertmanager_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRR_TEST_PROM_TOKEN", "s3cret-token")
    config_file = tmp_path / "prr.yaml"
    config_file.write_text(
        f"database_url: sqlite:///{tmp_path / 'prr.db'}\n"
        "live:\n  environment: production\n  environments:\n    production:\n"
        f"      prometheus: {{url: '{prometheus_server}', auth: {{bearer_token_env: PRR_TEST_PROM_TOKEN}}}}\n"
        f"      alertmanager: {{url: '{alertmanager_server}'}}\n"
    )
    config = load_config(config_file)
    registry = load_registry()
    card = load_scorecard(config.scorecard, registry)
    repo = fixture_repo("live-checkout", tmp_path)
    report = scan_entry(FleetEntry(str(repo.path)), config, card, registry, now=DATA_END)
    live_results = {c["id"]: c for c in report["checks"] if c["id"].startswith("live.")}
    assert {k: v["status"] for k, v in live_results.items()} == {
        "live.alerts-loaded": "pass",
        "live.alerts-routed": "pass",
        "live.slo-attainment": "pass",
        "live.health": "not_applicable",
    }
    assert live_results["live.slo-attainment"]["level"] == "gold"
    assert "s3cret-token" not in repr(report) and "s3cret-token" not in repr(config.live)

    from sqlmodel import Session, select

    from prr.storage.db import migrate, store_report
    from prr.storage.models import CheckResult

    engine = migrate(config.database_url)
    store_report(engine, report)
    with Session(engine) as session:
        stored = session.exec(select(CheckResult).where(CheckResult.check_id == "live.slo-attainment")).one()
    assert [s["name"] for s in stored.details["slos"]] == ["availability", "checkout-requests"]
    assert stored.details["slos"][1]["observed_at"] == "2025-03-01T00:00:00Z"


# -- config --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("live_section", "message"),
    [
        (
            {"environment": "prod", "environments": {"staging": {}}},
            "live.environment 'prod' is not one of live.environments (staging)",
        ),
        (
            {
                "environments": {
                    "prod": {"prometheus": {"url": "http://p:9090", "auth": {"bearer_token_env": "NOPE_X"}}}
                }
            },
            "live.environments.prod.prometheus.auth.bearer_token_env: environment variable $NOPE_X is not set",
        ),
    ],
)
def test_bad_live_config_is_refused_at_load(tmp_path: Path, live_section: dict, message: str) -> None:
    import yaml

    path = tmp_path / "prr.yaml"
    path.write_text(yaml.safe_dump({"live": live_section}))
    with pytest.raises(ConfigError, match=message.replace("$", r"\$").replace("(", r"\(").replace(")", r"\)")):
        load_config(path)


def test_the_schema_refuses_a_live_system_without_an_http_url(tmp_path: Path) -> None:
    path = tmp_path / "prr.yaml"
    path.write_text("live:\n  environments:\n    prod:\n      prometheus: {url: 'file:///etc/passwd'}\n")
    with pytest.raises(ConfigError, match="does not match"):
        load_config(path)


def test_clients_travel_to_worker_processes_without_showing_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRR_TEST_PASSWORD", "hunter2")
    clients = clients_from_config(
        {
            "live": {
                "environments": {
                    "prod": {
                        "prometheus": {
                            "url": "https://prom.internal:9090",
                            "auth": {"basic": {"username": "prr", "password_env": "PRR_TEST_PASSWORD"}},
                        }
                    }
                },
                "allowed_hosts": ["*.svc.internal"],
            }
        }
    )
    assert clients is not None
    copy = pickle.loads(pickle.dumps(clients))
    assert copy.prometheus.endpoint.basic_auth == ("prr", "hunter2")
    assert "hunter2" not in repr(copy)
    assert copy.environment == "prod"
    assert copy.host_allowed("http://checkout.svc.internal/healthz")
    assert copy.host_allowed("https://prom.internal/x")  # the configured systems' hosts
    assert not copy.host_allowed("http://svc.internal.evil.example/")
    assert not copy.host_allowed("http://169.254.169.254/latest/meta-data")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://user:pw@prom.internal:9090/api?token=x", "http://prom.internal:9090/api"),
        ("https://[::1]:8443/healthz", "https://[::1]:8443/healthz"),
        ("http://prom.internal", "http://prom.internal"),
    ],
)
def test_urls_are_shown_without_credentials(url: str, shown: str) -> None:
    assert display_url(url) == shown
