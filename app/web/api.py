"""The JSON API under ``/api/v1`` (described by ``schemas/openapi.yaml``).

A service is addressed by its entity ref split into the path: ``component:default/checkout`` is
``/entities/component/default/checkout``. Errors are ``application/problem+json`` (RFC 9457).
Reads follow ``auth.public_reads``; writes need an identity (API token or trusted proxy header)
and a role (see :mod:`prr.identity`), and a JSON body.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request, url_for
from werkzeug.exceptions import BadRequest, UnsupportedMediaType
from werkzeug.exceptions import Unauthorized as Unauthenticated

from prr import actions, reads
from prr.context import ReadContext
from prr.errors import Forbidden, Invalid, NotFound
from prr.identity import Identity
from prr.moments import iso, parse_iso
from prr.refs import join_ref
from prr.web import appstate
from prr.web.auth import current_identity

bp = Blueprint("api", __name__)


# --------------------------------------------------------------------------- helpers


def _ctx() -> ReadContext:
    return appstate.context()


def _writer() -> Identity:
    """The identity making a write. One the browser's auth proxy vouches for must send JSON: a
    cross-site form cannot, so the API needs no CSRF token (a bearer token is never sent by a
    browser on its own)."""
    who = current_identity()
    if who is None:
        raise Unauthenticated(
            "this needs an identity: send `Authorization: Bearer <token>` (create one with `prr token create`)"
        )
    if who.via == "proxy" and request.method == "POST" and not request.is_json:
        raise UnsupportedMediaType(
            "writes through the auth proxy must send an application/json body "
            "(`{}` will do); this keeps other sites from posting on your behalf"
        )
    return who


def _body() -> dict[str, Any]:
    if not request.is_json:
        raise UnsupportedMediaType("send the request body as application/json")
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise BadRequest("the body is nested too deeply") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def _field(body: dict[str, Any], name: str, kind: type | tuple[type, ...], required: bool = True) -> Any:
    """``body[name]`` if it has the type ``kind``: strings must be encodable text (no lone
    surrogates), integers fit in 64 bits; else :class:`Invalid`."""
    value = body.get(name)
    if value is None:
        if required:
            raise Invalid(f"{name} is required", field=name)
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise Invalid(f"{name} has the wrong type", field=name)
    if isinstance(value, str) and not _encodable(value):
        raise Invalid(f"{name} is not valid Unicode text (it holds a lone surrogate)", field=name)
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        raise Invalid(f"{name} is out of range", field=name)
    return value


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    """The integer query parameter ``name`` (``default`` when absent), between ``low`` and ``high``."""
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"query parameter {name} must be an integer") from None
    if not low <= value <= high:
        raise BadRequest(f"query parameter {name} must be between {low} and {high}")
    return value


def _state_arg() -> str:
    state = request.args.get("state", "all")
    if state not in reads.WAIVER_STATES:
        raise BadRequest(f"state must be one of {', '.join(reads.WAIVER_STATES)}")
    return state


def _moment_arg(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        moment = parse_iso(raw)
    except ValueError:
        raise BadRequest(f"query parameter {name} must be an ISO 8601 date-time, e.g. 2027-01-31T00:00:00Z") from None
    if moment.tzinfo is None:
        raise BadRequest(f"query parameter {name} needs a timezone, e.g. 2027-01-31T00:00:00Z")
    return moment


def _bool_arg(name: str) -> bool | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() not in ("true", "false"):
        raise BadRequest(f"query parameter {name} must be true or false")
    return raw.lower() == "true"


def _ref(kind: str, namespace: str, name: str) -> str:
    return join_ref(kind, namespace, name)


def _known(ctx: ReadContext, ref: str) -> dict[str, Any]:
    row = reads.service(ctx, ref)
    if row is None:
        raise NotFound(f"no scanned service {ref}")
    return row


def _created(body: Any, location: str, status: int = 201) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Location"] = location
    return response


# --------------------------------------------------------------------------- services


@bp.get("/services")
def list_services() -> Response:
    ctx = _ctx()
    try:
        page = reads.list_services(
            ctx,
            tier=request.args.getlist("tier") or None,
            owner=request.args.get("owner") or None,
            level=request.args.get("level") or None,
            ready=_bool_arg("ready"),
            search=request.args.get("q") or None,
            sort=request.args.get("sort", "ref"),
            page=_int_arg("page", 1, 1, reads.MAX_PAGE),
            per_page=_int_arg("per_page", 50, 1, reads.MAX_PER_PAGE),
        )
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    body = page.to_dict()
    args: dict[str, Any] = request.args.to_dict(flat=False)
    body["links"] = {
        "self": url_for("api.list_services", _external=False, **args),
        "next": url_for("api.list_services", **{**args, "page": page.page + 1}) if page.page < page.pages else None,
        "prev": url_for("api.list_services", **{**args, "page": page.page - 1}) if page.page > 1 else None,
    }
    return jsonify(body)


@bp.get("/fleet/summary")
def fleet_summary() -> Response:
    return jsonify(reads.fleet_summary(_ctx()))


@bp.get("/fleet/regressions")
def fleet_regressions() -> Response:
    ctx = _ctx()
    since = _moment_arg("since")
    return jsonify({"items": reads.regressions(ctx, since), "since": iso(since or ctx.now - reads.REGRESSION_WINDOW)})


@bp.get("/entities/<kind>/<namespace>/<name>")
def service(kind: str, namespace: str, name: str) -> Response:
    return jsonify(_known(_ctx(), _ref(kind, namespace, name)))


@bp.get("/entities/<kind>/<namespace>/<name>/scorecard")
def scorecard(kind: str, namespace: str, name: str) -> Response:
    ref = _ref(kind, namespace, name)
    report = reads.service_scorecard(_ctx(), ref)
    if report is None:
        raise NotFound(f"no scanned service {ref}")
    return jsonify(report)


@bp.get("/entities/<kind>/<namespace>/<name>/history")
def history(kind: str, namespace: str, name: str) -> Response:
    ctx, ref = _ctx(), _ref(kind, namespace, name)
    _known(ctx, ref)
    limit = _int_arg("limit", 100, 1, 1000)
    return jsonify({"service": ref, "items": reads.service_history(ctx, ref, limit)})


@bp.post("/entities/<kind>/<namespace>/<name>/scans")
def rescan(kind: str, namespace: str, name: str) -> Response:
    ctx, ref = _ctx(), _ref(kind, namespace, name)
    job, _created_now = actions.request_rescan(ctx, appstate.jobs(), _writer(), ref)
    return _created(job.to_dict(), url_for("api.scan_job", job_id=job.id), status=202)


@bp.get("/scan-jobs/<job_id>")
def scan_job(job_id: str) -> Response:
    job = appstate.jobs().get(job_id)
    if job is None:
        raise NotFound(f"no scan job {job_id}")
    body = job.to_dict()
    body["links"] = {"scan": url_for("api.scan", scan_id=job.scan_id) if job.scan_id else None}
    return jsonify(body)


@bp.get("/scans/<row_id:scan_id>")
def scan(scan_id: int) -> Response:
    report = reads.scan_scorecard(_ctx(), scan_id)
    if report is None:
        raise NotFound(f"no scan {scan_id}")
    return jsonify(report)


# --------------------------------------------------------------------------- waivers


@bp.get("/entities/<kind>/<namespace>/<name>/waivers")
def service_waivers(kind: str, namespace: str, name: str) -> Response:
    ctx, ref = _ctx(), _ref(kind, namespace, name)
    _known(ctx, ref)
    return jsonify({"items": reads.waivers(ctx, ref=ref, state=_state_arg())})


@bp.post("/entities/<kind>/<namespace>/<name>/waivers")
def grant_waiver(kind: str, namespace: str, name: str) -> Response:
    ctx, ref, who = _ctx(), _ref(kind, namespace, name), _writer()
    body = _body()
    granted, created = actions.grant_waiver(
        ctx, who, ref, _field(body, "check", str), _field(body, "reason", str), _field(body, "expires", str)
    )
    return _created(granted, url_for("api.waiver", waiver_id=granted["id"]), status=201 if created else 200)


@bp.get("/waivers")
def waivers() -> Response:
    items = reads.waivers(
        _ctx(),
        ref=request.args.get("service") or None,
        state=_state_arg(),
        within_days=_int_arg("within_days", 30, 0, reads.MAX_WITHIN_DAYS),
    )
    return jsonify({"items": items})


@bp.get("/waivers/<row_id:waiver_id>")
def waiver(waiver_id: int) -> Response:
    found = reads.waiver(_ctx(), waiver_id)
    if found is None:
        raise NotFound(f"no waiver {waiver_id}")
    return jsonify(found)


@bp.post("/waivers/<row_id:waiver_id>/revoke")
def revoke_waiver(waiver_id: int) -> Response:
    who = _writer()
    body = _body() if request.content_length else {}
    reason = _field(body, "reason", str, required=False) or ""
    return jsonify(actions.revoke_waiver(_ctx(), who, waiver_id, reason))


# --------------------------------------------------------------------------- attestations & sign-offs


@bp.get("/entities/<kind>/<namespace>/<name>/attestations")
def attestations(kind: str, namespace: str, name: str) -> Response:
    ctx, ref = _ctx(), _ref(kind, namespace, name)
    _known(ctx, ref)
    return jsonify({"items": reads.attestations(ctx, ref)})


@bp.post("/entities/<kind>/<namespace>/<name>/attestations")
def attest(kind: str, namespace: str, name: str) -> Response:
    ctx, ref, who = _ctx(), _ref(kind, namespace, name), _writer()
    body = _body()
    made = actions.attest(
        ctx,
        who,
        ref,
        _field(body, "check", str),
        _field(body, "answer", bool),
        _field(body, "evidence_url", str, required=False),
        _field(body, "expires", str, required=False),
    )
    return _created(made, url_for("api.attestations", kind=kind, namespace=namespace, name=name))


@bp.get("/entities/<kind>/<namespace>/<name>/signoffs")
def signoffs(kind: str, namespace: str, name: str) -> Response:
    ctx, ref = _ctx(), _ref(kind, namespace, name)
    _known(ctx, ref)
    return jsonify({"items": reads.signoffs(ctx, ref)})


@bp.post("/entities/<kind>/<namespace>/<name>/signoffs")
def sign_off(kind: str, namespace: str, name: str) -> Response:
    ctx, ref, who = _ctx(), _ref(kind, namespace, name), _writer()
    body = _body()
    made, created = actions.sign_off(
        ctx,
        who,
        ref,
        _field(body, "decision", str),
        _field(body, "notes", str, required=False) or "",
        status_version=_field(body, "status_version", int, required=False),
        scan_id=_field(body, "scan_id", int, required=False),
        idempotency_key=request.headers.get("Idempotency-Key") or _field(body, "idempotency_key", str, required=False),
    )
    return _created(made, url_for("api.signoffs", kind=kind, namespace=namespace, name=name), 201 if created else 200)


# --------------------------------------------------------------------------- what a repo cannot change alone


def _pending_only() -> bool:
    state = request.args.get("state", "pending")
    if state not in ("pending", "all"):
        raise BadRequest("state must be pending or all")
    return state == "pending"


@bp.get("/entities/<kind>/<namespace>/<name>/changes")
def changes(kind: str, namespace: str, name: str) -> Response:
    ctx, ref = _ctx(), _ref(kind, namespace, name)
    _known(ctx, ref)
    return jsonify({"items": reads.service_changes(ctx, ref, _pending_only()) or []})


@bp.post("/entities/<kind>/<namespace>/<name>/changes/<row_id:change_id>/accept")
def accept_change(kind: str, namespace: str, name: str, change_id: int) -> Response:
    ctx, ref, who = _ctx(), _ref(kind, namespace, name), _writer()
    return jsonify(actions.accept_change(ctx, appstate.jobs(), who, ref, change_id))


@bp.get("/conflicts")
def conflicts() -> Response:
    state = request.args.get("state", "open")
    if state not in ("open", "all"):
        raise BadRequest("state must be open or all")
    return jsonify({"items": reads.ref_conflicts(_ctx(), open_only=state == "open")})


@bp.post("/conflicts/<row_id:conflict_id>/resolve")
def resolve_conflict(conflict_id: int) -> Response:
    who = _writer()
    keep = _field(_body(), "keep", str)
    return jsonify(actions.resolve_conflict(_ctx(), who, conflict_id, keep))


# --------------------------------------------------------------------------- checks, scorecards, teams, me


@bp.get("/checks")
def checks() -> Response:
    return jsonify({"items": reads.checks(_ctx())})


@bp.get("/checks/<check_id>")
def check(check_id: str) -> Response:
    view = reads.check_view(_ctx(), check_id)
    if view["check"] is None:
        raise NotFound(f"no installed check {check_id}")
    return jsonify(view)


@bp.get("/scorecards")
def scorecards() -> Response:
    return jsonify({"items": reads.scorecards(_ctx())})


@bp.get("/teams/<owner>")
def team(owner: str) -> Response:
    page = _int_arg("page", 1, 1, reads.MAX_PAGE)
    if page < 1:
        raise BadRequest("page must be ≥ 1")
    view = reads.team(_ctx(), owner, page=page)
    if not view["services"]:
        raise NotFound(f"no scanned service is owned by {owner}")
    return jsonify(view)


@bp.get("/me")
def me() -> Response:
    who = _writer()
    return jsonify(who.to_dict())


@bp.get("/audit")
def audit() -> Response:
    who = _writer()
    if not who.is_admin:
        raise Forbidden("only admins may read the audit log")
    limit = _int_arg("limit", 100, 1, 1000)
    return jsonify({"items": reads.audit_log(_ctx(), limit, target=request.args.get("target") or None)})
