"""Every page served on 127.0.0.1 and loaded by headless Chromium: it renders, and the review prints.

Skipped only where Chromium is absent and CI is unset (on CI a missing browser is a failure).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from prr.web import appstate
from tests.portal_fixtures import scanned_portal
from tests.processes import CHROMIUM, chromium

pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"),
    reason="headless Chromium is not installed (set CI to make this a failure)",
)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The scanned test fleet served by werkzeug on an ephemeral 127.0.0.1 port, for this module."""
    built = scanned_portal(tmp_path_factory.mktemp("browser"))
    server = make_server("127.0.0.1", 0, built.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="pages-under-test", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        appstate.shutdown(built.app)


@pytest.mark.parametrize(
    "path, expected",
    [
        ("/", ["Fleet readiness", "Services by tier and level", "Regressions in the last 7 days", "checkout"]),
        (
            "/services/component/default/ledger",
            ["Not ready", "Next steps to", "Checks by level", "<svg", "Score history of ledger"],
        ),
        ("/services/component/default/ledger/review", ["Launch review: ledger", "Blocking items", "Sign-off"]),
        ("/teams", ["team-payments", "team-search"]),
        ("/teams/team-payments", ["Unmet checks across the team"]),
        ("/checks", ["In the scorecard", "Security review done"]),
        ("/checks/resilience.replicas", ["Services that do not meet it", "ledger"]),
    ],
)
def test_chromium_renders_the_page(base_url, path, expected):
    result = chromium("--dump-dom", base_url + path)
    dom = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Internal Server Error" not in dom
    missing = [text for text in expected if text not in dom]
    assert not missing, f"{path}: {missing} not in the rendered DOM"


def test_the_review_page_prints(base_url, tmp_path):
    pdf = tmp_path / "review.pdf"
    result = chromium(
        "--no-pdf-header-footer", f"--print-to-pdf={pdf}", base_url + "/services/component/default/ledger/review"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
