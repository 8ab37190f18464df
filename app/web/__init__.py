"""The Flask portal: an app factory with an API blueprint and an HTML pages blueprint.

Besides the blueprints it wires: the secret key (``$PRR_SECRET_KEY``, else ``portal.secret_key``,
else one generated per process), CSRF protection for the HTML forms (the token-authenticated API
is exempt; its writes must be JSON, which a cross-site form cannot send), problem+json errors
under ``/api`` (HTML error pages elsewhere), the ``auth.public_reads`` gate, ``/healthz`` and
``/metrics``, and the security headers and cookie flags of :mod:`prr.web.hardening`.
"""

from __future__ import annotations

import logging
import os
import secrets
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, redirect, render_template, request, url_for
from flask_wtf import CSRFProtect
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Response as BaseResponse

from prr.config import Config, load_config
from prr.storage.db import current_engine
from prr.web.hardening import local_path

log = logging.getLogger(__name__)
API_PREFIX = "/api/"
MAX_REQUEST_BYTES = 1024 * 1024  # a larger request body is refused (413) before it is read
OPEN_ENDPOINTS = {"healthz", "metrics.metrics", "static", "favicon", "pages.sign_in", "pages.sign_out"}
DATABASE_UNAVAILABLE = (
    "database unavailable: the portal cannot reach its database right now; try again in a minute "
    "(the cause is in the portal's log)"
)


def create_app(config: Config | None = None, **overrides: Any) -> Flask:
    """Build the portal for ``config`` (default: ``$PRR_CONFIG`` or built-in defaults)."""
    config = config or load_config()
    app = Flask(__name__, template_folder="../templates", static_folder="../static")
    app.config.update(PRR=config, SECRET_KEY=_secret_key(config), MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES, **overrides)
    app.url_map.converters["row_id"] = RowId
    app.extensions["prr.db"] = current_engine(
        config.database_url, **config.database_pool
    )  # migrated by `prr db upgrade`

    from prr.web import api, appstate, hardening, metrics, pages, reports, source

    hardening.init_app(app, config)
    csrf = CSRFProtect(app)
    csrf.exempt(api.bp)
    metrics.init_app(app)
    app.register_blueprint(api.bp, url_prefix="/api/v1")
    app.register_blueprint(pages.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(source.bp)
    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    app.before_request(_reads_gate)
    app.context_processor(_sign_in_link)
    _error_handlers(app)
    appstate.keep_status(app)
    return app


class RowId(IntegerConverter):
    """A database row id in a URL: 1 to 2**63 - 1 (a larger number matches no route: 404)."""

    def __init__(self, map: Map) -> None:
        super().__init__(map, min=1, max=2**63 - 1)


def _secret_key(config: Config) -> str:
    configured = os.environ.get("PRR_SECRET_KEY") or (config.data.get("portal") or {}).get("secret_key")
    if configured:
        return configured
    log.warning(
        "no PRR_SECRET_KEY set: using a per-process key (form sessions end at restart and "
        "do not carry across processes)"
    )
    return secrets.token_hex(32)


def healthz() -> Response:
    """Liveness and readiness: the process answers and the database does."""
    try:
        with current_app.extensions["prr.db"].connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any database failure makes the portal unready
        log.error("health check: database unreachable: %s", exc)
        response = jsonify({"status": "unavailable", "database": "unreachable", "detail": DATABASE_UNAVAILABLE})
        response.status_code = 503
        return response
    return jsonify({"status": "ok", "database": "ok"})


def favicon() -> BaseResponse:
    """Browsers ask for /favicon.ico before reading the page's icon link: the same SVG."""
    return redirect(url_for("static", filename="favicon.svg"), 301)


def _sign_in_link() -> dict[str, str]:
    """The header's sign-in link: back to this page afterwards when it is a same-site page view."""
    here = request.full_path.rstrip("?") if request.method == "GET" and request.endpoint != "pages.sign_in" else None
    return {"sign_in_url": url_for("pages.sign_in", next=local_path(here))}


def _reads_gate() -> Response | None:
    """With ``auth.public_reads: false``, everything but health and metrics needs an identity."""
    from prr.web.auth import current_identity, public_reads

    if request.endpoint in OPEN_ENDPOINTS or public_reads(current_app.config["PRR"]):
        return None
    if current_identity() is None:
        if request.path.startswith(API_PREFIX):
            return problem(401, "Unauthorized", "reading this portal needs an identity (API token or sign-in)")
        return sign_in_page("This portal shows its scorecards to signed-in readers only.")
    return None


def sign_in_page(reason: str) -> Response:
    """The HTML 401 for a page view without (valid) credentials; the API answers problem+json."""
    g.prr_identity = None  # what the page shows: nobody is signed in
    body = render_template(
        "pages/error.html",
        code=401,
        title="Sign in required",
        message=reason,
        hint="Sign in with an API token (the Sign in link above) or through your organisation's "
        "auth proxy, and reload. Scripts use the JSON API with an API token.",
        retry=local_path(request.full_path.rstrip("?")) if request.method == "GET" else None,
    )
    response = Response(body, 401, mimetype="text/html")
    response.headers["WWW-Authenticate"] = 'Bearer realm="prr"'
    return response


def problem(status: int, title: str, detail: str, **extra: Any) -> Response:
    """An RFC 9457 problem document."""
    response = jsonify(
        {"type": "about:blank", "title": title, "status": status, "detail": detail, "instance": request.path, **extra}
    )
    response.status_code = status
    response.content_type = "application/problem+json"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="prr"'
    return response


def _error_handlers(app: Flask) -> None:
    from prr.errors import PortalError
    from prr.web.auth import BadCredentials
    from prr.web.errors import status_of

    @app.errorhandler(BadCredentials)
    def bad_credentials(exc: BadCredentials) -> Response:
        if not request.path.startswith(API_PREFIX):
            return sign_in_page(f"The credentials sent with this request were refused: {exc}.")
        return problem(401, "Unauthorized", str(exc))

    @app.errorhandler(PortalError)
    def portal_error(exc: PortalError) -> Response:
        status, title = status_of(exc)
        return problem(status, title, exc.detail, **exc.extra)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response | HTTPException:
        if not request.path.startswith(API_PREFIX):
            return exc
        response = problem(exc.code or 500, exc.name, exc.description or exc.name)
        for name, value in exc.get_headers():  # e.g. Allow on a 405
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(OperationalError)
    def database_unavailable(exc: OperationalError) -> Response:
        log.error("database unavailable on %s %s: %s", request.method, request.path, exc.orig or exc)
        if request.path.startswith(API_PREFIX):
            response = problem(503, "Service unavailable", DATABASE_UNAVAILABLE)
        else:
            g.setdefault("prr_identity", None)  # the page cannot look up a token either
            body = render_template(
                "pages/error.html", code=503, title="Database unavailable", message=DATABASE_UNAVAILABLE
            )
            response = Response(body, 503, mimetype="text/html")
        response.headers["Retry-After"] = "30"
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response | HTTPException:
        log.exception("unhandled error on %s %s", request.method, request.path)
        if not request.path.startswith(API_PREFIX):
            return InternalServerError(original_exception=exc)
        return problem(500, "Internal server error", "the portal failed to answer; the error is in its log")
