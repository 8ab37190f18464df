"""Repo access: git objects at one commit only, no symlink out of the tree, bounded reads, dated history."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest

from prr.repo import FileReadError, HistoryUnavailable, Limits, RepoError, open_snapshot


def test_reads_come_from_the_commit_not_the_working_tree(make_repo) -> None:
    repo = make_repo({"a.txt": "committed\n"})
    (repo.path / "a.txt").write_text("edited, not committed\n")
    (repo.path / "new.txt").write_text("untracked\n")
    snap = open_snapshot(str(repo.path))
    assert snap.read_text("a.txt") == "committed\n"
    assert snap.files() == ["a.txt"] and not snap.exists("new.txt")


@pytest.mark.parametrize(
    "target, readable",
    [
        ("/etc/passwd", False),
        ("../../outside.txt", False),
        ("docs/real.md", True),
        ("docs/../docs/real.md", True),
    ],
)
def test_symlinks_never_leave_the_repo(make_repo, target, readable) -> None:
    repo = make_repo({"docs/real.md": "# inside\n"})
    repo.symlink("link.md", target)
    repo.commit(message="add link")
    snap = open_snapshot(str(repo.path))
    if readable:
        assert snap.read_text("link.md") == "# inside\n"
    else:
        with pytest.raises(FileReadError, match="leaves the repository"):
            snap.read_text("link.md")


def test_size_count_and_binary_limits(make_repo) -> None:
    repo = make_repo(
        {
            "big.json": "x" * 5000,
            "bin.dat": b"\x00\x01\x02" * 10,
            "ok.md": "fine\n",
            **{f"many/f{i}.txt": "." for i in range(30)},
        }
    )
    snap = open_snapshot(str(repo.path), limits=Limits(max_file_bytes=4096, max_files=20))
    assert snap.truncated and len(snap.entries) == 20
    snap = open_snapshot(str(repo.path), limits=Limits(max_file_bytes=4096))
    with pytest.raises(FileReadError, match="over the 4096-byte limit"):
        snap.read_text("big.json")
    with pytest.raises(FileReadError, match="binary file"):
        snap.read_text("bin.dat")
    assert snap.read_text("ok.md") == "fine\n"
    budget = open_snapshot(str(repo.path), limits=Limits(max_total_bytes=6))
    budget.read_text("ok.md")
    with pytest.raises(FileReadError, match="read budget"):
        budget.read_text("ok.md")


def test_glob_patterns(make_repo) -> None:
    repo = make_repo({"runbooks/db/failover.md": "x", "RUNBOOK.md": "x", "docs/runbook-api.md": "x", "src/a.py": "x"})
    snap = open_snapshot(str(repo.path))
    assert snap.glob("runbooks/**/*.md") == ["runbooks/db/failover.md"]
    assert snap.glob("**/*.md") == ["RUNBOOK.md", "docs/runbook-api.md", "runbooks/db/failover.md"]
    assert snap.glob("docs/runbook*.md", "*.py") == ["docs/runbook-api.md"]


def test_last_changed_dates_a_path_from_history(make_repo, now) -> None:
    repo = make_repo({"RUNBOOK.md": "v1\n"}, days_ago=400)
    repo.commit({"src/app.py": "print()\n"}, days_ago=3)
    snap = open_snapshot(str(repo.path))
    assert snap.last_changed("RUNBOOK.md") == now - timedelta(days=400)


def test_a_shallow_clone_cannot_date_old_files(make_repo, tmp_path) -> None:
    repo = make_repo({"RUNBOOK.md": "v1\n"}, days_ago=400)
    repo.commit({"src/app.py": "print()\n"}, days_ago=3)
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(shallow)], check=True)
    snap = open_snapshot(str(shallow))
    with pytest.raises(HistoryUnavailable, match="shallow"):
        snap.last_changed("RUNBOOK.md")


def test_unreadable_locations(tmp_path) -> None:
    with pytest.raises(RepoError, match="no such directory"):
        open_snapshot(str(tmp_path / "missing"))
    with pytest.raises(RepoError, match="not a git repository"):
        open_snapshot(str(tmp_path))


def test_a_blob_missing_from_the_store_is_a_clear_error_for_that_file_only(make_repo) -> None:
    repo = make_repo({"logo.png": b"\x89PNG" + b"x" * 100, "ok.md": "fine\n"})
    blob = subprocess.run(
        ["git", "rev-parse", "HEAD:logo.png"], cwd=repo.path, capture_output=True, text=True
    ).stdout.strip()
    subprocess.run(["git", "repack", "-adq"], cwd=repo.path, check=True)
    for pack in (repo.path / ".git" / "objects" / "pack").glob("*"):  # unpack all but the one blob
        pack.unlink() if pack.suffix in (".idx", ".rev") else None
    for pack in list((repo.path / ".git" / "objects" / "pack").glob("*.pack")):
        data = pack.read_bytes()
        pack.unlink()
        subprocess.run(["git", "unpack-objects", "-q"], cwd=repo.path, input=data, check=True)
    (repo.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    snap = open_snapshot(str(repo.path))
    assert snap.read_text("ok.md") == "fine\n"
    with pytest.raises(FileReadError, match="missing from the git object store"):
        snap.read_bytes("logo.png")


def git(repo_path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo_path, check=True, capture_output=True, text=True).stdout.strip()


@pytest.mark.parametrize(
    "arrange",
    [
        pytest.param(lambda path: None, id="loose ref, loose objects"),
        pytest.param(lambda path: git(path, "pack-refs", "--all"), id="packed ref"),
        pytest.param(lambda path: git(path, "gc", "--quiet"), id="packed objects"),
        pytest.param(lambda path: git(path, "checkout", "--quiet", "--detach"), id="detached HEAD"),
        pytest.param(lambda path: git(path, "worktree", "add", "--quiet", "../other", "HEAD~1"), id="worktree"),
    ],
)
def test_head_is_the_commit_git_names_however_the_repo_keeps_it(make_repo, arrange) -> None:
    repo = make_repo({"a.txt": "one\n"})
    repo.commit({"a.txt": "two\n"}, "second")
    arrange(repo.path)
    with open_snapshot(str(repo.path)) as snapshot:
        assert snapshot.commit == git(repo.path, "rev-parse", "HEAD")
        assert snapshot.read_text("a.txt") == "two\n"
    if (repo.path.parent / "other").exists():
        with open_snapshot(str(repo.path.parent / "other")) as snapshot:
            assert snapshot.commit == git(repo.path, "rev-parse", "HEAD~1")
            assert snapshot.read_text("a.txt") == "one\n"


def test_a_head_that_names_no_commit_is_a_repo_error(make_repo) -> None:
    repo = make_repo({"a.txt": "one\n"})
    blob = git(repo.path, "rev-parse", "HEAD:a.txt")
    (repo.path / ".git" / "refs" / "heads" / git(repo.path, "branch", "--show-current")).write_text(blob + "\n")
    with pytest.raises(RepoError, match="cannot resolve 'HEAD'"):
        open_snapshot(str(repo.path))
