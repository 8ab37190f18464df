"""Credentials in a fleet git URL are never shown: not in `prr gate` or `prr scan` output, the
stored report, the API, the pages, or the error of a fetch that fails."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from prr.config import load_config
from prr.repo import redact_url
from prr.web import create_app

SECRET = "s3cr3t-token"


class QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def git_over_http(make_repo, tmp_path: Path) -> Iterator[str]:
    """A bare copy of a service repo served over git's dumb HTTP protocol on 127.0.0.1."""
    repo = make_repo(
        {
            "catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: ledger}\n"
            "spec: {type: service, owner: team-payments, lifecycle: production}\n"
        }
    )
    served = tmp_path / "served"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(served / "ledger.git")], check=True)
    subprocess.run(["git", "update-server-info"], cwd=served / "ledger.git", check=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietFiles, directory=str(served)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://deploy-bot:{SECRET}@127.0.0.1:{server.server_port}/ledger.git"
    finally:
        server.shutdown()
        server.server_close()


def prr(*args: str, cache: Path) -> subprocess.CompletedProcess[str]:
    env = {"PRR_CACHE_DIR": str(cache), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "prr.cli", *args], capture_output=True, text=True, timeout=120, env=env
    )


def test_gate_over_a_url_with_credentials_shows_none(git_over_http: str, tmp_path: Path) -> None:
    out = prr("gate", git_over_http, "--format", "json", cache=tmp_path / "cache")
    report = json.loads(out.stdout)
    assert report["service"]["ref"] == "component:default/ledger"
    assert report["source"]["repo"].endswith("127.0.0.1:" + git_over_http.rsplit(":", 1)[1])
    assert SECRET not in out.stdout + out.stderr


def test_a_failed_fetch_names_the_url_without_credentials(tmp_path: Path) -> None:
    out = prr("gate", f"http://bot:{SECRET}@127.0.0.1:9/nothing.git", cache=tmp_path / "cache")
    assert out.returncode == 3
    assert "http://127.0.0.1:9/nothing.git" in out.stderr and SECRET not in out.stderr


def test_portal_scan_api_and_pages_show_no_credentials(git_over_http: str, tmp_path: Path) -> None:
    config = tmp_path / "prr.yaml"
    config.write_text(
        yaml.safe_dump({"database_url": f"sqlite:///{tmp_path / 'prr.db'}", "fleet": [{"repo": git_over_http}]})
    )
    scan = prr("scan", "--config", str(config), cache=tmp_path / "cache")
    assert scan.returncode == 0, scan.stderr
    app = create_app(load_config(config), TESTING=True)
    client = app.test_client()
    seen = [scan.stdout, scan.stderr]
    for url in (
        "/api/v1/services",
        "/api/v1/entities/component/default/ledger",
        "/api/v1/entities/component/default/ledger/scorecard",
        "/api/v1/entities/component/default/ledger/history",
        "/services/component/default/ledger",
        "/services/component/default/ledger/review",
        "/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        seen.append(response.get_data(as_text=True))
    assert all(SECRET not in text for text in seen)
    assert any("127.0.0.1" in text for text in seen[2:])


@pytest.mark.parametrize(
    "text, shown",
    [
        ("https://user:tok@git.example.com/x.git", "https://git.example.com/x.git"),
        ("https://git.example.com/x.git?private_token=abc", "https://git.example.com/x.git"),
        (
            "fatal: unable to access 'https://u:p@h/x.git/': timeout",
            "fatal: unable to access 'https://h/x.git/': timeout",
        ),
        ("git@github.com:org/x.git", "git@github.com:org/x.git"),
        ("/srv/repos/checkout", "/srv/repos/checkout"),
    ],
)
def test_redact_url(text: str, shown: str) -> None:
    assert redact_url(text) == shown
