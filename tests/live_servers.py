"""Real Prometheus and Alertmanager on 127.0.0.1 for the live checks' tests (a pytest plugin).

Nothing is installed here: the Debian packages ``prometheus`` and ``prometheus-alertmanager``
(``make system-packages``) provide the binaries. Without them the tests that need the servers
skip with the reason, except under ``CI=true``, where they fail.

Prometheus runs with no scrape jobs and no alerting section (nothing is ever sent), the rule files
of ``tests/fixtures/repos/live-checkout/monitoring/alerts.yaml`` and
``tests/fixtures/live/payments-deployed.yaml``, and 31 days of synthetic data ending at
:data:`DATA_END`, backfilled as TSDB blocks by ``promtool tsdb create-blocks-from openmetrics``:

- ``http_requests_total{job, code}`` every 12 hours (backfilling writes one TSDB block per 2 hours
  that holds data, so sparse samples keep it at a second), 10 000 requests an interval, of which
  :data:`ERROR_RATIOS` fail with ``code="500"``;
- ``slo:sli_error:ratio_rate30d`` for Sloth's ``sloth_id="checkout-availability"`` at
  :data:`SLOTH_RECORDED_ERROR_RATIO` over the last hour, as Sloth's recording rule would have it.

Tests scan at ``now=DATA_END``: live queries are asked at that time. Both servers are
session-scoped and stopped at the end.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

FIXTURES = Path(__file__).parent / "fixtures"
RULE_FILES = (FIXTURES / "repos/live-checkout/monitoring/alerts.yaml", FIXTURES / "live/payments-deployed.yaml")
ALERTMANAGER_CONFIG = FIXTURES / "live/alertmanager.yml"
PROMETHEUS, PROMTOOL, ALERTMANAGER = "/usr/bin/prometheus", "/usr/bin/promtool", "/usr/bin/prometheus-alertmanager"

DATA_END = datetime(2025, 3, 1, tzinfo=UTC)
DATA_DAYS = 31
SAMPLE_SECONDS = 12 * 3600
REQUESTS_PER_SAMPLE = 10_000
ERROR_RATIOS = {"checkout": 0.0005, "payments": 0.002}
SLOTH_RECORDED_ERROR_RATIO = 0.0003
START_SECONDS = 60


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen


def need(binary: str, package: str) -> None:
    """Skip (fail under CI=true) when a server binary is missing."""
    if Path(binary).is_file():
        return
    reason = f"{binary} is missing: install the Debian package {package} (make system-packages)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def synthetic_openmetrics() -> str:
    """The samples to backfill, in OpenMetrics text (timestamps in seconds)."""
    start = int((DATA_END - timedelta(days=DATA_DAYS)).timestamp())
    samples = DATA_DAYS * 86400 // SAMPLE_SECONDS
    lines = ["# TYPE http_requests counter"]
    for job, ratio in ERROR_RATIOS.items():
        errors = REQUESTS_PER_SAMPLE * ratio
        for code, per_sample in (("200", REQUESTS_PER_SAMPLE - errors), ("500", errors)):
            lines += [
                f'http_requests_total{{job="{job}",code="{code}"}} {per_sample * i:g} {start + SAMPLE_SECONDS * i}'
                for i in range(samples + 1)
            ]
    lines.append("# TYPE slo:sli_error:ratio_rate30d gauge")
    end = int(DATA_END.timestamp())
    series = 'slo:sli_error:ratio_rate30d{sloth_id="checkout-availability",sloth_service="checkout",sloth_slo="availability",sloth_window="30d"}'
    lines += [f"{series} {SLOTH_RECORDED_ERROR_RATIO} {end - 60 * i}" for i in range(60, -1, -1)]
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def _start(command: list[str], url: str, ready_path: str, log: Path) -> Server:
    out = log.open("wb")
    process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command[0]} exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            if requests.get(url + ready_path, timeout=1).ok:
                return Server(url, process)
        except requests.RequestException:
            pass
        time.sleep(0.2)
    _stop(process)
    raise RuntimeError(f"{command[0]} did not become ready in {START_SECONDS}s: {log.read_text()[-2000:]}")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_for_rule_evaluation(url: str) -> None:
    """Until every loaded rule has been evaluated once (health ok or err, not unknown)."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        groups = requests.get(url + "/api/v1/rules", timeout=5).json()["data"]["groups"]
        if groups and all(rule["health"] != "unknown" for group in groups for rule in group["rules"]):
            return
        time.sleep(0.2)
    raise RuntimeError("Prometheus did not evaluate its rules in time")


@pytest.fixture(scope="session")
def prometheus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a Prometheus holding the synthetic data and the fixture rules."""
    need(PROMETHEUS, "prometheus")
    need(PROMTOOL, "prometheus")
    home = tmp_path_factory.mktemp("prometheus")
    (home / "data.om").write_text(synthetic_openmetrics())
    subprocess.run(
        [PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(home / "data.om"), str(home / "tsdb")],
        check=True,
        capture_output=True,
    )
    rule_files = "".join(f"  - {path}\n" for path in RULE_FILES)
    (home / "prometheus.yml").write_text(f"global:\n  evaluation_interval: 1s\nrule_files:\n{rule_files}")
    port = free_port()
    server = _start(
        [
            PROMETHEUS,
            f"--config.file={home / 'prometheus.yml'}",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--storage.tsdb.path={home / 'tsdb'}",
            "--storage.tsdb.retention.time=100y",  # keep the backfilled past
        ],
        f"http://127.0.0.1:{port}",
        "/-/ready",
        home / "prometheus.log",
    )
    try:
        _wait_for_rule_evaluation(server.url)
        yield server.url
    finally:
        _stop(server.process)
        shutil.rmtree(home / "tsdb", ignore_errors=True)


@pytest.fixture(scope="session")
def alertmanager_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of an Alertmanager running tests/fixtures/live/alertmanager.yml."""
    need(ALERTMANAGER, "prometheus-alertmanager")
    home = tmp_path_factory.mktemp("alertmanager")
    port = free_port()
    server = _start(
        [
            ALERTMANAGER,
            f"--config.file={ALERTMANAGER_CONFIG}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            f"--storage.path={home}",
        ],
        f"http://127.0.0.1:{port}",
        "/-/ready",
        home / "alertmanager.log",
    )
    try:
        yield server.url
    finally:
        _stop(server.process)
