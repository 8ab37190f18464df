"""The Backstage plugin's dev app against a real portal, loaded by headless Chromium.

The demo fleet is scanned into a portal (`prr serve` on 127.0.0.1); a small proxy on 127.0.0.1
stands in for the Backstage backend's `/api/proxy/prr`; the plugin's dev app
(backstage-plugin/dev, `backstage-cli package start`) is served on 127.0.0.1 and its Readiness tab
must show what the portal serves. Select it with `-m backstage`; skipped only without node/npm.
Set PRR_BACKSTAGE_SCREENSHOT=FILE.png to also save a screenshot of the tab.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.processes import PRR, chromium, free_port, start, stop, wait_for

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "backstage-plugin"
SERVICE = "payments-api"  # not ready: Tier-0 needs Gold, one failing check

pytestmark = [
    pytest.mark.backstage,
    pytest.mark.skipif(
        shutil.which("node") is None or shutil.which("npm") is None,
        reason="node and npm are not installed: the Backstage plugin cannot be built",
    ),
]


# What a Backstage backend with the guest sign-in provider answers to /api/auth/guest/refresh.
GUEST_SESSION = json.dumps(
    {
        "profile": {"displayName": "Guest"},
        "backstageIdentity": {
            "token": "e30.e30.guest",  # a JWT without claims: the app refreshes it on its default schedule
            "identity": {"type": "user", "userEntityRef": "user:development/guest", "ownershipEntityRefs": []},
        },
    }
).encode()


def backstage_proxy(portal: str) -> ThreadingHTTPServer:
    """The Backstage backend as far as the dev app needs: guest sign-in and the `/api/proxy/prr`
    proxy to the portal, with CORS for the dev app's origin."""

    class Backend(BaseHTTPRequestHandler):
        def answer(self, status: int, content_type: str | None = None, body: bytes = b"") -> None:
            self.send_response(status)
            self.send_header("Access-Control-Allow-Origin", self.headers.get("Origin", "*"))
            self.send_header("Access-Control-Allow-Credentials", "true")
            self.send_header("Access-Control-Allow-Headers", "Authorization, X-Requested-With, Accept, Content-Type")
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_OPTIONS(self) -> None:
            self.answer(204)

        def do_GET(self) -> None:
            prefix = "/api/proxy/prr/"
            if self.path == "/api/auth/guest/refresh":
                self.answer(200, "application/json", GUEST_SESSION)
            elif self.path.startswith(prefix):
                try:
                    with urllib.request.urlopen(portal + "/" + self.path[len(prefix) :], timeout=30) as answer:
                        status, headers, body = answer.status, answer.headers, answer.read()
                except urllib.error.HTTPError as error:
                    status, headers, body = error.code, error.headers, error.read()
                self.answer(status, headers.get("Content-Type"), body)
            else:
                self.answer(404, "application/json", b'{"error": {"name": "NotFoundError"}}')

        def log_message(self, *args) -> None:
            pass

    return ThreadingHTTPServer(("127.0.0.1", 0), Backend)


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo fleet, scanned and served by `prr serve` on 127.0.0.1."""
    assert PRR, "the prr command is not installed"
    demo = tmp_path_factory.mktemp("backstage-e2e") / "demo"
    subprocess.run([PRR, "demo", "create", str(demo), "--force"], check=True, capture_output=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = demo / "prr.yaml"
    config.write_text(config.read_text() + f"portal:\n  base_url: {url}\n")
    subprocess.run([PRR, "scan", "--config", str(config)], check=True, capture_output=True)
    server = start(
        [PRR, "serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(port)], demo.parent / "serve.log"
    )
    try:
        wait_for(url + "/healthz", server, timeout=60)
        yield url
    finally:
        stop(server)


@pytest.fixture(scope="module")
def dev_app(portal: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The plugin's dev app on 127.0.0.1, its backend being a proxy to the portal."""
    if not (PLUGIN / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PLUGIN, check=True, capture_output=True)
    proxy = backstage_proxy(portal)
    thread = threading.Thread(target=proxy.serve_forever, name="backstage-proxy", daemon=True)
    thread.start()
    work = tmp_path_factory.mktemp("dev-app")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = work / "app-config.yaml"
    config.write_text(
        json.dumps(
            {
                "app": {"title": "PRR Portal plugin", "baseUrl": url},
                "backend": {"baseUrl": f"http://127.0.0.1:{proxy.server_port}"},
            }
        )
    )
    server = start(
        ["npx", "backstage-cli", "package", "start", "--config", str(config)],
        work / "start.log",
        cwd=PLUGIN,
        env={**os.environ, "BROWSER": "none", "CI": "true"},
    )
    try:
        wait_for(url + "/", server, timeout=300)
        yield url
    finally:
        stop(server)
        proxy.shutdown()
        thread.join(timeout=10)


def test_readiness_tab_shows_the_served_scorecard(portal: str, dev_app: str) -> None:
    with urllib.request.urlopen(f"{portal}/api/v1/entities/component/default/{SERVICE}/scorecard") as answer:
        served = json.load(answer)
    page = f"{dev_app}/entity/prr?entity=component:default/{SERVICE}"

    result = chromium("--virtual-time-budget=30000", "--dump-dom", page, window="1280,1800")
    dom = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    tier, bar = served["service"]["tier"], served["scorecard"]["required_level"].capitalize()
    expected = [
        f"Not ready — Tier-{tier} needs {bar}" if not served["ready"] else f"Ready — meets Tier-{tier}",
        served["level"].capitalize(),
        f"{served['score']:.1f}",
        f"{served['source']['commit'][:12]}",
        "scanned just now" if "scanned just now" in dom else "min ago",
        f'href="{portal}/services/component/default/{SERVICE}"',
        "Gold checks",
    ] + [check["summary"] for check in served["checks"] if check["status"] == "fail"]
    missing = [text for text in expected if text not in dom]
    assert not missing, f"{missing} not in the Readiness tab"

    screenshot = os.environ.get("PRR_BACKSTAGE_SCREENSHOT")
    if screenshot:
        shot = chromium(
            "--virtual-time-budget=30000", f"--screenshot={Path(screenshot).resolve()}", page, window="1280,1800"
        )
        assert shot.returncode == 0, shot.stderr[-2000:]


def test_never_scanned_entity_shows_the_empty_state(dev_app: str) -> None:
    result = chromium(
        "--virtual-time-budget=30000",
        "--dump-dom",
        f"{dev_app}/entity/prr?entity=component:default/never-scanned",
        window="1280,1800",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Not scanned yet" in result.stdout
    assert "component:default/never-scanned" in result.stdout
