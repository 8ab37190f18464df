"""Test a check on a repository built for the test, the way a scan would run it.

For plugin authors and for prr's own tests::

    from prr.plugin import Status
    from prr.testing import File, days_before, run_check
    from acme_checks.readme import readme

    def test_a_short_readme_fails():
        result = run_check(readme, {"README.md": "# checkout\\n"}, params={"min_lines": 3})
        assert result.status == Status.FAIL

    def test_an_old_runbook_is_stale():
        files = {"RUNBOOK.md": File("# Runbook\\n...", date=days_before(400))}
        assert run_check("runbook.fresh", files).status == Status.FAIL

A mapping of files becomes a real git repository, committed at :data:`NOW` less one day unless a
:class:`File` carries its own commit date. :class:`RepoBuilder` builds a longer history, commit by
commit. Checks see :data:`NOW` as the scan time unless ``now=`` says otherwise, so a test gives
the same answer on any day.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import git

from prr.plugin import Check, CheckContext, Registry, Result, load_registry
from prr.repo import open_snapshot
from prr.service import resolve_service

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
"""The fixed clock of :func:`run_check` and :class:`RepoBuilder`, unless they are given another."""

AUTHOR = ("Dev Eloper", "dev@example.com")
TIERS = ("0", "1", "2")


def days_before(days: float, now: datetime = NOW) -> datetime:
    return now - timedelta(days=days)


@dataclass(frozen=True)
class File:
    """A file's content and the date of the commit that adds it."""

    content: str | bytes
    date: datetime


FileContent = str | bytes | File


class RepoBuilder:
    """A git repository on disk; each :meth:`commit` writes files and records a commit at a date.

    ``now`` is the clock that ``days_ago`` counts back from.
    """

    def __init__(self, path: Path | str, now: datetime = NOW):
        self.path = Path(path)
        self.now = now
        self.path.mkdir(parents=True, exist_ok=True)
        self._git = git.Git(self.path)
        self._run("init", "-q", "-b", "main")

    def _run(self, *args: str, date: datetime | None = None, author: tuple[str, str] = AUTHOR) -> str:
        name, email = author
        env = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_CONFIG_GLOBAL": os.devnull,  # the tester's own git config (hooks, signing) stays out
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        if date is not None:
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
        return str(self._git.execute(["git", *args], env=env)).strip()

    def write(self, files: Mapping[str, str | bytes | None]) -> None:
        """Write (str/bytes) or delete (None) files in the working tree."""
        for rel, content in files.items():
            target = self.path / rel
            if content is None:
                target.unlink(missing_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content)

    def symlink(self, rel: str, target: str) -> None:
        link = self.path / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target)

    def commit(
        self,
        files: Mapping[str, str | bytes | None] | None = None,
        message: str = "change",
        date: datetime | None = None,
        days_ago: float | None = None,
        author: tuple[str, str] | None = None,
    ) -> str:
        """Write ``files`` and commit everything at ``date`` (or ``days_ago`` before ``now``); the sha."""
        if days_ago is not None:
            date = days_before(days_ago, self.now)
        self.write(files or {})
        self._run("add", "-A")
        self._run("commit", "-q", "--allow-empty", "-m", message, date=date or self.now, author=author or AUTHOR)
        return self._run("rev-parse", "HEAD")


def build_repo(path: Path | str, files: Mapping[str, FileContent], now: datetime = NOW) -> RepoBuilder:
    """A repository holding ``files``: one commit per date, oldest first (undated files: a day before ``now``)."""
    builder = RepoBuilder(path, now)
    by_date: dict[datetime, dict[str, str | bytes | None]] = {}
    for rel, content in files.items():
        date = content.date if isinstance(content, File) else days_before(1, now)
        by_date.setdefault(date, {})[rel] = content.content if isinstance(content, File) else content
    for date in sorted(by_date) or [days_before(1, now)]:
        builder.commit(by_date.get(date, {}), f"files of {date:%Y-%m-%d}", date=date)
    return builder


def files_in(folder: Path | str) -> dict[str, bytes]:
    """Every file under ``folder``, by path relative to it: a fixture folder as a mapping of files."""
    root = Path(folder)
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def run_check(
    check: Check | str,
    repo: Path | str | RepoBuilder | Mapping[str, FileContent],
    *,
    params: dict[str, Any] | None = None,
    now: datetime = NOW,
    tier: str = "1",
    settings: dict[str, Any] | None = None,
    config: dict[str, Any] | None = None,
    registry: Registry | None = None,
    live: Any = None,
) -> Result:
    """Run one check in this process on ``repo`` at HEAD, as a scan would, and return its result.

    ``check`` is a :class:`~prr.plugin.Check` or the id of one in ``registry`` (default: the
    installed checks). ``repo`` is a git repository (a path or a :class:`RepoBuilder`) or a
    mapping of files to commit into a fresh one (see :func:`build_repo`; dated from :data:`NOW`
    whatever ``now`` says, so a later ``now`` is a later scan of the same history). ``params`` are validated against the check's
    schema (a :class:`~prr.plugin.ConfigError` when they do not fit) and completed with its
    defaults. The service is held to ``tier`` unless the repo declares one. ``settings`` and
    ``config`` are what the check sees as ``ctx.settings`` and ``ctx.config``; ``live``, as
    ``ctx.live``. Unlike a scan, nothing contains the check: what it raises, the test sees.
    """
    if isinstance(check, str):
        check = (registry or load_registry()).get(check)
    resolved = check.resolve_params(params)
    with ExitStack() as cleanup:
        if isinstance(repo, Mapping):
            scratch = cleanup.enter_context(tempfile.TemporaryDirectory(prefix="prr-testing-"))
            repo = build_repo(scratch, repo)
        snapshot = cleanup.enter_context(open_snapshot(str(repo.path if isinstance(repo, RepoBuilder) else repo)))
        service = resolve_service(snapshot, tier_override=None, known_tiers=set(TIERS), default_tier=tier)
        context = CheckContext(
            repo=snapshot,
            service=service,
            params=resolved,
            now=now,
            settings=settings or {},
            config=config or {},
            live=live,
        )
        return check.run(context)
