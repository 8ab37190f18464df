"""Rescan jobs live in the database, so several portal worker processes share them.

Two apps on one database stand for two gunicorn workers: each has its own engine, thread pool and
heartbeat, and nothing else in common but the database.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from prr import actions, cli
from prr.storage.models import ScanJobRecord
from prr.web import appstate
from tests.portal_fixtures import ApiClient, build_app, token

CHECKOUT = "/api/v1/entities/component/default/checkout"


@pytest.fixture
def blocked_scans(monkeypatch) -> threading.Event:
    """Rescans wait for the returned event, then "store" scan 1."""
    release = threading.Event()
    monkeypatch.setattr(actions, "scan_and_store", lambda ctx, entry: release.wait(30) and {"scan_id": 1})
    yield release
    release.set()


@pytest.fixture
def second_worker(portal, tmp_path):
    """Another portal process on the same database."""
    app = build_app(tmp_path, portal.app.config["PRR_CLOCK"])
    yield app
    appstate.shutdown(app)


def _wait_for(api: ApiClient, job_id: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = api.get(f"/api/v1/scan-jobs/{job_id}", headers=headers).json
        if job["state"] in ("succeeded", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def _records(app) -> list[ScanJobRecord]:
    with Session(app.extensions["prr.db"]) as session:
        return list(session.exec(select(ScanJobRecord).order_by(ScanJobRecord.requested_at)))


def test_a_job_queued_by_one_worker_is_seen_and_joined_by_another(portal, second_worker, blocked_scans):
    alice = token(portal.app, "alice")
    one, two = ApiClient(portal.app), ApiClient(second_worker)
    queued = one.post(f"{CHECKOUT}/scans", headers=alice)
    assert queued.status_code == 202
    seen = two.get(queued.headers["Location"], headers=alice)
    assert seen.status_code == 200 and seen.json["id"] == queued.json["id"]
    assert seen.json["state"] in ("queued", "running") and seen.json["requested_by"] == "alice"
    joined = two.post(f"{CHECKOUT}/scans", headers=alice)
    assert joined.status_code == 202 and joined.json["id"] == queued.json["id"]
    blocked_scans.set()
    finished = _wait_for(two, queued.json["id"], alice)
    assert finished["state"] == "succeeded" and finished["scan_id"] == 1 and finished["finished_at"]
    assert len(_records(portal.app)) == 1


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_simultaneous_requests_on_two_workers_make_one_job(
    request,
    make_portal,
    tmp_path,
    blocked_scans,
    backend,
):
    extra = {"database_url": request.getfixturevalue("postgres_url")} if backend == "postgres" else None
    built = make_portal(extra)
    other = build_app(tmp_path, built.app.config["PRR_CLOCK"])
    alice = token(built.app, "alice")
    start = threading.Barrier(8)

    def ask(app) -> str:
        client = app.test_client()
        start.wait()
        response = client.post(f"{CHECKOUT}/scans", headers=alice)
        assert response.status_code == 202, response.json
        return response.json["id"]

    try:
        with ThreadPoolExecutor(8) as pool:
            ids = set(pool.map(ask, [built.app, other] * 4))
        assert len(ids) == 1 and [r.id for r in _records(built.app)] == list(ids)
    finally:
        blocked_scans.set()
        appstate.shutdown(other)


@pytest.mark.parametrize(
    "silent_for, joined",
    [
        (timedelta(seconds=30), True),  # its process is busy scanning: join it
        (timedelta(minutes=1, seconds=59), True),
        (timedelta(minutes=2), False),  # no heartbeat for 2 minutes: its process is gone
        (timedelta(days=3), False),
    ],
)
def test_a_job_left_running_by_a_dead_process_is_not_joined_forever(portal, silent_for, joined):
    clock = portal.app.config["PRR_CLOCK"]
    api, alice = ApiClient(portal.app), token(portal.app, "alice")
    with Session(portal.app.extensions["prr.db"]) as session, session.begin():
        session.add(
            ScanJobRecord(
                id="d" * 32,
                service_ref="component:default/checkout",
                active_ref="component:default/checkout",
                state="running",
                requested_by="bob",
                requested_at=clock.now,
                worker="old-host:4242",
                heartbeat_at=clock.now,
            )
        )
    clock.advance(seconds=silent_for.total_seconds())
    response = api.post(f"{CHECKOUT}/scans", headers=alice)
    assert response.status_code == 202
    assert (response.json["id"] == "d" * 32) is joined
    left = api.get(f"/api/v1/scan-jobs/{'d' * 32}", headers=alice).json
    if joined:
        assert left["state"] == "running" and left["error"] is None
    else:
        assert left["state"] == "failed" and left["finished_at"] is not None
        assert "abandoned" in left["error"] and "old-host:4242" in left["error"]
        assert _wait_for(api, response.json["id"], alice)["state"] == "succeeded"


def test_a_polled_job_of_a_dead_process_ends_as_failed(portal):
    clock = portal.app.config["PRR_CLOCK"]
    api, alice = ApiClient(portal.app), token(portal.app, "alice")
    with Session(portal.app.extensions["prr.db"]) as session, session.begin():
        session.add(
            ScanJobRecord(
                id="e" * 32,
                service_ref="component:default/ledger",
                active_ref="component:default/ledger",
                state="queued",
                requested_by="bob",
                requested_at=clock.now,
                worker="old-host:4242",
                heartbeat_at=clock.now,
            )
        )
    assert api.get(f"/api/v1/scan-jobs/{'e' * 32}", headers=alice).json["state"] == "queued"
    clock.advance(minutes=5)
    assert api.get(f"/api/v1/scan-jobs/{'e' * 32}", headers=alice).json["state"] == "failed"
    assert [r.active_ref for r in _records(portal.app)] == [None]


@pytest.mark.parametrize("beats, joined", [(True, True), (False, False)])
def test_a_live_job_keeps_its_heartbeat(portal, second_worker, blocked_scans, beats, joined):
    """A long scan is not mistaken for an abandoned one while its process keeps beating."""
    alice = token(portal.app, "alice")
    first = ApiClient(portal.app).post(f"{CHECKOUT}/scans", headers=alice).json
    portal.app.config["PRR_CLOCK"].advance(minutes=10)
    if beats:
        appstate.jobs(portal.app).beat()
    again = ApiClient(second_worker).post(f"{CHECKOUT}/scans", headers=alice).json
    assert (again["id"] == first["id"]) is joined


def test_serve_runs_two_workers_by_default(monkeypatch, tmp_path):
    started: dict[str, Any] = {}

    class Server:
        def run(self) -> None:
            started["ran"] = True

    monkeypatch.setattr(cli, "_gunicorn", lambda factory, options: started.update(options) or Server())
    monkeypatch.setattr(cli, "_port_in_use", lambda host, port: False)  # another demo may hold 8000
    monkeypatch.setenv("PRR_SECRET_KEY", "k" * 64)
    config = tmp_path / "prr.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'prr.db'}\n")
    result = CliRunner().invoke(cli.main, ["serve", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert started["ran"] and started["workers"] == 2 and started["bind"] == "127.0.0.1:8000"
    CliRunner().invoke(cli.main, ["serve", "--config", str(config), "--workers", "3"])
    assert started["workers"] == 3
