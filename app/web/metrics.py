"""``/metrics`` in the Prometheus text format (0.0.4), written here: prometheus_client is not a
dependency and the exposition is small.

- Scan metrics come from the database, so they count every stored scan whoever made it (``prr
  scan``, a rescan in any portal process): ``prr_scans_total``, ``prr_scan_duration_seconds``
  (histogram), ``prr_check_errors_total{check}``.
- Request latency is measured in this process: ``prr_http_request_duration_seconds{method,
  endpoint,status}`` (histogram; ``endpoint`` is the route pattern, so its values are bounded).
  Under several gunicorn workers each worker reports its own series; sum them in PromQL.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from collections.abc import Iterable

from flask import Blueprint, Flask, Response, current_app, g, request
from sqlalchemy import Engine, case, func
from sqlmodel import Session, col, select

from prr.storage.models import CheckResult, Scan

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
SCAN_BUCKETS = (1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

bp = Blueprint("metrics", __name__)


class Histogram:
    """A labelled histogram kept in memory, safe across request threads."""

    def __init__(self, name: str, help_text: str, buckets: Iterable[float], labels: tuple[str, ...]):
        self.name, self.help, self.buckets, self.labels = name, help_text, tuple(buckets), labels
        self._series: dict[tuple[str, ...], list[float]] = defaultdict(lambda: [0.0] * (len(self.buckets) + 2))
        self._lock = threading.Lock()

    def observe(self, value: float, *label_values: str) -> None:
        with self._lock:
            series = self._series[label_values]
            for i, bound in enumerate(self.buckets):
                if value <= bound:
                    series[i] += 1
            series[-2] += 1  # count (the +Inf bucket)
            series[-1] += value  # sum

    def render(self) -> list[str]:
        lines = _header(self.name, self.help, "histogram")
        with self._lock:
            snapshot = {k: list(v) for k, v in self._series.items()}
        for values, series in sorted(snapshot.items()):
            labels = dict(zip(self.labels, values))
            cumulative = [(bound, series[i]) for i, bound in enumerate(self.buckets)]
            lines += _histogram_lines(self.name, labels, cumulative, series[-2], series[-1])
        return lines


def _header(name: str, help_text: str, kind: str) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]


def _histogram_lines(
    name: str, labels: dict[str, str], buckets: list[tuple[float, float]], count: float, total: float
) -> list[str]:
    lines = [f"{name}_bucket{_labels({**labels, 'le': _number(bound)})} {_number(n)}" for bound, n in buckets]
    lines.append(f"{name}_bucket{_labels({**labels, 'le': '+Inf'})} {_number(count)}")
    lines.append(f"{name}_sum{_labels(labels)} {_number(total)}")
    lines.append(f"{name}_count{_labels(labels)} {_number(count)}")
    return lines


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def scan_metrics(engine: Engine) -> list[str]:
    """The database-derived series: stored scans, their durations, and error results by check."""
    bucket_columns = [func.sum(case((col(Scan.duration_seconds) <= bound, 1), else_=0)) for bound in SCAN_BUCKETS]
    with Session(engine) as session:
        total = session.exec(select(func.count(col(Scan.id)))).one()
        timed = session.exec(
            select(
                func.count(col(Scan.duration_seconds)),
                func.coalesce(func.sum(col(Scan.duration_seconds)), 0),
                *bucket_columns,
            )
        ).one()
        errors = session.exec(
            select(CheckResult.check_id, func.count(col(CheckResult.id)))
            .where(CheckResult.status == "error")
            .group_by(CheckResult.check_id)
            .order_by(CheckResult.check_id)
        ).all()
    counted, summed, *cumulative = tuple(timed)
    count = int(counted or 0)
    duration_sum = float(summed or 0)
    lines = _header("prr_scans_total", "Scans stored in the database.", "counter")
    lines.append(f"prr_scans_total {total}")
    lines += _header("prr_scan_duration_seconds", "How long a service's scan took.", "histogram")
    lines += _histogram_lines(
        "prr_scan_duration_seconds", {}, [(b, n or 0) for b, n in zip(SCAN_BUCKETS, cumulative)], count, duration_sum
    )
    lines += _header(
        "prr_check_errors_total", "Check results that could not decide (status error), by check.", "counter"
    )
    lines += [f"prr_check_errors_total{_labels({'check': check})} {n}" for check, n in errors]
    return lines


def init_app(app: Flask) -> None:
    """Time every request and serve ``/metrics``."""
    app.extensions["prr.http_latency"] = Histogram(
        "prr_http_request_duration_seconds",
        "HTTP request latency by method, route and status.",
        HTTP_BUCKETS,
        ("method", "endpoint", "status"),
    )

    @app.before_request
    def _start_timer() -> None:
        g.prr_request_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.pop("prr_request_started", None)
        if started is not None:
            endpoint = request.url_rule.rule if request.url_rule else "unmatched"
            app.extensions["prr.http_latency"].observe(
                time.perf_counter() - started, request.method, endpoint, str(response.status_code)
            )
        return response

    app.register_blueprint(bp)


@bp.get("/metrics")
def metrics() -> Response:
    lines = scan_metrics(current_app.extensions["prr.db"]) + current_app.extensions["prr.http_latency"].render()
    return Response("\n".join(lines) + "\n", content_type=CONTENT_TYPE)
