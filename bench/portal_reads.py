"""Benchmark: the portal's reads on a large fleet, side by side with /healthz.

    make bench-portal                       # SQLite, then PostgreSQL (127.0.0.1:5432, db test)
    .venv/bin/python bench/portal_reads.py --backend sqlite --services 5000 --weeks 52
    .venv/bin/python bench/portal_reads.py --keep /tmp/prr-bench   # build once, reuse on later runs

Builds a database of SERVICES services with WEEKS weekly scans each straight through storage (no
git), serves it with ``prr serve`` (gunicorn, its default worker count) on 127.0.0.1, and drives
it from a separate load-generator process: 8 client threads, a bounded number of requests per
read. Prints p50 / p99 latency and throughput per read, and each read's throughput as a share of
/healthz's; the fleet page is also timed alone (one client).

Building 5,000 x 52 takes several minutes per backend. With ``--keep DIR`` the databases are kept
(SQLite: a file in DIR; PostgreSQL: a schema named after the size) and a later run with the same
DIR, --services and --weeks reuses them, upgraded to the newest schema, instead of building again.
Reads do not change the data, so a reused database gives the same figures as a fresh one.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
import yaml
from sqlmodel import Session

from prr.config import load_config
from prr.context import ReadContext
from prr.plugin import load_registry
from prr.scorecard import load_scorecard
from prr.scoring import verdict
from prr.status import recompute
from prr.storage.db import migrate
from prr.storage.models import CheckResult, Scan, Service, StatusEvent

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CHECKS = [  # (id, level, blocking): a slice of the shipped scorecard
    ("ownership.catalog", "bronze", True),
    ("ownership.tier", "bronze", False),
    ("runbook.present", "bronze", False),
    ("slo.defined", "silver", False),
    ("alerts.routed", "silver", False),
    ("resilience.replicas", "silver", False),
    ("runbook.fresh", "gold", False),
    ("resilience.pdb", "gold", False),
]
TEAMS = 40
CLIENTS = 8


# --------------------------------------------------------------------------- the fleet


def _report(ref: str, name: str, owner: str, tier: str, week: int, card: Any, rng: random.Random, at: datetime) -> dict:
    entries = []
    for check_id, level, blocking in CHECKS:
        good = rng.random() < {"bronze": 0.92, "silver": 0.7, "gold": 0.45}[level] + week / 400
        entries.append(
            {
                "id": check_id,
                "title": check_id.replace(".", " "),
                "category": check_id.split(".")[0],
                "kind": "repo",
                "level": level,
                "weight": 1,
                "blocking": blocking,
                "status": "pass" if good else "fail",
                "met": good,
                "waived": False,
                "waiver": None,
                "summary": "found" if good else "missing",
                "evidence": [{"path": "catalog-info.yaml", "line": 1}],
                "remediation": "see the docs",
                "docs_url": None,
                "details": {},
            }
        )
    meta = {
        "id": card.id,
        "version": card.version,
        "levels": list(card.levels),
        "required_level": card.required_levels[tier],
    }
    return {
        "schema": "prr/scan-report/v1",
        "service": {
            "ref": ref,
            "name": name,
            "owner": owner,
            "tier": tier,
            "tier_declared": True,
            "lifecycle": "production",
        },
        "source": {"repo": f"/srv/repos/{name}", "commit": uuid.uuid4().hex + "0" * 8, "scanned_at": at.isoformat()},
        "scan_id": None,
        "scorecard": meta,
        **verdict(card, tier, entries),
        "links": {"portal": None},
        "checks": entries,
    }


def build(url: str, services: int, weeks: int) -> None:
    """Services, their weekly scans and check results, their status events and served status."""
    engine = migrate(url)
    registry = load_registry()
    card = load_scorecard("production-readiness", registry)
    ctx = ReadContext(engine=engine, config=load_config(None), registry=registry, scorecard=card)
    now = datetime.now(UTC).replace(microsecond=0)
    rng = random.Random(7)
    started = time.monotonic()
    for first in range(0, services, 100):
        with Session(engine) as session, session.begin():
            for i in range(first, min(first + 100, services)):
                _one_service(session, ctx, card, rng, i, weeks, now)
        print(f"  {min(first + 100, services)} services stored ({time.monotonic() - started:.0f} s)", file=sys.stderr)


def _one_service(
    session: Session, ctx: ReadContext, card: Any, rng: random.Random, i: int, weeks: int, now: datetime
) -> None:
    name, owner, tier = f"svc-{i:05d}", f"team-{i % TEAMS:02d}", str(rng.choice("0112222"))
    ref = f"component:default/{name}"
    service_id = session.execute(
        sa.insert(Service)
        .values(
            ref=ref,
            name=name,
            owner=owner,
            tier=tier,
            lifecycle="production",
            repo=f"/srv/repos/{name}",
            updated_at=now,
        )
        .returning(Service.id)
    ).scalar_one()
    reports = [
        _report(ref, name, owner, tier, week, card, rng, now - timedelta(weeks=weeks - 1 - week, hours=1))
        for week in range(weeks)
    ]
    scan_ids = (
        session.execute(
            sa.insert(Scan).returning(Scan.id, sort_by_parameter_order=True),
            [
                {
                    "service_id": service_id,
                    "commit": r["source"]["commit"],
                    "repo": r["source"]["repo"],
                    "scanned_at": datetime.fromisoformat(r["source"]["scanned_at"]),
                    "scorecard_id": card.id,
                    "scorecard_version": card.version,
                    "tier": tier,
                    "score": r["score"],
                    "level": r["level"],
                    "ready": r["ready"],
                    "report": r,
                }
                for r in reports
            ],
        )
        .scalars()
        .all()
    )
    session.execute(
        sa.update(Scan).where(Scan.id == scan_ids[-1]).values(report={**reports[-1], "scan_id": scan_ids[-1]})
    )
    session.execute(
        sa.insert(CheckResult),
        [
            {
                "scan_id": scan_id,
                "check_id": c["id"],
                "level": c["level"],
                "status": c["status"],
                "met": c["met"],
                "waived": False,
                "summary": c["summary"],
                "evidence": c["evidence"],
                "details": {},
            }
            for scan_id, r in zip(scan_ids, reports)
            for c in r["checks"]
        ],
    )
    # Without waivers each scan's served verdict is its own: its event, as the portal would append it.
    events = [_event(before, r, service_id, scan_id) for before, r, scan_id in zip([None, *reports], reports, scan_ids)]
    session.execute(sa.insert(StatusEvent), events[:-1])
    at = datetime.fromisoformat(reports[-1]["source"]["scanned_at"])
    recompute(session, ReadContext(**{**ctx.__dict__, "now": at}), service_id, "scan", scan_ids[-1])


def _event(previous: dict | None, report: dict, service_id: int, scan_id: int) -> dict:
    levels = report["scorecard"]["levels"]
    rank = lambda lv: levels.index(lv) if lv in levels else -1  # noqa: E731
    was = {c["id"]: c["met"] for c in previous["checks"]} if previous else {}
    event = {
        "service_id": service_id,
        "ref": report["service"]["ref"],
        "at": datetime.fromisoformat(report["source"]["scanned_at"]),
        "cause": "scan",
        "cause_id": scan_id,
        "tier": report["service"]["tier"],
        "owner": report["service"]["owner"],
        "scan_id": scan_id,
        "commit": report["source"]["commit"],
        "previous_level": previous["level"] if previous else None,
        "level": report["level"],
        "level_rank": rank(report["level"]),
        "previous_ready": previous["ready"] if previous else None,
        "ready": report["ready"],
        "score": report["score"],
        "required_level": report["scorecard"]["required_level"],
        "waiver_carried": False,
        "level_dropped": previous is not None and rank(report["level"]) < rank(previous["level"]),
        "stopped_ready": bool(previous and previous["ready"]) and not report["ready"],
        "newly_unmet": [c["id"] for c in report["checks"] if not c["met"] and was.get(c["id"])],
        "newly_met": [c["id"] for c in report["checks"] if c["met"] and was.get(c["id"]) is False],
        "unmet": [c["id"] for c in report["checks"] if not c["met"]],
        "waived": [],
    }
    event["worsened"] = event["level_dropped"] or event["stopped_ready"] or bool(event["newly_unmet"])
    return event


# --------------------------------------------------------------------------- load


def _load(base: str, paths: list[str], requests_per_read: int, seconds: float, out: Any) -> None:
    """In its own process: hit each read with CLIENTS threads; send back latencies and throughput."""
    results = {}
    local = threading.local()

    def one(path: str, deadline: float = float("inf")) -> float:
        """The latency of one GET (-1 when past ``deadline``: not sent)."""
        if time.perf_counter() >= deadline:
            return -1
        if not hasattr(local, "session"):
            local.session = requests.Session()
        start = time.perf_counter()
        response = local.session.get(base + path, timeout=60)
        assert response.status_code == 200, (path, response.status_code)
        return time.perf_counter() - start

    for label, path in paths:
        targets = [path.replace("{i}", f"{random.randrange(SERVICES_HINT):05d}") for _ in range(requests_per_read)]
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(one, targets[: CLIENTS * 2]))  # warm up
            started = time.perf_counter()
            latencies = [t for t in pool.map(lambda p, end=started + seconds: one(p, end), targets) if t >= 0]
            elapsed = time.perf_counter() - started
        latencies.sort()
        results[label] = {
            "requests": len(latencies),
            "p50_ms": 1000 * statistics.median(latencies),
            "p99_ms": 1000 * latencies[max(0, int(len(latencies) * 0.99) - 1)],
            "rps": len(latencies) / elapsed,
        }
    out.put(results)


SERVICES_HINT = 5000


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(url: str, workdir: Path, server_args: list[str]) -> tuple[subprocess.Popen, str]:
    config = workdir / "prr.yaml"
    config.write_text(yaml.safe_dump({"database_url": url, "auth": {"public_reads": True}}))
    port = _free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "prr"),
            "serve",
            "--config",
            str(config),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *server_args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(workdir / "serve.log", "w"),  # noqa: SIM115  (closed with the process)
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if requests.get(base + "/healthz", timeout=2).status_code == 200:
                return server, base
        except requests.ConnectionError:
            time.sleep(0.5)
    os.killpg(server.pid, signal.SIGTERM)
    raise SystemExit(f"the portal did not come up; see {workdir / 'serve.log'}")


def _database(backend: str, services: int, weeks: int, keep: Path | None, workdir: Path) -> tuple[str, str | None]:
    """The database URL, and its PostgreSQL schema (None for SQLite)."""
    if backend == "sqlite":
        return f"sqlite:///{(keep or workdir) / f'prr-{services}x{weeks}.db'}", None
    schema = f"bench_keep_{services}x{weeks}" if keep else f"bench_{uuid.uuid4().hex[:8]}"
    return f"{POSTGRES}?options=-csearch_path%3D{schema}", schema


def _empty_database(url: str, schema: str | None) -> None:
    if schema is None:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return
    with sa.create_engine(POSTGRES).begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))


def _vacuum(url: str) -> None:
    """On PostgreSQL, what autovacuum does on a live server (the tests' server runs without it):
    table statistics and visibility maps, so the planner sees the fleet as it is."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            conn.execute(sa.text(f'VACUUM ANALYZE "{table}"'))
    engine.dispose()


def run(
    backend: str,
    services: int,
    weeks: int,
    requests_per_read: int,
    seconds: float,
    keep: Path | None = None,
    server_args: list[str] | None = None,
) -> dict[str, Any]:
    global SERVICES_HINT
    SERVICES_HINT = services
    workdir = Path(tempfile.mkdtemp(prefix="prr-bench-"))
    url, schema = _database(backend, services, weeks, keep, workdir)
    built_marker = keep / f"{backend}-{services}x{weeks}.built" if keep else None
    if built_marker is not None and built_marker.exists():
        print(f"{backend}: reusing the kept {services} x {weeks} database", file=sys.stderr)
        migrate(url).dispose()
        built = None
    else:
        _empty_database(url, schema)
        print(f"{backend}: building {services} services x {weeks} weekly scans", file=sys.stderr)
        started = time.monotonic()
        build(url, services, weeks)
        built = time.monotonic() - started
        if built_marker is not None:
            built_marker.write_text(f"{built:.0f}\n")
    if schema is not None:
        _vacuum(url)
    server = None
    try:
        server, base = serve(url, workdir, server_args or [])
        paths = [
            ("/healthz", "/healthz"),
            ("services list, page 1", "/api/v1/services?per_page=50"),
            ("services list, filtered", "/api/v1/services?per_page=50&tier=0&ready=false"),
            ("services list, sorted", "/api/v1/services?per_page=50&sort=-score"),
            ("entity scorecard", "/api/v1/entities/component/default/svc-{i}/scorecard"),
            ("fleet page", "/"),
            ("team page", "/teams/team-07"),
            ("review page", "/services/component/default/svc-{i}/review"),
        ]
        queue: multiprocessing.Queue = multiprocessing.Queue()
        loader = multiprocessing.Process(target=_load, args=(base, paths, requests_per_read, seconds, queue))
        loader.start()
        results = queue.get(timeout=3600)
        loader.join()
        alone = []
        for _ in range(30):
            start = time.perf_counter()
            requests.get(base + "/", timeout=60).raise_for_status()
            alone.append(1000 * (time.perf_counter() - start))
        alone.sort()
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(30)
        if schema is not None and keep is None:
            with sa.create_engine(POSTGRES).begin() as conn:
                conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "backend": backend,
        "build_seconds": built,
        "reads": results,
        "fleet_page_alone_ms": {"p50": statistics.median(alone), "max": alone[-1]},
    }


