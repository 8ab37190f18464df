"""`prr gate` and `prr scan` run without the web stack: Flask is never imported by the core or the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from prr.testing import RepoBuilder

# Runs the CLI in this interpreter, then reports which web modules got imported along the way.
PROBE = """
import runpy, sys
sys.argv = ["prr", *sys.argv[1:]]
try:
    runpy.run_module("prr.cli", run_name="__main__")
except SystemExit as exit:
    code = exit.code
print("WEB-MODULES:", sorted(m for m in sys.modules if m.split(".")[0] in ("flask", "werkzeug", "flask_wtf")))
print("EXIT:", code)
"""


@pytest.fixture
def service_repo(tmp_path: Path) -> Path:
    RepoBuilder(tmp_path / "repos" / "checkout").commit(
        {"catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: checkout}\n"},
        "catalog",
    )
    return tmp_path / "repos" / "checkout"


@pytest.mark.parametrize(("command", "exit_code"), [("gate", 1), ("scan", 0)])  # gate: not ready; scan: stored
def test_the_cli_never_imports_flask(tmp_path: Path, service_repo: Path, command: str, exit_code: int) -> None:
    config = tmp_path / "prr.yaml"
    config.write_text(
        yaml.safe_dump({"database_url": f"sqlite:///{tmp_path / 'prr.db'}", "fleet": [{"repo": "repos/*"}]})
    )
    args = [str(service_repo)] if command == "gate" else []
    run = subprocess.run(
        [sys.executable, "-c", PROBE, command, *args, "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert f"EXIT: {exit_code}" in run.stdout, run.stdout + run.stderr
    assert "WEB-MODULES: []" in run.stdout, run.stdout
