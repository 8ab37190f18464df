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
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from prr.demo.live import (
    ALERTMANAGER,
    PROMETHEUS,
    PROMTOOL,
    start_alertmanager,
    start_prometheus,
    wait_for_rule_evaluation,
)

FIXTURES = Path(__file__).parent / "fixtures"
RULE_FILES = (FIXTURES / "repos/live-checkout/monitoring/alerts.yaml", FIXTURES / "live/payments-deployed.yaml")
ALERTMANAGER_CONFIG = FIXTURES / "live/alertmanager.yml"

DATA_END = datetime(2025, 3, 1, tzinfo=UTC)
DATA_DAYS = 31
SAMPLE_SECONDS = 12 * 3600
REQUESTS_PER_SAMPLE = 10_000
ERROR_RATIOS = {"checkout": 0.0005, "payments": 0.002}
SLOTH_RECORDED_ERROR_RATIO = 0.0003


def need(*binaries: tuple[str, str]) -> None:
    """Skip (fail under CI=true) when a server binary is missing."""
    for binary, package in binaries:
        if Path(binary).is_file():
            continue
        reason = f"{binary} is missing: install the Debian package {package} (make system-packages)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)


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


@pytest.fixture(scope="session")
def prometheus_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a Prometheus holding the synthetic data and the fixture rules."""
    need((PROMETHEUS, "prometheus"), (PROMTOOL, "prometheus"))
    server = start_prometheus(tmp_path_factory.mktemp("prometheus"), RULE_FILES, synthetic_openmetrics())
    try:
        wait_for_rule_evaluation(server.url)
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def alertmanager_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of an Alertmanager running tests/fixtures/live/alertmanager.yml."""
    need((ALERTMANAGER, "prometheus-alertmanager"))
    server = start_alertmanager(tmp_path_factory.mktemp("alertmanager"), ALERTMANAGER_CONFIG)
    try:
        yield server.url
    finally:
        server.stop()
