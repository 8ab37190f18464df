"""Durability: real `prr scan` and `prr serve` processes on 127.0.0.1, killed or cut off from
their database, on SQLite and PostgreSQL.

- a scan killed with SIGKILL mid-fleet leaves only complete scans, and the portal keeps serving;
- a portal killed with SIGKILL during a burst of waiver writes keeps every waiver it acknowledged;
- a portal whose database goes away answers 503 with a clear message, and recovers by itself.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import create_engine, make_url, text

from prr.storage.db import get_engine
from prr.testing import RepoBuilder
from tests.portal_fixtures import catalog, deployment
from tests.processes import PRR, free_port, kill_hard, start, stop, wait_for

SERVICES = [f"svc{i}" for i in range(8)]
APPROVER = "carol"


def write_fleet(tmp_path: Path, database_url: str, extra_fleet: list[dict[str, str]] = ()) -> Path:
    """Eight service repos under ``tmp_path/repos`` and the config that scans them into ``database_url``."""
    for name in SERVICES:
        if not (tmp_path / "repos" / name).exists():
            RepoBuilder(tmp_path / "repos" / name).commit(
                {"catalog-info.yaml": catalog(name, "team-a", "1"), "deploy/app.yaml": deployment(name, 2, True)}
            )
    config = tmp_path / "prr.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "database_url": database_url,
                "fleet": [{"repo": "repos/*"}, *extra_fleet],
                "cache_dir": str(tmp_path / "cache"),
                "auth": {"roles": {"approver": {"users": [APPROVER]}}},
            }
        )
    )
    return config


def prr(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PRR, *args], capture_output=True, text=True, timeout=timeout)


@contextmanager
def portal(config: Path, log: Path, workers: int = 2) -> Iterator[tuple[str, subprocess.Popen]]:
    """`prr serve` on a free 127.0.0.1 port: (its URL, its process), stopped afterwards."""
    port = free_port()
    server = start(
        [PRR, "serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        log,
        env={**os.environ, "PRR_SECRET_KEY": "k" * 64},
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", server, timeout=60)
        yield f"http://127.0.0.1:{port}", server
    finally:
        stop(server)


def call(url: str, body: dict[str, Any] | None = None, token: str | None = None) -> tuple[int, str, Any]:
    """(status, content type, parsed JSON or the text) of a GET, or of a POST of ``body``."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=30) as answer:
            status, content_type, raw = answer.status, answer.headers["Content-Type"], answer.read()
    except urllib.error.HTTPError as error:
        status, content_type, raw = error.code, error.headers["Content-Type"], error.read()
    parsed = json.loads(raw) if "json" in (content_type or "") else raw.decode()
    return status, content_type, parsed


def consistency_problems(database_url: str) -> list[str]:
    """What is half-written in the database: scans without all their results, waivers without audit."""
    engine = create_engine(database_url)
    problems = []
    with engine.connect() as db:
        for scan_id, report in db.execute(text("SELECT id, report FROM scan")):
            report = json.loads(report) if isinstance(report, str) else report
            stored = db.execute(text("SELECT count(*) FROM check_result WHERE scan_id = :id"), {"id": scan_id})
            if not report.get("checks") or stored.scalar() != len(report["checks"]) or report["scan_id"] != scan_id:
                problems.append(f"scan {scan_id} is not complete")
        waivers = {row[0] for row in db.execute(text("SELECT id FROM waiver"))}
        audited = {
            (json.loads(d) if isinstance(d, str) else d)["waiver_id"]
            for (d,) in db.execute(text("SELECT details FROM audit_log WHERE action = 'waiver.grant'"))
        }
        if waivers != audited:
            problems.append(f"waivers {sorted(waivers)} but grants audited {sorted(audited)}")
    engine.dispose()
    return problems


