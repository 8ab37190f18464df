"""The demo fleet: a dozen example service repos of one e-commerce company, with a portal config.

``create_demo_fleet(dest)`` writes ``dest/repos/<name>/`` (real git repos whose history is dated
relative to ``now``) and ``dest/prr.yaml``. What a scan should conclude for each repo is in
``EXPECTED`` (see ``app/demo/repos.py`` for the table and the reasons).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prr.demo.repos import BROKEN_YAML, EXPECTED, REPOS, TEAMS, TEMPLATED, author_of
from prr.demo.templates import central_alertmanager_config, dump
from prr.testing import RepoBuilder

__all__ = ["BROKEN_YAML", "CONFIG_NAME", "EXPECTED", "REPOS", "SIGN_IN_USERS", "TEMPLATED", "create_demo_fleet"]

CONFIG_NAME = "prr.yaml"
CENTRAL_ALERTMANAGER = "alertmanager/alertmanager.yml"  # the platform team's, named in prr.yaml
# The users `prr demo tokens` signs in as, and what each may do in the demo portal.
SIGN_IN_USERS = {
    "sre-lead": "approver: waivers and sign-offs",
    "checkout-dev": "owner of checkout (team-checkout): attestations and rescans",
}


def create_demo_fleet(dest: Path, now: datetime | None = None, force: bool = False) -> Path:
    """Build the fleet under ``dest`` and return the path of its portal config.

    Refuses to overwrite an existing fleet unless ``force``, which wipes what an earlier run
    created (``repos/``, ``prr.yaml``, ``prr.db``, the central Alertmanager config) and builds it
    again.
    """
    dest = Path(dest).resolve()
    now = (now or datetime.now(UTC)).astimezone(UTC)
    repos, config, database = dest / "repos", dest / CONFIG_NAME, dest / "prr.db"
    central = dest / CENTRAL_ALERTMANAGER
    if repos.exists() or config.exists():
        if not force:
            raise FileExistsError(f"{dest} already holds a demo fleet; pass force=True to rebuild it")
        shutil.rmtree(repos, ignore_errors=True)
        for path in (config, central, database, dest / "prr.db-wal", dest / "prr.db-shm"):
            path.unlink(missing_ok=True)
    for name, build in REPOS.items():
        repo = RepoBuilder(repos / name, now)
        for commit in sorted(build(now), key=lambda c: -c.days_ago):
            repo.commit(
                commit.files,
                commit.message,
                date=now - timedelta(days=commit.days_ago),
                author=author_of(name, commit.message),
            )
    central.parent.mkdir(parents=True, exist_ok=True)
    central.write_text(central_alertmanager_config(TEAMS))
    config.write_text(
        dump(
            {
                "database_url": f"sqlite:///{database}",
                "scorecard": "production-readiness",
                "fleet": [{"repo": f"{repos}/*"}],
                # services without an Alertmanager config of their own are routed by the central one
                "routing": {"alertmanager_config": CENTRAL_ALERTMANAGER},
                # who may write in the demo portal (tokens from `prr demo tokens` or `prr token create`)
                "auth": {
                    "roles": {"approver": {"users": ["sre-lead"]}, "admin": {"users": ["platform-admin"]}},
                    "teams": {"team-checkout": ["checkout-dev"]},
                },
            },
            header="# PRR portal config for the demo fleet (app/demo).\n",
        )
    )
    return config
