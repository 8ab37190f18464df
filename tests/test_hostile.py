"""Hostile repositories: symlinks out of the tree, YAML bombs, huge and binary files, odd names.

The scan ends in bounded time with error results naming the file; nothing crashes and nothing
outside the repository is read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
BOMB = (
    "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\n"
    + "a: &a ["
    + ",".join(['"lol"'] * 9)
    + "]\n"
    + "".join(f"{n}: &{n} [{','.join([f'*{p}'] * 9)}]\n" for p, n in zip("abcdefg", "bcdefgh"))
)


def test_a_hostile_repo_yields_errors_not_a_crash(make_repo, tmp_path) -> None:
    repo = make_repo(
        {
            "alerts.yaml": BOMB,
            "big.yaml": "x: " + "a" * 5_000_000 + "\n",
            "deploy/bin.yaml": b"\x00\x01kind: Deployment\n",
            "weird name\nwith newline.yaml": "a: 1\n",
            "deep.yaml": "a: " + "[" * 5000 + "]" * 5000 + "\n",
        }
    )
    repo.symlink("catalog-info.yaml", "/etc/passwd")
    repo.symlink("runbooks/RUNBOOK.md", "../../../../etc/shadow")
    repo.commit(message="hostile")
    out = subprocess.run(
        [sys.executable, "-m", "prr.cli", "gate", str(repo.path), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr
    checks = {c["id"]: c for c in json.loads(out.stdout)["checks"]}
    assert checks["ownership.catalog"]["status"] == "error"
    assert "leaves the repository" in checks["ownership.catalog"]["summary"]
    assert checks["alerts.defined"]["status"] == "error"
    assert "YAML bomb" in checks["alerts.defined"]["summary"]
    assert checks["runbook.present"]["status"] == "error"
    assert "root:x:0:0" not in out.stdout  # /etc/passwd was never read