def scan_count(database_url: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as db:
        count = db.execute(text("SELECT count(*) FROM scan")).scalar() or 0
    engine.dispose()
    return count


@contextmanager
def stalling_git_server() -> Iterator[str]:
    """A git URL on 127.0.0.1 whose server accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stopping = threading.Event()

    def accept() -> None:
        while not stopping.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/team/stalled.git"
    finally:
        stopping.set()
        listener.close()
        for connection in accepted:
            connection.close()
        thread.join(timeout=5)


# --------------------------------------------------------------------------- (a) scan killed


def test_a_scan_killed_mid_fleet_leaves_only_complete_scans(tmp_path, database_url) -> None:
    config = write_fleet(tmp_path, database_url)
    assert prr("scan", "--config", str(config)).returncode == 0
    before = scan_count(database_url)
    for name in SERVICES:  # new commits: the next scan stores a new scan of each service
        RepoBuilder(tmp_path / "repos" / name).commit({"deploy/app.yaml": deployment(name, 1, False)}, "scale down")
    with stalling_git_server() as stalled, portal(config, tmp_path / "serve.log") as (url, _server):
        write_fleet(tmp_path, database_url, [{"repo": stalled}])  # keeps the scan running until it is killed
        scan = start([PRR, "scan", "--config", str(config), "--workers", "4"], tmp_path / "scan.log")
        deadline = time.monotonic() + 120
        while scan_count(database_url) < before + 2 and time.monotonic() < deadline:
            assert scan.poll() is None, (tmp_path / "scan.log").read_text()
            time.sleep(0.05)
        kill_hard(scan)  # mid-scan (the stalled repo at least), most likely mid-store of another service

        assert consistency_problems(database_url) == []
        for name in SERVICES:  # each service: its newest complete scan, new or previous
            status, _, scorecard = call(f"{url}/api/v1/entities/component/default/{name}/scorecard")
            assert status == 200 and scorecard["scan_id"] is not None
            assert len(scorecard["checks"]) > 10 and all("status" in c for c in scorecard["checks"])
    write_fleet(tmp_path, database_url)  # without the stalled repo: the next scan completes
    assert prr("scan", "--changed", "--config", str(config)).returncode == 0  # what the kill left unscanned
    assert scan_count(database_url) == before + len(SERVICES)
    assert consistency_problems(database_url) == []


# --------------------------------------------------------------------------- (b) portal killed


def test_a_portal_killed_during_writes_keeps_every_acknowledged_waiver(tmp_path, database_url) -> None:
    config = write_fleet(tmp_path, database_url)
    assert prr("scan", "--config", str(config)).returncode == 0
    created = prr("token", "create", "--user", APPROVER, "--name", "burst", "--config", str(config))
    token = created.stdout.strip()
    expires = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0).isoformat()
    acknowledged: dict[int, str] = {}
    with portal(config, tmp_path / "serve.log") as (url, server):

        def grant(i: int) -> None:
            reason = f"burst waiver {i}"
            body = {"check": "runbook.present", "reason": reason, "expires": expires}
            try:
                status, _, waiver = call(
                    f"{url}/api/v1/entities/component/default/{SERVICES[i % 8]}/waivers", body, token
                )
            except (urllib.error.URLError, OSError):
                return  # the portal died before it answered: nothing was promised
            if status in (200, 201):
                acknowledged[waiver["id"]] = reason

        with ThreadPoolExecutor(8) as pool:
            for i in range(400):
                pool.submit(grant, i)
            deadline = time.monotonic() + 120
            while len(acknowledged) < 20 and time.monotonic() < deadline:
                time.sleep(0.01)
            kill_hard(server)  # the burst is still running

    assert 20 <= len(acknowledged) < 400
    assert consistency_problems(database_url) == []
    with portal(config, tmp_path / "restarted.log") as (url, _server):
        for waiver_id, reason in acknowledged.items():
            status, _, waiver = call(f"{url}/api/v1/waivers/{waiver_id}")
            assert status == 200 and waiver["reason"] == reason and waiver["approver"] == APPROVER


# --------------------------------------------------------------------------- (c) database gone


class TcpRelay:
    """A TCP relay on 127.0.0.1 to the PostgreSQL server: ``cut()`` drops every connection and
    refuses new ones (as a database host that went away), ``restore()`` listens again."""

    def __init__(self, target: tuple[str, int]):
        self.target, self.port = target, free_port()
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None
        self.lock = threading.Lock()
        self.restore()

    def restore(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def cut(self) -> None:
        assert self.listener is not None
        with_shutdown(self.listener)  # wakes the thread blocked in accept(); close() alone would not
        with self.lock:
            for sock in self.sockets:
                with_shutdown(sock)
            self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client = listener.accept()[0]
                server = socket.create_connection(self.target)
            except OSError:
                return
            with self.lock:
                self.sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        with_shutdown(sink)


def with_shutdown(sock: socket.socket) -> None:
    with suppress(OSError):  # already closed by its other end
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


@contextmanager
def database_outage_switch(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Any, Any]]:
    """(the URL the portal uses, cut(), restore()) for this test's database.

    SQLite: its folder is moved away and back. PostgreSQL: the portal reaches the shared server
    through a relay that is cut (the server itself, shared with other tests, is left alone).
    """
    if database_url.startswith("sqlite"):
        folder = tmp_path / "db"
        yield (
            database_url,
            lambda: folder.rename(tmp_path / "db-away"),
            lambda: (tmp_path / "db-away").rename(folder),
        )
        return
    url = make_url(database_url)
    relay = TcpRelay((url.host or "127.0.0.1", url.port or 5432))
    try:
        yield url.set(port=relay.port).render_as_string(hide_password=False), relay.cut, relay.restore
    finally:
        relay.cut()


def test_a_portal_without_its_database_answers_503_and_recovers(tmp_path, database_url) -> None:
    with database_outage_switch(database_url, tmp_path) as (served_url, cut, restore):
        config = write_fleet(tmp_path, served_url)
        assert prr("scan", "--config", str(config)).returncode == 0
        token = prr("token", "create", "--user", APPROVER, "--name", "outage", "--config", str(config)).stdout.strip()
        expires = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0).isoformat()
        waiver = {"check": "runbook.present", "reason": "outage test", "expires": expires}
        with portal(config, tmp_path / "serve.log") as (url, server):
            assert call(f"{url}/api/v1/services")[0] == 200
            cut()
            status, content_type, body = call(f"{url}/healthz")
            assert (status, body["database"]) == (503, "unreachable")
            for path in ("/api/v1/services", "/api/v1/entities/component/default/svc0/scorecard"):
                status, content_type, body = call(url + path)
                assert (status, content_type) == (503, "application/problem+json"), body
                assert body["detail"].startswith("database unavailable")
            status, content_type, body = call(f"{url}/api/v1/entities/component/default/svc0/waivers", waiver, token)
            assert (status, content_type) == (503, "application/problem+json"), body
            for path in ("/", "/services/component/default/svc0"):
                status, content_type, body = call(url + path)
                assert (status, content_type) == (503, "text/html; charset=utf-8")
                assert "Database unavailable" in body and "Traceback" not in body
            restore()
            deadline = time.monotonic() + 30  # PostgreSQL: pooled connections are checked and replaced
            while call(f"{url}/healthz")[0] != 200 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert call(f"{url}/healthz")[0] == 200
            assert call(f"{url}/api/v1/services")[0] == 200
            assert call(f"{url}/services/component/default/svc0")[0] == 200
            assert call(f"{url}/api/v1/entities/component/default/svc0/waivers", waiver, token)[0] == 201
            assert server.poll() is None  # the same portal, not a restarted one
        log = (tmp_path / "serve.log").read_text()
        assert "Traceback" not in log


def test_a_sqlite_file_replaced_by_a_restored_copy_is_served_at_once(tmp_path) -> None:
    """A restore replaces the file under a running portal: its pooled connections must not keep the old one."""
    live, restored = tmp_path / "prr.db", tmp_path / "restored.db"
    for path, label in ((live, "before"), (restored, "restored")):
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE marker (label TEXT)")
            connection.execute("INSERT INTO marker VALUES (?)", (label,))
    engine = get_engine(f"sqlite:///{live}")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT label FROM marker")).scalar() == "before"
    os.replace(restored, live)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT label FROM marker")).scalar() == "restored"
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO marker VALUES ('written after')"))
    with sqlite3.connect(live) as connection:  # the write went into the file at the path
        assert connection.execute("SELECT count(*) FROM marker").fetchone() == (2,)
