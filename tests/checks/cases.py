"""Fixture cases: ``tests/fixtures/checks/<check-id>/<case>/``, each a service repo's files and an
``expected.yaml`` stating what the checks it is meant for conclude (OpenSSF Scorecard's
table-driven model)::

    # why the case exists
    committed_days_ago: 3          # optional: the commit's age at the scan (default 1)
    shallow: true                  # optional: scanned from a depth-1 clone of a later commit
    checks:
      runbook.present:             # one expectation, or a list of them
        status: fail
        summary: "RUNBOOK.md is a stub"   # a fragment only the right reason produces
        evidence: ["RUNBOOK.md:1"]        # optional: path:line (or path) that must be cited
        params: {min_words: 80}           # optional: check parameters
        settings: {}                      # optional: scorecard settings
        config: {}                        # optional: portal config (ctx.config)
        tier: "1"                         # optional (default 1)
        now: 2025-06-01T12:00:00Z         # optional: the scan time (default NOW)
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from prr.testing import RepoBuilder

CASES_DIR = Path(__file__).parent.parent / "fixtures" / "checks"
EXPECTED = "expected.yaml"
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # every scan of a case runs at a fixed time


@dataclass(frozen=True)
class Expectation:
    case: str  # <check-id>/<case>
    check: str
    status: str
    summary: str
    evidence: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)  # params, settings, config, tier
    now: datetime = NOW

    @property
    def id(self) -> str:
        return f"{self.case}:{self.check}:{self.status}"


def case_repo(case: str, tmp_path: Path, now: datetime = NOW) -> RepoBuilder | Path:
    """Commit the files of ``tests/fixtures/checks/<case>/`` (not expected.yaml) into a fresh git
    repo, dated ``committed_days_ago`` (default 1) before ``now``; for a ``shallow`` case, the
    depth-1 clone of a later commit."""
    source = CASES_DIR / case
    meta = _meta(source)
    files = {
        str(p.relative_to(source)): p.read_bytes() for p in source.rglob("*") if p.is_file() and p.name != EXPECTED
    }
    repo = RepoBuilder(tmp_path / case.replace("/", "--"))
    repo.commit(files, f"fixture {case}", date=now - timedelta(days=meta.get("committed_days_ago", 1)))
    if not meta.get("shallow"):
        return repo
    repo.commit({"CHANGELOG.md": "# Changelog\n"}, "later change", date=now - timedelta(hours=1))
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)], check=True)
    return clone


def all_cases() -> list[str]:
    return sorted(str(p.parent.relative_to(CASES_DIR)) for p in CASES_DIR.glob(f"*/*/{EXPECTED}"))


def expectations() -> list[Expectation]:
    found = []
    for case in all_cases():
        for check, items in (_meta(CASES_DIR / case).get("checks") or {}).items():
            for item in items if isinstance(items, list) else [items]:
                now = item.get("now")
                found.append(
                    Expectation(
                        case=case,
                        check=check,
                        status=item["status"],
                        summary=item["summary"],
                        evidence=tuple(item.get("evidence") or ()),
                        options={k: item[k] for k in ("params", "settings", "config", "tier") if k in item},
                        now=datetime.fromisoformat(now.replace("Z", "+00:00")) if now else NOW,
                    )
                )
    return found


def _meta(folder: Path) -> dict[str, Any]:
    path = folder / EXPECTED
    return yaml.safe_load(path.read_text()) or {} if path.exists() else {}
