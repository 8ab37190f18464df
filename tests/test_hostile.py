"""Hostile repositories: symlinks out of the tree, YAML bombs, huge and binary files, odd names.

The scan ends in bounded time with error results naming the file; nothing crashes and nothing
outside the repository is read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from prr.config import load_config
from prr.fleet import FleetEntry, scan_fleet
from prr.testing import AUTHOR as AUTHOR_NAME_EMAIL
from prr.web import create_app
from tests.portal_fixtures import catalog

ROOT = Path(__file__).parent.parent
AUTHOR = dict(zip(("NAME", "EMAIL"), AUTHOR_NAME_EMAIL))
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
    out = gate(repo.path, cwd=tmp_path)
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr
    checks = {c["id"]: c for c in json.loads(out.stdout)["checks"]}
    assert checks["ownership.catalog"]["status"] == "error"
    assert "leaves the repository" in checks["ownership.catalog"]["summary"]
    assert checks["alerts.defined"]["status"] == "error"
    assert "YAML bomb" in checks["alerts.defined"]["summary"]
    assert checks["runbook.present"]["status"] == "error"
    assert "root:x:0:0" not in out.stdout  # /etc/passwd was never read


# --------------------------------------------------------------------------- damaged and unusual repos

CATALOG = catalog("svc", "team-a", "1")
SECRET = "smuggled-from-outside"  # written where a scan must never read


def git(repo: Path, *args: str, stdin: str | None = None) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    env |= {f"GIT_{who}_{what}": value for who in ("AUTHOR", "COMMITTER") for what, value in AUTHOR.items()}
    done = subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True, text=True, env=env, check=True)
    return done.stdout.strip()


def damage(repo: Path, spec: str) -> None:
    """Empty the loose object file of ``spec`` (e.g. ``HEAD:catalog-info.yaml``), as a bad disk would."""
    sha = git(repo, "rev-parse", spec)
    (repo / ".git" / "objects" / sha[:2] / sha[2:]).write_bytes(b"")


def non_utf8(make_repo, tmp_path: Path) -> Path:
    """File names and contents that are not UTF-8; a broken manifest puts such a name into evidence."""
    broken = b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replicas: 1\n   bad: [\n"
    repo = make_repo({"catalog-info.yaml": CATALOG, "runbooks/RUNBOOK.md": b"# Runbook \xc3\x28\n"})
    (repo.path / "deploy").mkdir()
    (repo.path / os.fsdecode(b"deploy/\xffdep.yaml")).write_bytes(broken)
    (repo.path / "README.md").write_bytes(b"# svc \xff\xfe\n")
    repo.commit(message="not utf-8")
    return repo.path


def submodule(make_repo, tmp_path: Path) -> Path:
    """A real submodule (whose catalog must not count) and a gitlink where the catalog should be."""
    outside = make_repo({"catalog-info.yaml": catalog(SECRET, "team-x", "0")}, name="outside").path
    repo = make_repo({"README.md": "# svc\n"}).path
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(outside), "vendor/dep")
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{git(outside, 'rev-parse', 'HEAD')},catalog-info.yaml")
    git(repo, "commit", "-q", "-m", "submodules")
    return repo


def zeroed_blob(make_repo, tmp_path: Path) -> Path:
    repo = make_repo({"catalog-info.yaml": CATALOG, "README.md": "# svc\n"}).path
    damage(repo, "HEAD:catalog-info.yaml")
    return repo


def missing_blob(make_repo, tmp_path: Path) -> Path:
    repo = make_repo({"catalog-info.yaml": CATALOG, "README.md": "# svc\n"}).path
    sha = git(repo, "rev-parse", "HEAD:catalog-info.yaml")
    (repo / ".git" / "objects" / sha[:2] / sha[2:]).unlink()
    return repo


def zeroed_tree(make_repo, tmp_path: Path) -> Path:
    repo = make_repo({"catalog-info.yaml": CATALOG, "runbooks/RUNBOOK.md": "# Runbook\n"}).path
    damage(repo, "HEAD:runbooks")
    return repo


def no_commits(make_repo, tmp_path: Path) -> Path:
    (tmp_path / "empty").mkdir()
    git(tmp_path / "empty", "init", "-q")
    return tmp_path / "empty"


def over_max_files(make_repo, tmp_path: Path) -> Path:
    return make_repo(
        {"catalog-info.yaml": catalog("wide", "team-a", "1"), **{f"src/f{i}.txt": "." for i in range(60)}}
    ).path


# (build the repo, `prr gate` exit code, {check id: words its error summary holds} or the exit-3 message)
DAMAGED = {
    "non-UTF-8 names and contents": (
        non_utf8,
        1,
        {
            "resilience.replicas": "deploy/\ufffddep.yaml:6: invalid YAML",
            "runbook.present": "runbooks/RUNBOOK.md: not UTF-8 text",
        },
    ),
    "submodules": (submodule, 1, {"ownership.catalog": "catalog-info.yaml: a git submodule, not a file"}),
    "zeroed blob": (zeroed_blob, 1, {"ownership.catalog": "missing from the git object store"}),
    "missing blob": (missing_blob, 1, {"ownership.catalog": "missing from the git object store"}),
    "zeroed tree": (zeroed_tree, 3, "cannot list the files of commit"),
    "no commits": (no_commits, 3, "the repository has no commits yet"),
    "over scan.max_files": (over_max_files, 3, {"runbook.present": "more than 50 files (scan.max_files)"}),
}


@pytest.mark.parametrize("case", DAMAGED)
def test_a_damaged_or_unusual_repo_gives_clear_errors(case: str, make_repo, tmp_path) -> None:
    build, exit_code, expected = DAMAGED[case]
    location = build(make_repo, tmp_path)
    config = tmp_path / "prr.yaml"
    config.write_text("scan: {max_files: 50}\n")
    out = gate(location, "--config", str(config), cwd=tmp_path)
    assert out.returncode == exit_code, out.stderr
    assert "Traceback" not in out.stderr
    assert SECRET not in out.stdout + out.stderr
    if isinstance(expected, str):
        assert "prr: cannot read the repository:" in out.stderr and expected in out.stderr
        return
    report = json.loads(out.stdout)
    checks = {c["id"]: c for c in report["checks"]}
    for check_id, words in expected.items():
        assert checks[check_id]["status"] == "error", checks[check_id]
        assert words in checks[check_id]["summary"]
    assert "\\udc" not in out.stdout  # strict JSON: no lone surrogates


def test_a_100000_file_repo_is_scanned_in_bounded_time(tmp_path) -> None:
    """100,000 files plus a catalog, built with `git fast-import`: listed up to scan.max_files, and said so."""
    repo = tmp_path / "huge"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    paths = "".join(f"M 100644 :1 d{i // 1000}/f{i}.txt\n" for i in range(100_000))
    stream = (
        "blob\nmark :1\ndata 2\n.\n\nblob\nmark :2\n"
        f"data {len(CATALOG.encode())}\n{CATALOG}\n"
        "commit refs/heads/main\ncommitter Dev <dev@example.com> 1748692800 +0000\ndata 5\nhuge\n"
        f"M 100644 :2 catalog-info.yaml\n{paths}\n"
    )
    git(repo, "fast-import", "--quiet", stdin=stream)
    started = time.monotonic()
    out = gate(repo, cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert elapsed < 60, f"took {elapsed:.1f} s"
    assert out.returncode == 3, out.stderr  # only undecidable checks stand between it and ready
    assert "Traceback" not in out.stderr
    checks = {c["id"]: c for c in json.loads(out.stdout)["checks"]}
    assert "more than 100000 files (scan.max_files)" in checks["runbook.present"]["summary"]
    assert checks["ownership.catalog"]["status"] == "pass"  # found in what was listed: it stands


def gate(location: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "prr.cli", "gate", str(location), "--format", "json", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_a_fleet_scan_stores_the_good_repo_beside_hostile_ones(make_repo, tmp_path, database_url) -> None:
    repos = tmp_path / "repos"
    good = make_repo({"catalog-info.yaml": catalog("good", "team-a", "1")}, name="repos/good").path
    for build in (non_utf8, zeroed_tree, over_max_files):
        os.rename(build(make_repo, tmp_path), repos / build.__name__)
    os.rename(no_commits(make_repo, tmp_path), repos / "no_commits")
    config = tmp_path / "prr.yaml"
    config.write_text(
        yaml.safe_dump({"database_url": database_url, "fleet": [{"repo": "repos/*"}], "scan": {"max_files": 50}})
    )
    out = subprocess.run(
        [sys.executable, "-m", "prr.cli", "scan", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert out.returncode == 3, out.stderr  # two repos could not be read
    assert "Traceback" not in out.stderr
    assert f"{repos / 'no_commits'}: {repos / 'no_commits'}: the repository has no commits yet" in out.stderr
    assert f"{repos / 'zeroed_tree'}: cannot list the files of commit" in out.stderr
    client = create_app(load_config(config), TESTING=True).test_client()
    served = {s["ref"]: s for s in client.get("/api/v1/services").json["items"]}
    assert set(served) == {"component:default/good", "component:default/svc", "component:default/wide"}
    scorecard = client.get("/api/v1/entities/component/default/good/scorecard").json
    assert scorecard["source"]["repo"] == str(good) and len(scorecard["checks"]) > 10
    assert all(c["status"] != "error" for c in scorecard["checks"] if c["id"].startswith("ownership."))
    page = client.get("/services/component/default/svc")
    assert page.status_code == 200


def test_a_scan_that_fails_unexpectedly_on_one_repo_never_stops_the_fleet() -> None:
    def scan(entry: FleetEntry) -> dict:
        if entry.location == "b":
            raise UnicodeEncodeError("utf-8", "\udcff", 0, 1, "surrogates not allowed")
        return {"scan_id": ord(entry.location)}

    outcomes = scan_fleet([FleetEntry("a"), FleetEntry("b"), FleetEntry("c")], scan)
    assert [(o.scan_id, o.error) for o in outcomes] == [
        (97, None),
        (
            None,
            "the scan failed: UnicodeEncodeError: 'utf-8' codec can't encode character '\\udcff' in position 0: "
            "surrogates not allowed",
        ),
        (99, None),
    ]
