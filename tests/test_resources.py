"""Long-running processes (the portal, a fleet scan, a worker) keep no git reader past its scan and
a bounded number of database engines, and close the ones they drop."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import text

from prr.closing_cache import ClosingCache
from prr.config import DEFAULTS, Config
from prr.fleet import FleetEntry, scan_entry
from prr.plugin import load_registry
from prr.repo import open_snapshot
from prr.scorecard import load_scorecard
from prr.storage import db
from prr.testing import NOW, build_repo


def git_readers_in(folder: Path) -> int:
    """How many `git cat-file` processes (this process's, or its check workers') read in ``folder``."""
    count = 0
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes()
        except OSError:
            continue  # the process ended while we looked
        count += b"cat-file" in command and f"--git-dir={folder}".encode() in command
    return count


def open_files_under(folder: Path) -> int:
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        try:
            count += os.readlink(fd).startswith(str(folder))
        except OSError:
            continue
    return count


def test_the_cache_closes_the_least_recently_used_and_everything_at_clear() -> None:
    closed: list[str] = []
    cache: ClosingCache[str, str] = ClosingCache(2, close=closed.append)
    cache.get("a", lambda: "A")
    cache.get("b", lambda: "B")
    cache.get("a", lambda: "never made")  # a is now the most recently used
    cache.get("c", lambda: "C")
    assert closed == ["B"]
    cache.discard("a")
    assert closed == ["B", "A"]
    cache.clear()
    assert closed == ["B", "A", "C"] and len(cache) == 0


def test_a_forked_child_forgets_its_parents_values_without_closing_them() -> None:
    closed: list[str] = []
    cache: ClosingCache[str, str] = ClosingCache(2, close=closed.append)
    cache.get("a", lambda: "parent's")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child reports what it saw and closed, then leaves without cleanup
        value = cache.get("a", lambda: "child's")
        cache.clear()
        os.write(write, f"{value}|{','.join(closed)}".encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    assert os.read(read, 100).decode() == "child's|child's"
    assert closed == [] and cache.get("a", lambda: "x") == "parent's"


def test_a_snapshots_git_reader_ends_with_it(tmp_path) -> None:
    for n in range(4):
        with open_snapshot(str(build_repo(tmp_path / f"repo{n}", {"README.md": f"# {n}\n"}).path)) as snapshot:
            assert snapshot.read_text("README.md") == f"# {n}\n"  # reads through `git cat-file --batch`
            assert git_readers_in(tmp_path) == 1
        assert git_readers_in(tmp_path) == 0
    forgotten = open_snapshot(str(tmp_path / "repo0"))
    assert forgotten.read_text("README.md") == "# 0\n" and git_readers_in(tmp_path) == 1
    del forgotten  # never closed: collecting it ends its reader
    assert git_readers_in(tmp_path) == 0


def test_a_fleet_scan_leaves_no_git_process_behind(tmp_path) -> None:
    registry = load_registry()
    card = load_scorecard("production-readiness", registry)
    config = Config({**DEFAULTS})
    for n in range(3):
        repo = build_repo(tmp_path / f"svc{n}", {"README.md": "# svc\n", "docs/runbook.md": "# Runbook\n"})
        report = scan_entry(FleetEntry(str(repo.path)), config, card, registry, now=NOW)
        assert report["checks"] and git_readers_in(tmp_path) == 0


def test_database_engines_beyond_the_bound_are_disposed(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(db, "_engines", ClosingCache(2, close=lambda e: e.dispose()))
    for n in range(4):
        folder = tmp_path / f"db{n}"
        folder.mkdir()
        with db.get_engine(f"sqlite:///{folder / 'prr.db'}").connect() as connection:
            connection.execute(text("SELECT 1"))  # the pool keeps the connection open
    assert [open_files_under(tmp_path / f"db{n}") > 0 for n in range(4)] == [False, False, True, True]
    db._engines.clear()
    assert open_files_under(tmp_path) == 0
