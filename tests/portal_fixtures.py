"""A small scanned fleet in a temporary SQLite database, for the portal's API and page tests.

``scanned_portal(tmp_path)`` returns ``(app, config, refs)``:

- four services, scanned with the real checks plus one manual check (``review.security``):

  ======== ============= ==== ============================================ ==========================
  name     owner         tier state                                        verdict
  ======== ============= ==== ============================================ ==========================
  checkout team-payments 1    3 replicas with probes; not security-reviewed silver, ready
  ledger   team-payments 0    scanned twice: silver, then 1 replica, no     bronze, not ready
                              probes (a regression)
  search   team-search   2    2 replicas, no probes                         bronze, ready
  legacy   (none)        1    no catalog entry; a manifest that does not    no level, not ready
                              parse (its resilience checks are ``error``)
  ======== ============= ==== ============================================ ==========================

- ``refs``: ``{"checkout": "component:default/checkout", ...}``.
- roles: ``root`` admin; ``carol`` approver (no team); ``dave`` approver in team-payments;
  ``alice`` in team-payments; ``sam`` in team-search; ``mallory`` nothing.
- ``app.config["PRR_CLOCK"]`` is a :class:`Clock` the test may move (``clock.advance(days=31)``);
  it starts at :data:`SESSION_NOW`; the scans were made one and two days before it.
- ``token(app, user)`` makes an API token; ``repo(tmp_path, name)`` opens a service repo to commit to;
  ``scan(app, name)`` rescans one and stores it; ``build_app(tmp_path, clock)`` "restarts" the portal.
- ``ApiClient(app)``: the test client, holding every response to ``schemas/openapi.yaml``.

The fixtures ``portal`` and ``make_portal`` (for other config) are available to every test:
``tests/conftest.py`` loads this module as a pytest plugin.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple

import jsonschema
import pytest
import yaml
from flask import Flask
from openapi_core import Config as OpenAPIConfig
from openapi_core import OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from werkzeug.test import TestResponse

from prr import actions
from prr.config import Config, load_config
from prr.fleet import expand_fleet, scan_entry
from prr.plugin import Check, Registry, load_registry, not_applicable
from prr.served import scan_sources
from prr.status import record_scan
from prr.storage.db import migrate
from prr.testing import RepoBuilder
from prr.tokens import create_token
from prr.web import appstate, create_app

OPENAPI_DOCUMENT = Path(__file__).resolve().parent.parent / "schemas" / "openapi.yaml"

SECURITY_REVIEW = Check(
    id="review.security",
    title="Security review done",
    category="security",
    kind="manual",
    description="The security team reviewed the service's design and threat model.",
    remediation="Book a review with the security team and link its report here.",
    run=lambda ctx: not_applicable("answered in the portal"),
    params_schema={"properties": {"validity_days": {"type": "integer", "minimum": 1, "default": 90}}},
)

SCORECARD = {
    "apiVersion": "prr/v1",
    "kind": "Scorecard",
    "id": "portal-test",
    "title": "Portal test scorecard",
    "levels": ["bronze", "silver", "gold"],
    "tiers": {"0": {"required_level": "gold"}, "1": {"required_level": "silver"}, "2": {"required_level": "bronze"}},
    "default_tier": "1",
    "checks": [
        {"id": "ownership.catalog", "level": "bronze", "weight": 3, "blocking": True},
        {"id": "ownership.tier", "level": "bronze", "weight": 2},
        {"id": "resilience.replicas", "level": "silver", "weight": 2},
        {"id": "resilience.probes", "level": "silver"},
        {"id": "review.security", "level": "gold", "tiers": ["0", "1"]},
    ],
}


def catalog(name: str, owner: str, tier: str) -> str:
    return f"""apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: {name}
  description: The {name} service
  annotations:
    prr/tier: "{tier}"
spec:
  type: service
  owner: group:default/{owner}
  lifecycle: production
"""


def deployment(name: str, replicas: int, probes: bool) -> str:
    probe_lines = (
        """
          readinessProbe:
            httpGet: {path: /ready, port: http}
          livenessProbe:
            httpGet: {path: /healthz, port: http}"""
        if probes
        else ""
    )
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: {name}
          image: registry.example.com/{name}:1.4.2
          ports:
            - {{name: http, containerPort: 8080}}{probe_lines}
          resources:
            requests: {{cpu: 250m, memory: 256Mi}}
            limits: {{memory: 512Mi}}
"""


BROKEN_MANIFEST = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: legacy-worker
spec:
  template:
    spec:
      containers:
        - name: worker
          image: registry.example.com/legacy-worker:0.9
         resources: {}
