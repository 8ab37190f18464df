"""Scans on Celery workers: real ``prr worker`` processes, Redis on 127.0.0.1:6379, PostgreSQL.

Each test has its own Redis key prefix and its own PostgreSQL schema, so tests running in
parallel never share a queue or a table. Every worker a test starts is stopped by it.
"""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from click.testing import CliRunner
from sqlalchemy import func
from sqlmodel import Session, select

from prr import cli
from prr.config import load_config
from prr.demo import create_demo_fleet
from prr.storage.db import migrate
from prr.storage.models import Scan, ScanJobRecord, Service
from prr.testing import RepoBuilder
from prr.tokens import create_token
from prr.web import appstate, create_app

REDIS_URL = os.environ.get("PRR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PRR = [sys.executable, "-m", "prr.cli"]
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
VISIBILITY_SECONDS = 4  # a dead worker's scan is delivered again this soon


@pytest.fixture
def queue() -> Iterator[dict[str, Any]]:
    """The ``queue`` config of one test: the local Redis under a key prefix of its own."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc}")
    prefix = f"prr-test-{uuid.uuid4().hex[:10]}:"
    yield {"broker_url": REDIS_URL, "key_prefix": prefix, "visibility_timeout_seconds": VISIBILITY_SECONDS}
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


def write_config(path: Path, **data: Any) -> Path:
    path.write_text(yaml.safe_dump({"scorecard": "production-readiness", **data}))
    return path


class Worker:
    """``prr worker`` in its own process group; ``kill()`` is kill -9 of the whole worker."""

    def __init__(self, config: Path, log: Path):
        self.log = log
        self.process = subprocess.Popen(
            [*PRR, "worker", "--config", str(config)],
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(lambda: "ready." in self.output() or self.process.poll() is not None, 60, "the worker to start")
        assert self.process.poll() is None, self.output()

    def output(self) -> str:
        return self.log.read_text()

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[[Path], Worker]]:
    started: list[Worker] = []

    def start(config: Path) -> Worker:
        started.append(Worker(config, tmp_path / f"worker{len(started)}.log"))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def scans_per_repo(url: str) -> dict[str, int]:
    with Session(migrate(url)) as session:
        rows = session.exec(select(Scan.repo, func.count()).group_by(Scan.repo)).all()
    return dict(rows)


def verdicts(url: str) -> dict[str, tuple[Any, ...]]:
    with Session(migrate(url)) as session:
        scans = session.exec(select(Scan)).all()
    return {s.report["service"]["ref"]: (s.level, s.score, s.ready, s.commit) for s in scans}


def run_cli(*args: str) -> Any:
    result = CliRunner().invoke(cli.main, list(args))
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def database(postgres_url: str) -> str:
    """A fresh PostgreSQL schema, migrated (as `prr db upgrade` does before workers start)."""
    migrate(postgres_url)
    return postgres_url


@pytest.fixture(scope="module")
def demo_fleet(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    create_demo_fleet(root, now=NOW)
    return root / "repos"


def test_two_workers_scan_the_demo_fleet_into_postgres_as_an_in_process_scan_would(
    tmp_path, demo_fleet, queue, database, start_worker
):
    fleet = [{"repo": f"{demo_fleet}/*"}]
    config = write_config(tmp_path / "prr.yaml", database_url=database, fleet=fleet, queue=queue)
    workers = [start_worker(config), start_worker(config)]

    queued = run_cli("scan", "--queue", "--config", str(config))
    repos = sorted(str(p) for p in demo_fleet.iterdir())
    assert f"{len(repos)} scans queued" in queued.output

    stored = wait_until(lambda: len(scans_per_repo(database)) == len(repos), 120, "every service to be stored")
    assert stored and scans_per_repo(database) == dict.fromkeys(repos, 1)
    assert all("succeeded" in w.output() for w in workers), "both workers scanned"
    in_process = f"sqlite:///{tmp_path / 'local.db'}"
    run_cli("scan", "--config", str(write_config(tmp_path / "local.yaml", database_url=in_process, fleet=fleet)))
    assert verdicts(database) == verdicts(in_process)


def test_scan_changed_queues_only_the_repos_whose_head_moved(tmp_path, queue, database, start_worker):
    repos = [RepoBuilder(tmp_path / "repos" / name) for name in ("cart", "ledger", "search")]
    for repo in repos:
        repo.commit({"catalog-info.yaml": f"kind: Component\nmetadata: {{name: {repo.path.name}}}\n"}, "catalog")
    config = write_config(
        tmp_path / "prr.yaml", database_url=database, fleet=[{"repo": f"{tmp_path}/repos/*"}], queue=queue
    )
    start_worker(config)
    run_cli("scan", "--queue", "--config", str(config))
    wait_until(lambda: sum(scans_per_repo(database).values()) == 3, 60, "the first scans")

    unchanged = run_cli("scan", "--queue", "--changed", "--config", str(config))
    assert "3 of 3 repos unchanged since their latest scan: skipped" in unchanged.output
    assert "0 scans queued" in unchanged.output

    repos[1].commit({"README.md": "# ledger\n"}, "docs")
    moved = run_cli("scan", "--queue", "--changed", "--config", str(config))
    assert "2 of 3 repos unchanged" in moved.output and "1 scans queued" in moved.output
    wait_until(lambda: sum(scans_per_repo(database).values()) == 4, 60, "the moved repo's scan")
    assert scans_per_repo(database)[str(repos[1].path)] == 2


class StallingGitServer:
    """A dumb-HTTP git server on 127.0.0.1 that holds every request until ``release`` is set, so a
    scan of its repo is caught mid-way (fetching); ``requested`` is set by the first request."""

    def __init__(self, root: Path):
        self.requested, self.release = threading.Event(), threading.Event()
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requested.set()
                server.release.wait(60)
                super().do_GET()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def test_a_worker_killed_mid_scan_loses_no_scan(tmp_path, queue, database, start_worker, demo_fleet):
    served = tmp_path / "served"
    subprocess.run(
        ["git", "clone", "-q", "--bare", str(demo_fleet / "payments-api"), str(served / "payments.git")], check=True
    )
    subprocess.run(["git", "update-server-info"], cwd=served / "payments.git", check=True)
    server = StallingGitServer(served)
    try:
        fleet = [{"repo": f"{server.url}/payments.git"}, {"repo": f"{demo_fleet}/search*"}]
        data = {"database_url": database, "fleet": fleet, "queue": queue, "cache_dir": str(tmp_path / "cache")}
        config = write_config(tmp_path / "prr.yaml", **data)
        doomed = start_worker(config)
        run_cli("scan", "--queue", "--config", str(config))
        assert server.requested.wait(60), "the worker started scanning the served repo"
        doomed.kill()  # mid-scan: it was fetching the served repo
        server.release.set()

        survivor = start_worker(config)
        expected = {f"{server.url}/payments.git", *(str(p) for p in demo_fleet.glob("search*"))}
        wait_until(lambda: set(scans_per_repo(database)) == expected, 90, "every scan, the killed one redelivered")
        time.sleep(VISIBILITY_SECONDS * 2)  # long enough for any further redelivery to land
        assert scans_per_repo(database) == dict.fromkeys(expected, 1)
        assert "succeeded" in survivor.output()
    finally:
        server.stop()


def test_rescan_now_runs_on_a_worker_and_its_job_reports_progress(tmp_path, demo_fleet, queue, database, start_worker):
    config = write_config(
        tmp_path / "prr.yaml",
        database_url=database,
        fleet=[{"repo": f"{demo_fleet}/search*"}],
        queue=queue,
        auth={"roles": {"admin": {"users": ["root"]}}},
    )
    run_cli("scan", "--config", str(config))  # the portal knows the service
    engine = migrate(database)
    with Session(engine) as session:
        ref = session.exec(select(Service.ref)).one()
    secret = create_token(engine, "root", "test")
    app = create_app(load_config(config))
    try:
        client = app.test_client()
        kind, namespace, name = ref.replace(":", "/").split("/")
        queued = client.post(
            f"/api/v1/entities/{kind}/{namespace}/{name}/scans", headers={"Authorization": f"Bearer {secret}"}
        )
        assert queued.status_code == 202 and queued.json["state"] == "queued"
        with Session(engine) as session:
            assert session.get(ScanJobRecord, queued.json["id"]).worker == "queue"  # waiting on the broker

        start_worker(config)
        job = wait_until(
            lambda: (j := client.get(queued.headers["Location"]).json)["state"] in ("succeeded", "failed") and j,
            60,
            "the worker to finish the job",
        )
        assert job["state"] == "succeeded" and job["error"] is None
        with Session(engine) as session:
            assert job["scan_id"] == session.exec(select(func.max(Scan.id))).one()
    finally:
        appstate.shutdown(app)
