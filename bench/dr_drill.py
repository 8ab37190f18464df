"""A real disaster-recovery drill of the portal's database, timed (`make dr-drill`).

It follows the runbook's "Database lost: restore from backup" procedure on the local PostgreSQL
server (127.0.0.1:5432, trust auth):

1. scan the demo fleet into a new database and serve the portal from it;
2. dump the database (`pg_dump --format=custom`) — the backup;
3. write after the backup (a waiver), which the restore must lose;
4. the disaster: drop the database;
5. restore the dump into another database, upgrade it, serve the portal from it — the recovery;
6. check that every service's scorecard is as it was at the backup and the later waiver is gone.

It prints the measured recovery time (step 5 until the restored portal answers every scorecard)
and the data lost (the age of the backup when the database was dropped), ready to be recorded as
a drill in ``readiness.yaml``. Every server it starts listens on 127.0.0.1 and is stopped.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

PG = "postgresql://postgres@127.0.0.1:5432"
BIN = Path(sys.executable).parent


def run(*args: str, **kwargs: object) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs).stdout  # type: ignore[call-overload]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, token: str | None = None, body: dict | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=10) as response:
        return json.load(response)


class Portal:
    """`prr serve` on a free loopback port, stopped on exit."""

    def __init__(self, config: Path, database_url: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PRR_DATABASE_URL": database_url}
        self.process = subprocess.Popen(
            [str(BIN / "prr"), "serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(config.parent / f"portal-{self.port}.log", "w"),  # noqa: SIM115  (closed with the process)
        )

    def wait_healthy(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=1).read()
                return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("the portal did not answer /healthz in time")

    def scorecards(self) -> dict[str, dict]:
        services = get(f"{self.base}/api/v1/services?per_page=200")["items"]
        return {
            s["ref"]: get(f"{self.base}/api/v1/entities/{s['kind']}/{s['namespace']}/{s['name']}/scorecard")
            for s in services
        }

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def verdicts(scorecards: dict[str, dict]) -> dict[str, tuple]:
    return {
        ref: (card["level"], card["score"], card["ready"], [(c["id"], c["met"], c["waived"]) for c in card["checks"]])
        for ref, card in scorecards.items()
    }


def main() -> None:
    suffix = f"{os.getpid()}"
    source_db, restored_db = f"prr_drill_src_{suffix}", f"prr_drill_restored_{suffix}"
    work = Path(tempfile.mkdtemp(prefix="prr-dr-drill-"))
    config = work / "demo" / "prr.yaml"
    run(str(BIN / "prr"), "demo", "create", str(work / "demo"), "--force")
    run("createdb", "-h", "127.0.0.1", "-U", "postgres", source_db)
    env = {**os.environ, "PRR_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{source_db}"}
    run(str(BIN / "prr"), "scan", "--config", str(config), env=env)
    token = run(
        str(BIN / "prr"), "token", "create", "--config", str(config), "--user", "sre-lead", "--name", "drill", env=env
    )
    token = token.strip().splitlines()[-1]
    portal = Portal(config, env["PRR_DATABASE_URL"])
    try:
        portal.wait_healthy()
        at_backup = verdicts(portal.scorecards())
        dump = work / "prr.dump"
        backup_taken = time.monotonic()
        run("pg_dump", "--format=custom", "--file", str(dump), f"{PG}/{source_db}")
        failing = next(
            (ref, c["id"]) for ref, card in portal.scorecards().items() for c in card["checks"] if c["met"] is False
        )
        kind, rest = failing[0].split(":", 1)
        namespace, name = rest.split("/")
        get(
            f"{portal.base}/api/v1/entities/{kind}/{namespace}/{name}/waivers",
            token,
            {
                "check": failing[1],
                "reason": "written after the backup: the restore must lose it",
                "expires": (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
        )
    finally:
        portal.stop()

    run("dropdb", "-h", "127.0.0.1", "-U", "postgres", source_db)  # the disaster
    data_lost_seconds = time.monotonic() - backup_taken

    recovery_started = time.monotonic()
    run("createdb", "-h", "127.0.0.1", "-U", "postgres", restored_db)
    run("pg_restore", "--no-owner", "--dbname", f"{PG}/{restored_db}", str(dump))
    restored_url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{restored_db}"
    run(
        str(BIN / "prr"), "db", "upgrade", "--config", str(config), env={**os.environ, "PRR_DATABASE_URL": restored_url}
    )
    portal = Portal(config, restored_url)
    try:
        portal.wait_healthy()
        after_restore = verdicts(portal.scorecards())
        recovery_seconds = time.monotonic() - recovery_started
    finally:
        portal.stop()
        run("dropdb", "-h", "127.0.0.1", "-U", "postgres", restored_db)

    identical = after_restore == at_backup
    print(f"drill date: {datetime.now(UTC):%Y-%m-%d}")
    print(f"services restored: {len(after_restore)}; scorecards identical to the backup: {identical}")
    print(f"waiver written after the backup lost as expected: {after_restore[failing[0]] == at_backup[failing[0]]}")
    print(f"measured RTO: {recovery_seconds:.1f}s (restore start to the portal serving every scorecard)")
    print(f"measured RPO: {data_lost_seconds:.1f}s (age of the backup when the database was dropped)")
    if not identical:
        raise SystemExit("the restored portal does not serve what was backed up")


if __name__ == "__main__":
    main()
