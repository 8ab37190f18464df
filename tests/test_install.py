"""What `pip install` puts on disk: one top-level package, `prr`, carrying its data files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["pyproject.toml", "README.md", "app", "checks", "schemas", "scorecards"]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project installed (not editable, no dependencies, no network) into a folder of its own."""
    source, target = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("site")
    for name in SOURCES:  # a copy: setuptools builds inside the source folder
        copy = shutil.copytree if (ROOT / name).is_dir() else shutil.copy2
        copy(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target", str(target), str(source)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return target


def names(folder: Path, pattern: str) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.glob(pattern)}


@pytest.mark.slow
def test_the_only_top_level_package_is_prr(installed: Path) -> None:
    top = {p.name for p in installed.iterdir() if p.name != "bin"}  # bin: the `prr` command
    assert top == {"prr", "prr_portal-0.1.0.dist-info"}
    assert (installed / "prr_portal-0.1.0.dist-info" / "top_level.txt").read_text().split() == ["prr"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "installed_as, source, pattern",
    [
        ("prr/schemas", "schemas", "*.json"),
        ("prr/schemas", "schemas", "*.yaml"),
        ("prr/scorecards", "scorecards", "*.yaml"),
        ("prr/templates", "app/templates", "**/*.html"),
        ("prr/static", "app/static", "*"),
        ("prr/migrations", "app/migrations", "**/*.py"),
        ("prr/migrations", "app/migrations", "script.py.mako"),
        ("prr/checks", "checks", "**/*.py"),
    ],
)
def test_data_files_travel_inside_the_package(installed: Path, installed_as: str, source: str, pattern: str) -> None:
    shipped = names(ROOT / source, pattern)
    assert shipped and names(installed / installed_as, pattern) == shipped


@pytest.mark.slow
def test_the_plugin_api_imports_from_the_install(installed: Path, tmp_path: Path) -> None:
    code = "import prr.plugin, prr.testing; print(prr.plugin.__file__); print('runbook.present' in prr.plugin.load_registry())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(installed)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    where, builtin_found = out.stdout.split()
    assert Path(where).is_relative_to(installed) and builtin_found == "True"