"""


class Clock:
    """A movable "now" for the portal (``app.config["PRR_CLOCK"]``)."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


class ScannedPortal(NamedTuple):
    app: Flask
    config: Config
    refs: dict[str, str]


def fixture_registry() -> Registry:
    """The installed checks plus the manual ``review.security``."""
    installed = load_registry()
    return Registry({**installed.checks, SECURITY_REVIEW.id: SECURITY_REVIEW}, installed.load_errors)


def write_config(tmp_path: Path, **extra: Any) -> Path:
    """The portal config for the fleet under ``tmp_path/repos``; ``extra`` top-level keys merged in."""
    (tmp_path / "scorecard.yaml").write_text(yaml.safe_dump(SCORECARD, sort_keys=False))
    data = {
        "database_url": f"sqlite:///{tmp_path / 'prr.db'}",
        "scorecard": "scorecard.yaml",
        "fleet": [{"repo": "repos/*"}],
        "scan": {"check_timeout_seconds": 60},
        "portal": {"base_url": "https://prr.example.com"},
        "auth": {
            "roles": {"admin": {"users": ["root"]}, "approver": {"users": ["carol", "dave"]}},
            "teams": {"team-payments": ["alice", "dave"], "team-search": ["sam"]},
        },
        **extra,
    }
    path = tmp_path / "prr.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def build_app(tmp_path: Path, clock: Clock, **overrides: Any) -> Flask:
    """A portal app on the config and database under ``tmp_path`` (call again to "restart")."""
    config = load_config(tmp_path / "prr.yaml")
    migrate(config.database_url)  # as `prr serve` does before it starts the portal
    return create_app(config, TESTING=True, PRR_REGISTRY=fixture_registry(), PRR_CLOCK=clock, **overrides)


def repo(tmp_path: Path, name: str) -> RepoBuilder:
    """The fixture repo of service ``name``, to commit more history to."""
    return RepoBuilder(tmp_path / "repos" / name)


def scan(app: Flask, name: str, at: datetime | None = None) -> dict[str, Any]:
    """Scan and store the fleet repo ``name`` (at ``at``, default the clock's now); the stored report."""
    ctx = appstate.context(app)
    if at is not None:
        ctx = replace(ctx, now=at)
    entry = next(e for e in expand_fleet(ctx.config) if Path(e.location).name == name)
    return actions.scan_and_store(ctx, entry)


_token_numbers = itertools.count(1)  # token names are unique per user


def token(app: Flask, user: str) -> dict[str, str]:
    """``Authorization`` headers with a fresh API token for ``user``."""
    secret = create_token(app.extensions["prr.db"], user, f"test token {next(_token_numbers)} of {user}")
    return {"Authorization": f"Bearer {secret}"}


# The portal tests' fixed clock: the fleet is scanned a day or two before it (a date in the past, so
# reports of the following month can be asked of the CLI, which runs on the real clock).
SESSION_NOW = datetime(2026, 9, 20, 12, 0, tzinfo=UTC)
_stored_reports: dict[tuple[str, str, datetime], dict[str, Any]] = {}


def _store_fixture_scan(app: Flask, name: str, commit: str, at: datetime) -> None:
    """Scan fleet repo ``name`` at ``at`` and store it, without notifying anyone.

    The checks are deterministic, so a scan of the same commit at the same moment made earlier in
    this test session is reused with only its repo path changed: each test gets its own database
    without paying for the same scans again.
    """
    ctx = replace(appstate.context(app), now=at)
    entry = next(e for e in expand_fleet(ctx.config) if Path(e.location).name == name)
    key = (name, commit, at)
    if key not in _stored_reports:
        config, answers = scan_sources(ctx)
        _stored_reports[key] = scan_entry(entry, config, ctx.scorecard, ctx.registry, now=at, attestations=answers)
    report = _stored_reports[key]
    record_scan(ctx, {**report, "source": {**report["source"], "repo": entry.location}})


