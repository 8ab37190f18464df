"""Long-running processes (the portal, a fleet scan) hold a bounded number of git readers and
database engines, and close the ones they drop."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import text

from prr import repo as repo_access
from prr.closing_cache import ClosingCache
from prr.repo import open_snapshot
from prr.storage import db
from prr.testing import build_repo


def git_readers_in(folder: Path) -> int:
    """How many of this process's `git cat-file` children work in ``folder``."""
    count = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
            cwd = os.readlink(stat.parent / "cwd")
        except (OSError, ValueError, IndexError):
            continue  # the process ended while we looked
        count += ppid == os.getpid() and b"cat-file" in command and cwd.startswith(str(folder))
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


def test_git_readers_beyond_the_bound_are_closed_with_their_processes(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(repo_access, "_readers", ClosingCache(3, close=lambda r: r.close()))
    for n in range(8):
        snapshot = open_snapshot(str(build_repo(tmp_path / f"repo{n}", {"README.md": f"# {n}\n"}).path))
        assert snapshot.read_text("README.md") == f"# {n}\n"  # starts `git cat-file` readers
    assert len(repo_access._readers) == 3
    assert 0 < git_readers_in(tmp_path) <= 3 * 2  # at most a --batch and a --batch-check per open repo
    repo_access._readers.clear()
    assert git_readers_in(tmp_path) == 0


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
