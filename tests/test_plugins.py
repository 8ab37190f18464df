"""Third-party plugins: discovered through the prr.checks entry points, contained when they misbehave."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PLUGIN_SRC = Path(__file__).parent / "plugins" / "prr-example-plugin"
PRR = [sys.executable, "-m", "prr.cli"]

SCORECARD = """\
apiVersion: prr/v1
kind: Scorecard
id: plugin-test
levels: [bronze, silver]
tiers: {"1": {required_level: silver}}
default_tier: "1"
checks:
  - {id: ownership.catalog, level: bronze}
  - {id: example.readme, level: bronze, params: {min_lines: 2}}
  - {id: testonly.crash, level: silver}
  - {id: testonly.hang, level: silver}
  - {id: testonly.memory-hog, level: silver}
"""


@pytest.fixture(scope="module")
def plugin_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example plugin's source: setuptools builds in it, and its tests run from it."""
    source = tmp_path_factory.mktemp("src") / PLUGIN_SRC.name
    shutil.copytree(PLUGIN_SRC, source)
    return source


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory, plugin_source: Path) -> Path:
    """Install the example plugin package into its own folder, as `pip install` would."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(plugin_source),
        ],
        check=True,
        capture_output=True,
    )
    return target


def with_plugin(plugin_path: Path) -> dict[str, str]:
    """The environment of a process that sees the installed plugin."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin_path), str(Path(__file__).parent.parent)])}


def prr(args: list[str], plugin_path: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        PRR + args, cwd=cwd, env=with_plugin(plugin_path), capture_output=True, text=True, timeout=120
    )


def test_the_plugins_own_tests_pass(plugin_path: Path, plugin_source: Path) -> None:
    """The plugin's tests (written with prr.testing) run against the installed plugin."""
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=plugin_source,
        env=with_plugin(plugin_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and "7 passed" in out.stdout, out.stdout + out.stderr


def test_third_party_check_is_listed(plugin_path: Path, tmp_path: Path) -> None:
    out = prr(["checks", "--format", "json"], plugin_path, tmp_path)
    ids = {c["id"]: c for c in json.loads(out.stdout)}
    assert "example.readme" in ids and "ownership.catalog" in ids
    assert ids["example.readme"]["params_schema"]["properties"]["min_lines"]["default"] == 3


def test_misbehaving_checks_become_errors_and_the_rest_still_run(plugin_path: Path, tmp_path: Path, make_repo) -> None:
    repo = make_repo({"README.md": "# checkout\n\nTakes payments.\n", "catalog-info.yaml": CATALOG})
    (tmp_path / "card.yaml").write_text(SCORECARD)
    (tmp_path / "prr.yaml").write_text("scan: {check_timeout_seconds: 8, check_memory_mb: 600}\n")
    out = prr(
        [
            "gate",
            str(repo.path),
            "--scorecard",
            str(tmp_path / "card.yaml"),
            "--format",
            "json",
            "--config",
            str(tmp_path / "prr.yaml"),
        ],
        plugin_path,
        tmp_path,
    )
    report = json.loads(out.stdout)
    by_id = {c["id"]: c for c in report["checks"]}
    assert by_id["ownership.catalog"]["status"] == "pass"
    assert by_id["example.readme"]["status"] == "pass"  # the third-party check ran, with its params
    assert by_id["testonly.crash"]["status"] == "error"
    assert "RuntimeError: boom" in by_id["testonly.crash"]["summary"]
    assert by_id["testonly.hang"]["status"] == "error"
    assert "timed out after 8s" in by_id["testonly.hang"]["summary"]
    assert by_id["testonly.memory-hog"]["status"] == "error"
    assert "memory" in by_id["testonly.memory-hog"]["summary"]
    # only errors stand between the service and ready: "could not evaluate", not "not ready"
    assert out.returncode == 3, out.stderr


def test_bad_plugin_parameter_is_a_configuration_error(plugin_path: Path, tmp_path: Path, make_repo) -> None:
    repo = make_repo({"README.md": "# x\n"})
    (tmp_path / "card.yaml").write_text(SCORECARD.replace("min_lines: 2", "min_lines: many"))
    out = prr(["gate", str(repo.path), "--scorecard", str(tmp_path / "card.yaml")], plugin_path, tmp_path)
    assert out.returncode == 2
    assert "card.yaml:9" in out.stderr and "example.readme" in out.stderr and "min_lines" in out.stderr


CATALOG = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout
spec:
  type: service
  owner: team-payments
  lifecycle: production
"""
