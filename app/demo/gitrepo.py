"""Build real git repositories with dated history, for the demo fleet and for tests."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

DEFAULT_AUTHOR = ("Demo Dev", "dev@example.com")


class GitRepoBuilder:
    """A git repository on disk; each ``commit`` writes files and records a commit at a date."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._git("init", "-q", "-b", "main")

    def _git(self, *args: str, date: datetime | None = None, author: tuple[str, str] = DEFAULT_AUTHOR) -> str:
        name, email = author
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        if date is not None:
            stamp = date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = stamp
        return subprocess.run(
            ["git", *args], cwd=self.path, env=env, check=True, capture_output=True, text=True
        ).stdout.strip()

    def write(self, files: dict[str, str | bytes | None]) -> None:
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
        files: dict[str, str | bytes | None] | None = None,
        message: str = "change",
        date: datetime | None = None,
        days_ago: float | None = None,
        author: tuple[str, str] | None = None,
    ) -> str:
        """Write ``files`` and commit them at ``date`` (or ``days_ago`` before now); returns the sha."""
        if days_ago is not None:
            date = datetime.now(UTC) - timedelta(days=days_ago)
        self.write(files or {})
        self._git("add", "-A")
        self._git("commit", "-q", "--allow-empty", "-m", message, date=date, author=author or DEFAULT_AUTHOR)
        return self._git("rev-parse", "HEAD")