def table(result: dict[str, Any]) -> str:
    health = result["reads"]["/healthz"]["rps"]
    lines = [
        f"### {result['backend']}",
        "",
        "| read | requests | p50 ms | p99 ms | req/s | vs /healthz |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, r in result["reads"].items():
        lines.append(
            f"| {label} | {r['requests']} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['rps']:.0f} | {100 * r['rps'] / health:.0f}% |"
        )
    alone = result["fleet_page_alone_ms"]
    lines += [
        "",
        f"Fleet page alone (one client, 30 requests): p50 {alone['p50']:.0f} ms, max {alone['max']:.0f} ms.",
    ]
    if result["build_seconds"] is not None:
        lines.append(f"Database built in {result['build_seconds']:.0f} s.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--services", type=int, default=5000)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--requests", type=int, default=1000, help="Requests per read (at most).")
    parser.add_argument("--seconds", type=float, default=20, help="Time per read (at most).")
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="Keep the databases (SQLite file in DIR) and reuse them on later runs."
    )
    parser.add_argument("--workers", type=int, help="prr serve --workers (default: its own default).")
    parser.add_argument("--threads", type=int, help="prr serve --threads (default: its own default).")
    args = parser.parse_args()
    server_args = [f"--{name}={value}" for name in ("workers", "threads") if (value := getattr(args, name))]
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    for backend in backends:
        result = run(backend, args.services, args.weeks, args.requests, args.seconds, args.keep, server_args)
        print(table(result))
        print(json.dumps(result), file=sys.stderr)


if __name__ == "__main__":
    main()
