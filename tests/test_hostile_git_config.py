"""A repository's git config cannot make `prr` run anything: fsmonitor, hooks, filters and diff
drivers it names are neutralised for every git command a scan or the gate runs."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path


def test_gate_runs_nothing_the_repos_git_config_names(make_repo, tmp_path: Path) -> None:
    repo = make_repo(
        {
            "catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: evil}\n",
            "README.md": "# evil\n",
            ".gitattributes": "* filter=evil diff=evil\n",
        }
    )
    marker = tmp_path / "pwned"
    payload = tmp_path / "payload.sh"
    payload.write_text(f'#!/bin/sh\necho "$0 $*" >> {marker}\ncat\n')
    payload.chmod(payload.stat().st_mode | stat.S_IEXEC)
    git_dir = repo.path / ".git"
    for key in (
        "core.fsmonitor",
        "filter.evil.clean",
        "filter.evil.smudge",
        "filter.evil.process",
        "diff.evil.textconv",
        "diff.evil.command",
        "diff.external",
        "core.pager",
    ):
        subprocess.run(["git", "config", "--file", str(git_dir / "config"), key, str(payload)], check=True)
    hooks = git_dir / "hooks"
    hooks.mkdir(exist_ok=True)
    for hook in ("post-index-change", "pre-commit", "post-checkout", "reference-transaction"):
        (hooks / hook).write_text(payload.read_text())
        (hooks / hook).chmod(0o755)
    (repo.path / "README.md").write_text("# evil, edited after the commit\n")  # status must look at it

    out = subprocess.run(
        [sys.executable, "-m", "prr.cli", "gate", str(repo.path)], capture_output=True, text=True, timeout=120
    )

    assert not marker.exists(), f"the repo's config ran a program: {marker.read_text()}"
    assert out.returncode in (0, 1), out.stderr
    assert "uncommitted changes" in out.stderr
    assert "component:default/evil" in out.stdout