def scanned_portal(tmp_path: Path, config_extra: dict[str, Any] | None = None, **overrides: Any) -> ScannedPortal:
    """Build the fleet's repos, the config and the database, scan everything; see the module doc."""
    now = SESSION_NOW
    days_ago = lambda n: now - timedelta(days=n)  # noqa: E731  (fixed dates: the same commits every time)
    write_config(tmp_path, **(config_extra or {}))
    repos = tmp_path / "repos"
    commits = {
        "checkout": RepoBuilder(repos / "checkout").commit(
            {
                "catalog-info.yaml": catalog("checkout", "team-payments", "1"),
                "deploy/deployment.yaml": deployment("checkout", 3, probes=True),
            },
            "checkout",
            date=days_ago(10),
        ),
        "search": RepoBuilder(repos / "search").commit(
            {
                "catalog-info.yaml": catalog("search", "team-search", "2"),
                "k8s/deployment.yaml": deployment("search", 2, probes=False),
            },
            "search",
            date=days_ago(10),
        ),
        "legacy": RepoBuilder(repos / "legacy").commit(
            {
                "README.md": "# legacy\n\nThe old batch importer.\n",
                "deploy/deployment.yaml": deployment("legacy", 2, probes=True),
                "deploy/worker.yaml": BROKEN_MANIFEST,
            },
            "legacy",
            date=days_ago(10),
        ),
    }
    ledger = RepoBuilder(repos / "ledger")
    first = ledger.commit(
        {
            "catalog-info.yaml": catalog("ledger", "team-payments", "0"),
            "deploy/deployment.yaml": deployment("ledger", 3, probes=True),
        },
        "ledger",
        date=days_ago(10),
    )
    app = build_app(tmp_path, Clock(now), **overrides)
    _store_fixture_scan(app, "ledger", first, days_ago(2))
    commits["ledger"] = ledger.commit(
        {"deploy/deployment.yaml": deployment("ledger", 1, probes=False)}, "scale down", date=days_ago(1.5)
    )
    for name in ("checkout", "ledger", "search", "legacy"):
        _store_fixture_scan(app, name, commits[name], days_ago(1))
    refs = {name: f"component:default/{name}" for name in ("checkout", "ledger", "search", "legacy")}
    return ScannedPortal(app, app.config["PRR"], refs)


@pytest.fixture
def make_portal(tmp_path: Path) -> Iterator[Callable[..., ScannedPortal]]:
    """``make_portal(config_extra={...})``: :func:`scanned_portal` with other config; its rescans are
    waited for at teardown."""
    built: list[ScannedPortal] = []

    def make(config_extra: dict[str, Any] | None = None, **overrides: Any) -> ScannedPortal:
        built.append(scanned_portal(tmp_path, config_extra, **overrides))
        return built[-1]

    yield make
    for one in built:
        appstate.shutdown(one.app)


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[ScannedPortal]:
    """The scanned fleet of :func:`scanned_portal`; its rescans are waited for at teardown."""
    built = scanned_portal(tmp_path)
    yield built
    appstate.shutdown(built.app)


class Receiver:
    """A webhook endpoint: records each POSTed JSON body and answers the next status in ``statuses``
    (then 200)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append({"content_type": self.headers["Content-Type"], **json.loads(body)})
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/prr"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def events(self) -> list[str]:
        return [r["event"] for r in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.thread.start()
    yield running
    running.server.shutdown()
    running.server.server_close()
    running.thread.join(5)


_openapi: OpenAPI | None = None


def openapi() -> OpenAPI:
    """``schemas/openapi.yaml``, loaded (and checked as an OpenAPI 3.1 document) once."""
    global _openapi
    if _openapi is None:
        config = OpenAPIConfig(extra_media_type_deserializers={"application/problem+json": json.loads})
        _openapi = OpenAPI.from_file_path(str(OPENAPI_DOCUMENT), config=config)
    return _openapi


@lru_cache(maxsize=1)
def _problem_schema() -> dict[str, Any]:
    return yaml.safe_load(OPENAPI_DOCUMENT.read_text())["components"]["schemas"]["Problem"]


def assert_problem(response: TestResponse) -> None:
    """An error answered as ``application/problem+json`` matching the document's Problem schema."""
    assert response.status_code >= 400 and response.mimetype == "application/problem+json", response.data
    jsonschema.validate(response.json, _problem_schema())
    assert response.json["status"] == response.status_code


class ApiClient:
    """The Flask test client; every response is validated against the OpenAPI document (its status,
    media type, headers and body must be the documented ones)."""

    def __init__(self, app: Flask, headers: dict[str, str] | None = None):
        self.client = app.test_client()
        self.headers = headers or {}

    def request(self, method: str, url: str, headers: dict[str, str] | None = None, **kwargs: Any) -> TestResponse:
        response = self.client.open(url, method=method, headers={**self.headers, **(headers or {})}, **kwargs)
        response.request.environ["wsgi.input"].seek(0)  # the app read the body; the validator reads it again
        try:
            openapi().validate_response(WerkzeugOpenAPIRequest(response.request), WerkzeugOpenAPIResponse(response))
        except (PathNotFound, OperationNotFound):
            assert_problem(response)  # no such route or method: the answer must still be a problem
        return response

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("POST", url, **kwargs)
