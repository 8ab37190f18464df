"""The demo fleet: a dozen example service repos of one e-commerce company, with a portal config.

``create_demo_fleet(dest)`` writes ``dest/repos/<name>/`` (real git repos whose history is dated
relative to ``now``) and ``dest/prr.yaml``. What a scan should conclude for each repo is in
``EXPECTED`` (see ``app/demo/repos.py`` for the table and the reasons).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prr.demo.gitrepo import GitRepoBuilder
from prr.demo.repos import BROKEN_YAML, EXPECTED, REPOS, TEMPLATED, author_of
from prr.demo.templates import dump

__all__ = ["BROKEN_YAML", "EXPECTED", "REPOS", "TEMPLATED", "GitRepoBuilder", "create_demo_fleet"]

CONFIG_NAME = "prr.yaml"


def create_demo_fleet(dest: Path, now: datetime | None = None, force: bool = False) -> Path:
    """Build the fleet under ``dest`` and return the path of its portal config.

    Refuses to overwrite an existing fleet unless ``force``, which wipes what an earlier run
    created (``repos/``, ``prr.yaml``, ``prr.db``) and builds it again.
    """
    dest = Path(dest).resolve()
    now = (now or datetime.now(UTC)).astimezone(UTC)
    repos, config, database = dest / "repos", dest / CONFIG_NAME, dest / "prr.db"
    if repos.exists() or config.exists():
        if not force:
            raise FileExistsError(f"{dest} already holds a demo fleet; pass force=True to rebuild it")
        shutil.rmtree(repos, ignore_errors=True)
        for path in (config, database, dest / "prr.db-wal", dest / "prr.db-shm"):
            path.unlink(missing_ok=True)
    for name, build in REPOS.items():
        repo = GitRepoBuilder(repos / name)
        for commit in sorted(build(now), key=lambda c: -c.days_ago):
            repo.commit(
                commit.files,
                commit.message,
                date=now - timedelta(days=commit.days_ago),
                author=author_of(name, commit.message),
            )
    config.write_text(
        dump(
            {
                "database_url": f"sqlite:///{database}",
                "scorecard": "production-readiness",
                "fleet": [{"repo": f"{repos}/*"}],
                # who may write in the demo portal (with a token from `prr token create`)
                "auth": {"roles": {"approver": {"users": ["sre-lead"]}, "admin": {"users": ["platform-admin"]}}},
            },
            header="# PRR portal config for the demo fleet (app/demo).\n",
        )
    )
    return config
