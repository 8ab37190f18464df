"""Benchmark: a fleet of 500 realistic repos, scanned the embedded way and on Celery workers.

    make bench-scale        # or: .venv/bin/python bench/scale.py [--repos 500] [--fleet DIR]

Each repo is a demo fleet repo (catalog, SLO specs, alert rules, manifests, runbook, CI, with its
dated history) renamed to a service of its own, plus filler source files up to ~150 files. The
fleet is built once under --fleet and reused by later runs.

Figures are ratios measured in the same run, so they hold across machines:
  scan / floor        cold scan per repo (one worker, SQLite) / the floor: the same repo's
                      non-filler blobs read with one `git cat-file --batch` and its YAML parsed
                      with the C loader
  cold / unchanged    cold scan of the fleet / a rescan of the unchanged fleet (the earlier
                      reports re-stamped; `prr scan --changed` skips them all), each stored; and
                      the same without storing (the engine's part)
  2 / 1 workers       throughput of two `prr worker` processes / one, through Redis into PostgreSQL
  peak worker memory  of one `prr worker` and its processes over the whole fleet: summed PSS (each
                      shared page counted once) and summed RSS (shared pages counted per process)
Needs Redis on 127.0.0.1:6379 and PostgreSQL on 127.0.0.1:5432 (database `test`) for the workers.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
import sqlalchemy as sa
import yaml

from prr.actions import scan_and_store
from prr.config import DEFAULTS, Config
from prr.context import ReadContext
from prr.demo.repos import REPOS, author_of
from prr.fleet import expand_fleet, latest_report, moved_since_last_scan, scan_entry, scan_fleet
from prr.plugin import load_registry
from prr.scorecard import load_scorecard
from prr.served import scan_sources
from prr.storage.db import migrate
from prr.testing import RepoBuilder

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FILES_PER_REPO = 150
FILLER = "src/internal/"  # filler source files live here; the floor does not read them
POSTGRES = os.environ.get("PRR_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("PRR_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


# --------------------------------------------------------------------------- the fleet


def build_fleet(root: Path, count: int) -> list[Path]:
    """``count`` repos under ``root``: demo repos in turn, each renamed and padded with filler."""
    done = root / f".built-{count}"
    repos = [root / f"{name}-{i:03d}" for i, name in ((i, list(REPOS)[i % len(REPOS)]) for i in range(count))]
    if done.exists():
        return repos
    for path in repos:
        template, number = path.name.rsplit("-", 1)
        build_repo(path, template, f"{template}-{number}")
    done.touch()
    return repos


def build_repo(path: Path, template: str, name: str) -> None:
    commits = sorted(REPOS[template](NOW), key=lambda c: -c.days_ago)
    files: set[str] = set()
    repo = RepoBuilder(path, NOW)
    for index, commit in enumerate(commits):
        renamed = {p: None if c is None else c.replace(template, name) for p, c in commit.files.items()}
        files |= {p for p, c in renamed.items() if c is not None}
        if index == 0:
            renamed |= filler(name, FILES_PER_REPO - len(files) - 10)
        repo.commit(
            renamed, commit.message, date=NOW - timedelta(days=commit.days_ago), author=author_of(name, commit.message)
        )


def filler(name: str, count: int) -> dict[str, str | bytes | None]:
    module = name.replace("-", "_")
    return {
        f"{FILLER}{module}/pkg{i // 20}/mod{i}.py": (
            f'"""{name}: module {i}."""\n\n\ndef handle_{i}(request: dict) -> dict:\n'
            f'    return {{"service": "{name}", "module": {i}, **request}}\n' * 4
        )
        for i in range(max(0, count))
    }


# --------------------------------------------------------------------------- the floor


def floor_seconds(repos: list[Path]) -> float:
    """Read each repo's non-filler blobs with one `git cat-file --batch` and parse its YAML (C loader)."""
    started = time.perf_counter()
    for repo in repos:
        listing = subprocess.run(
            ["git", "ls-tree", "-r", "-z", "HEAD"], cwd=repo, capture_output=True, check=True
        ).stdout.split(b"\0")
        wanted = []
        for line in filter(None, listing):
            meta, path = line.split(b"\t", 1)
            if not path.decode().startswith(FILLER):
                wanted.append((path.decode(), meta.split()[2]))
        batch = subprocess.run(
            ["git", "cat-file", "--batch"],
            cwd=repo,
            input=b"".join(sha + b"\n" for _path, sha in wanted),
            capture_output=True,
            check=True,
        ).stdout
        offset = 0
        for path, _sha in wanted:
            header_end = batch.index(b"\n", offset)
            size = int(batch[offset:header_end].split()[2])
            blob = batch[header_end + 1 : header_end + 1 + size]
            offset = header_end + 1 + size + 1
            if path.endswith((".yaml", ".yml")):
                with contextlib.suppress(yaml.YAMLError):  # the scan reports broken files; the floor skips them
                    list(yaml.load_all(blob, Loader=yaml.CSafeLoader))
    return time.perf_counter() - started


# --------------------------------------------------------------------------- embedded scans


def embedded_context(root: Path, database_url: str) -> ReadContext:
    registry = load_registry()
    config = Config({**DEFAULTS, "database_url": database_url, "fleet": [{"repo": f"{root}/*"}]})
    return ReadContext(
        engine=migrate(database_url),
        config=config,
        registry=registry,
        scorecard=load_scorecard(config.scorecard, registry),
        now=NOW,
    )


def scan_seconds(ctx: ReadContext, workers: int) -> float:
    started = time.perf_counter()
    outcomes = scan_fleet(expand_fleet(ctx.config), lambda entry: scan_and_store(ctx, entry), workers=workers)
    failed = [o for o in outcomes if o.error]
    assert not failed, failed[:3]
    return time.perf_counter() - started


def engine_seconds(ctx: ReadContext, reuse: bool) -> float:
    """The fleet's scans without storing them (one worker): the engine's part of a scan. With
    ``reuse``, each is given the service's latest stored report, as a rescan is."""
    config, answers = scan_sources(ctx)
    started = time.perf_counter()
    for entry in expand_fleet(ctx.config):
        previous = latest_report(ctx.engine, entry) if reuse else None
        scan_entry(entry, config, ctx.scorecard, ctx.registry, now=ctx.now, attestations=answers, reuse_from=previous)
    return time.perf_counter() - started


# --------------------------------------------------------------------------- Celery workers


class MemorySampler(threading.Thread):
    """The peak summed RSS and summed PSS (MiB) of the processes in the given process groups.

    Summed RSS counts a page shared by several processes once per process: the pages check
    processes share with their fork server, and the whole address space of a process that has just
    spawned git (a vfork child shares its parent's until it execs). Summed PSS splits each shared
    page among its sharers: it is the memory the processes take together.
    """

    def __init__(self, groups: list[int]):
        super().__init__(daemon=True)
        self.groups, self.stop = set(groups), threading.Event()
        self.peak_rss = self.peak_pss = 0.0

    def run(self) -> None:
        while not self.stop.wait(0.1):
            members = self.members()
            self.peak_rss = max(self.peak_rss, sum(memory_mib(pid, "VmRSS:", "status") for pid in members))
            self.peak_pss = max(self.peak_pss, sum(memory_mib(pid, "Pss:", "smaps_rollup") for pid in members))

    def members(self) -> list[int]:
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    if os.getpgid(int(entry)) in self.groups:
                        found.append(int(entry))
                except ProcessLookupError:
                    pass
        return found


def memory_mib(pid: int, field: str, source: str) -> float:
    """A ``kB`` figure of /proc/<pid>/<source> (``VmRSS:`` of status, ``Pss:`` of smaps_rollup), in MiB."""
    try:
        for line in Path(f"/proc/{pid}/{source}").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def celery_run(root: Path, workers: int, tmp: Path) -> tuple[float, MemorySampler]:
    """Seconds for ``workers`` `prr worker` processes to store the whole fleet; their memory."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES)
    with admin.begin() as conn:
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    config = tmp / f"celery-{workers}.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "database_url": url,
                "fleet": [{"repo": f"{root}/*"}],
                "queue": {"broker_url": REDIS, "key_prefix": f"{schema}:"},
            }
        )
    )
    engine = migrate(url)
    prr = [sys.executable, "-m", "prr.cli"]
    procs = [
        subprocess.Popen(
            [*prr, "worker", "--config", str(config), "--concurrency", "1", "--loglevel", "warning"],
            stdout=(tmp / f"worker-{workers}-{i}.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for i in range(workers)
    ]
    try:
        time.sleep(8)  # workers connected and waiting
        sampler = MemorySampler([p.pid for p in procs])
        sampler.start()
        expected = len(expand_fleet(Config({**DEFAULTS, "fleet": [{"repo": f"{root}/*"}]})))
        started = time.perf_counter()
        subprocess.run([*prr, "scan", "--queue", "--config", str(config)], check=True, capture_output=True)
        while count_scans(engine) < expected:
            assert all(p.poll() is None for p in procs), "a worker died"
            time.sleep(0.5)
        seconds = time.perf_counter() - started
        sampler.stop.set()
        return seconds, sampler
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            p.wait(30)
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
        broker = redis.Redis.from_url(REDIS)
        for key in broker.scan_iter(match=f"{schema}:*"):
            broker.delete(key)
        broker.close()


def count_scans(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM scan")).scalar_one())


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repos", type=int, default=500)
    parser.add_argument("--fleet", type=Path, default=Path(tempfile.gettempdir()) / "prr-bench-fleet")
    parser.add_argument("--skip-celery", action="store_true", help="Only the embedded figures.")
    args = parser.parse_args()

    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    built = time.perf_counter()
    repos = build_fleet(args.fleet, args.repos)
    print(
        f"fleet: {len(repos)} repos, ~{FILES_PER_REPO} files each, under {args.fleet} ({time.perf_counter() - built:.0f} s)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        floor = floor_seconds(repos) / len(repos)
        ctx = embedded_context(args.fleet, f"sqlite:///{tmp}/one.db")
        cold = scan_seconds(ctx, workers=1)
        per_repo = cold / len(repos)
        print(f"floor              {floor * 1000:7.1f} ms/repo")
        print(
            f"cold scan, 1 worker{per_repo * 1000:7.1f} ms/repo   scan / floor = {per_repo / floor:.2f}x  (target <= 2.5x)"
        )
        rescan = scan_seconds(ctx, workers=1)
        print(
            f"unchanged rescan   {rescan / len(repos) * 1000:7.1f} ms/repo   cold / rescan = {cold / rescan:.1f}x  (target >= 20x)"
        )
        engine_cold, engine_rescan = engine_seconds(ctx, reuse=False), engine_seconds(ctx, reuse=True)
        print(
            f"  the engine's part (not storing): cold {engine_cold / len(repos) * 1000:.1f} ms/repo, "
            f"rescan {engine_rescan / len(repos) * 1000:.1f} ms/repo, cold / rescan = {engine_cold / engine_rescan:.1f}x"
        )
        started = time.perf_counter()
        moved = moved_since_last_scan(expand_fleet(ctx.config), ctx.engine, ctx.config, ctx.scorecard)
        changed = time.perf_counter() - started
        print(
            f"scan --changed     {changed / len(repos) * 1000:7.1f} ms/repo   cold / --changed = {cold / changed:.1f}x  ({len(moved)} moved)"
        )
        embedded = embedded_context(args.fleet, f"sqlite:///{tmp}/two.db")
        two = scan_seconds(embedded, workers=2)
        print(f"embedded default, 2 workers: {two:.1f} s for the fleet ({len(repos) / two:.1f} repos/s)")
        if not args.skip_celery:
            one_worker, memory = celery_run(args.fleet, 1, Path(tmp))
            two_workers, _ = celery_run(args.fleet, 2, Path(tmp))
            print(f"celery, 1 worker   {one_worker:7.1f} s   ({len(repos) / one_worker:.1f} repos/s)")
            print(
                f"celery, 2 workers  {two_workers:7.1f} s   2 / 1 workers = {one_worker / two_workers:.2f}x  (target >= 1.8x)"
            )
            print(
                f"peak memory of a worker and its processes: {memory.peak_pss:.0f} MiB summed PSS, "
                f"{memory.peak_rss:.0f} MiB summed RSS  (target <= 300 MiB)"
            )
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
