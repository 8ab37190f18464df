"""The HTML pages: server-rendered, usable without JavaScript.

Reads come from :mod:`prr.reads` (the served scorecard: stored scans with the waivers and
attestations in force now); forms POST here, are CSRF-checked by Flask-WTF, and call the write
functions of :mod:`prr.actions`, which decide who may do what. Every POST redirects back (PRG).
"""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse
from wtforms.fields.choices import SelectChoice

from prr import actions, identity, reads
from prr.context import ReadContext
from prr.errors import PortalError, StaleVerdict
from prr.identity import Identity
from prr.moments import parse_iso
from prr.notify import cause_text
from prr.refs import join_ref, split_ref
from prr.scorecard import Scorecard
from prr.web import appstate, auth, charts, render
from prr.web.auth import current_identity
from prr.web.errors import status_of
from prr.web.forms import AttestationForm, SignInForm, SignOffForm, WaiverForm
from prr.web.hardening import local_path

bp = Blueprint("pages", __name__)
SIGN_IN_HINT = "Sign in (with an API token, or through your organisation's auth proxy) to change anything here."

SORTS = {
    "name": "name",
    "owner": "owner",
    "tier": "tier",
    "level": "level",
    "score": "score",
    "ready": "ready",
    "scanned": "scanned_at",
}
PER_PAGE = 50
TREND_POINTS = 12
REGRESSIONS_SHOWN = 10
STATUS_ORDER = {"fail": 0, "error": 1, "waived": 2, "warn": 3, "pass": 4, "not_applicable": 5}


@bp.record_once
def _setup(state: Any) -> None:
    state.app.jinja_env.filters.update(render.FILTERS)


# --------------------------------------------------------------------------- request plumbing


def _card(ctx: ReadContext) -> Scorecard:
    """The configured scorecard (pages are not served without one: see ``_scorecard_loaded``)."""
    assert ctx.scorecard is not None
    return ctx.scorecard


def _ctx() -> ReadContext:
    if "prr_ctx" not in g:
        g.prr_ctx = appstate.context()
    return g.prr_ctx


@bp.before_request
def _scorecard_loaded() -> Response | None:
    if _ctx().scorecard is None:
        return Response(
            render_template(
                "pages/error.html", code=503, title="Scorecard unavailable", message=_ctx().scorecard_error
            ),
            503,
        )
    return None


@bp.app_template_global()
def url_with(**changes: Any) -> str:
    """The current page's URL with some query parameters changed (None removes one)."""
    args = {k: v for k, v in request.args.items()}
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    base = url_for(request.endpoint or "pages.overview", **(request.view_args or {}))
    return base + ("?" + urlencode(args) if args else "")


@bp.app_template_global()
def link(endpoint: str, **values: Any) -> str:
    """``url_for(endpoint, **values)`` (a path, never ``_external``), built once per process for each
    set of values: the fleet and team tables link the same services and teams on every view."""
    return _built_url(request.script_root, endpoint, tuple(sorted(values.items())))


@functools.lru_cache(maxsize=16384)
def _built_url(_script_root: str, endpoint: str, values: tuple[tuple[str, Any], ...]) -> str:
    return url_for(endpoint, **dict(values))


@bp.context_processor
def _common() -> dict[str, Any]:
    ctx = _ctx()
    return {"identity": current_identity(), "scorecard": ctx.scorecard, "now": ctx.now, "ratio_bar": charts.ratio_bar}


@bp.app_template_filter("ago")
def _ago(value: Any) -> str:
    return render.ago(value, _ctx().now)


def _service_or_404(kind: str, namespace: str, name: str) -> tuple[str, dict[str, Any]]:
    """The service's ref and served report (its status row rides along as ``report["_status"]``)."""
    ref = join_ref(kind, namespace, name)
    served = reads.served_view(_ctx(), ref)
    if served is None:
        abort(404, description=f"No scanned service {ref}.")
    row, report = served
    return ref, {**report, "_status": row}


def _ref_parts(ref: str) -> dict[str, Any]:
    kind, namespace, name = split_ref(ref)
    return {"kind": kind, "namespace": namespace, "name": name}


def _source(report: dict[str, Any]) -> dict[str, Any]:
    web = render.service_web_url(report["source"]["repo"], report["service"])
    commit = report["source"]["commit"]
    return {
        "ref": report["service"]["ref"],  # for evidence links into the portal's view of the file
        "web_url": web,
        "commit": commit,
        "commit_url": render.commit_url(web, commit),
        "from_catalog": web is not None and render.repo_web_url(report["source"]["repo"]) is None,
    }


# --------------------------------------------------------------------------- fleet overview


@bp.get("/")
def overview() -> str:
    ctx = _ctx()
    filters: dict[str, Any] = {
        key: request.args.get(key, "").strip() for key in ("q", "tier", "owner", "level", "ready")
    }
    filters["active"] = any(filters.values())
    sort_key = request.args.get("sort", "name") if request.args.get("sort") in SORTS else "name"
    direction = "desc" if request.args.get("dir") == "desc" else "asc"
    page_number = min(max(1, request.args.get("page", 1, type=int) or 1), reads.MAX_PAGE)
    with reads.one_session(ctx):
        result = reads.list_services(
            ctx,
            tier=filters["tier"] or None,
            owner=filters["owner"] or None,
            level=filters["level"] or None,
            ready={"yes": True, "no": False}.get(filters["ready"]),
            search=filters["q"] or None,
            sort=("-" if direction == "desc" else "") + SORTS[sort_key],
            page=page_number,
            per_page=PER_PAGE,
        )
        fleet = _fleet(ctx, reads.fleet_summary(ctx))
        regressions = _regressions(ctx)
        regressed = {r["ref"] for r in regressions}
        rows = _with_trends(ctx, [{**row, "regressed": row["ref"] in regressed} for row in result.items])
        owners = reads.owners(ctx)
        conflicts = [
            {**c, "url": url_for("pages.service", **_ref_parts(c["ref"]))} for c in reads.ref_conflicts(ctx, True)
        ]
    return render_template(
        "pages/overview.html",
        nav="fleet",
        conflicts=conflicts,
        rows=rows,
        page=result,
        fleet=fleet,
        regressions=regressions,
        filters=filters,
        sort={"key": sort_key, "dir": direction},
        options={"tiers": _card(ctx).tiers, "owners": owners},
    )


def _fleet(ctx: ReadContext, summary: dict[str, Any]) -> dict[str, Any]:
    tiers = []
    card = _card(ctx)
    for tier in sorted(set(card.tiers) | set(summary["tiers"])):
        counts = summary["tiers"].get(tier, {"total": 0, "ready": 0, "ready_pct": 0, "levels": {}})
        tiers.append({"tier": tier, "required_level": card.required_levels.get(tier, "?"), **counts})
    total, ready = summary["total"], summary["ready"]
    latest = reads.latest_scanned_at(ctx)
    return {
        "total": total,
        "ready": ready,
        "ready_pct": round(100 * ready / total, 1) if total else 0,
        "tiers": tiers,
        "latest_scan": latest,
    }


def _regressions(ctx: ReadContext) -> list[dict[str, Any]]:
    titles = {c.id: c.title for c in ctx.registry}
    return [
        {
            **r,
            **_ref_parts(r["ref"]),
            "newly_unmet": [{"id": c, "title": titles.get(c, c)} for c in r["newly_unmet"]],
            "why": ", ".join(cause_text(c["cause"], c["cause_id"]) for c in r["causes"][-3:]),
        }
        for r in reads.regressions(ctx, limit=REGRESSIONS_SHOWN)
    ]


def _with_trends(ctx: ReadContext, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with a sparkline of their last served scores (one query for the page)."""
    scores = reads.trends(ctx, [r["ref"] for r in rows], points=TREND_POINTS)
    for row in rows:
        mine = tuple(scores.get(row["ref"], []))
        row["trend_svg"] = _sparkline(mine, row["name"]) if len(mine) > 1 else None
    return rows


@functools.lru_cache(maxsize=4096)
def _sparkline(scores: tuple[float | None, ...], name: str) -> Markup:
    """A row's sparkline, drawn once per process for each trend (the fleet's first page is the same
    fifty trends until a verdict changes)."""
    return charts.sparkline(list(scores), f"Score trend of {name}, last {len(scores)} changes")


# --------------------------------------------------------------------------- teams


@bp.get("/teams")
def teams() -> str:
    return render_template("pages/teams.html", nav="teams", teams=reads.teams(_ctx()))


@bp.get("/teams/<path:owner>")
def team(owner: str) -> tuple[str, int] | str:
    ctx = _ctx()
    sort_key = request.args.get("sort") if request.args.get("sort") in SORTS else None
    direction = "desc" if request.args.get("dir") == "desc" else "asc"
    page_number = max(1, request.args.get("page", 1, type=int) or 1)
    sort = ("-" if direction == "desc" else "") + SORTS[sort_key] if sort_key else None
    with reads.one_session(ctx):
        view = reads.team(ctx, owner, page=page_number, per_page=PER_PAGE, sort=sort)
        rows = _with_trends(ctx, view["services"])
        failing = _team_failing(ctx, owner)
    page = render_template(
        "pages/team.html",
        nav="teams",
        view=view,
        rows=rows,
        sort={"key": sort_key, "dir": direction},
        failing=failing,
    )
    return (page, 404) if not rows else page


def _team_failing(ctx: ReadContext, owner: str) -> list[dict[str, Any]]:
    """The team's unmet checks, most widespread first: ``{"id", "title", "blocking", "level", "services"}``."""
    titles = {c.id: c.title for c in ctx.registry}
    placed = {c.id: c for c in ctx.scorecard.checks} if ctx.scorecard else {}
    found = [
        {
            "id": check_id,
            "title": titles.get(check_id, check_id),
            "blocking": check_id in placed and placed[check_id].blocking,
            "level": placed[check_id].level if check_id in placed else None,
            "services": services,
        }
        for check_id, services in reads.unmet_checks(ctx, owner).items()
    ]
    return sorted(found, key=lambda i: (-len(i["services"]), i["id"]))


# --------------------------------------------------------------------------- one service


@bp.get("/services/<kind>/<namespace>/<name>")
def service(kind: str, namespace: str, name: str) -> str:
    with reads.one_session(_ctx()):
        ref, report = _service_or_404(kind, namespace, name)
        return _service_page(ref, report)


def _service_page(ref: str, report: dict[str, Any], **forms: Any) -> str:
    ctx = _ctx()
    history = [{**h, "why": cause_text(h["cause"], h["cause_id"])} for h in reads.service_history(ctx, ref)]
    points = [
        charts.HistoryPoint(
            at=parse_iso(h["at"]),
            score=h["score"],
            level=h["level"],
            ready=h["ready"],
            label=f"{h['why']}, commit {h['commit'][:12]}",
            waiver_carried=h["waiver_carried"],
        )
        for h in history
    ]
    return render_template(
        "pages/service.html",
        nav="fleet",
        **_service_view(ctx, ref, report, **forms),
        history=history,
        levels=_levels(report),
        counts=_counts(report),
        why_not=_why_not(report),
        next_level=_next_level(report),
        history_svg=charts.history_chart(points, f"Score history of {report['service']['name']}"),
    )


def _service_view(ctx: ReadContext, ref: str, report: dict[str, Any], **forms: Any) -> dict[str, Any]:
    """What the service and review pages share: the report, links, waivers, manual checks, forms."""
    owner = report["_status"]["owner"]  # the owner in force (a change read from the repo may wait)
    can = _permissions(current_identity(), owner)
    waiver_form = forms.get("waiver_form") or WaiverForm()
    waiver_form.check_id.choices = _waivable(report)
    attest_form = forms.get("attest_form") or AttestationForm()
    manual = _manual_checks(ctx, ref, report)
    attest_form.check_id.choices = [SelectChoice(m["id"], f"{m['title']} ({m['id']})") for m in manual]
    return {
        "report": report,
        "ref_parts": _ref_parts(ref),
        "source": _source(report),
        "scanned_at": report["source"]["scanned_at"],
        "waivers": reads.waivers(ctx, ref=ref),
        "manual_checks": manual,
        "can": can,
        "waiver_form": waiver_form,
        "attest_form": attest_form,
        "status": report["_status"],
        "custody": reads.custody_notices(ctx, ref, report["_status"]["repo"]),
        "signoff_form": forms.get("signoff_form")
        or SignOffForm(status_version=report["_status"]["status_version"], idempotency_key=uuid.uuid4().hex),
    }


def _waivable(report: dict[str, Any]) -> list[SelectChoice]:
    """Checks to offer in the waiver form: the unmet ones first, then the rest."""
    ordered = sorted(report["checks"], key=lambda c: (c["met"] is not False, c["id"]))
    return [
        SelectChoice(
            c["id"],
            f"{c['title']} ({c['id']}): {'waived' if c['waived'] else c['status']}",
            optgroup="Unmet now" if c["met"] is False else "Met or not applicable",
        )
        for c in ordered
    ]


def _manual_checks(ctx: ReadContext, ref: str, report: dict[str, Any]) -> list[dict[str, Any]]:
    answers = [a for a in reads.attestations(ctx, ref) if a["state"] != "superseded"]
    return [
        {
            "id": c["id"],
            "title": c["title"],
            "entry": c,
            "attestation": next((a for a in answers if a["check"] == c["id"]), None),
        }
        for c in report["checks"]
        if c.get("kind") == "manual"
    ]


def _permissions(who: Identity | None, owner: str | None) -> dict[str, Any]:
    if who is None:
        why = SIGN_IN_HINT
        return {
            "rescan": False,
            "rescan_why": why,
            "grant_waiver": False,
            "grant_waiver_why": why,
            "attest": False,
            "attest_why": why,
            "sign_off": False,
            "sign_off_why": why,
            "accept_change": False,
            "resolve_conflict": False,
        }
    team = owner or "the owning team"
    return {
        "rescan": identity.may_rescan(who, owner),
        "rescan_why": f"Owners of {team}, approvers and admins may rescan.",
        "grant_waiver": identity.may_approve(who, owner),
        "grant_waiver_why": f"Waivers are granted by an approver outside {team}, or an admin.",
        "attest": identity.may_attest(who, owner),
        "attest_why": f"Manual checks are answered by members of {team}, or an admin.",
        "sign_off": identity.may_approve(who, owner),
        "sign_off_why": f"The go / no-go is recorded by an approver outside {team}, or an admin.",
        "accept_change": identity.may_approve(who, owner),
        "resolve_conflict": who.is_admin,
    }


def _levels(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The checks grouped by level, low to high; within a level the unmet ones first."""
    groups = []
    for level in report["scorecard"]["levels"]:
        members = [c for c in report["checks"] if c["level"] == level]
        members.sort(key=lambda c: STATUS_ORDER.get("waived" if c["waived"] else c["status"], 9))
        applicable = [c for c in members if c["met"] is not None]
        groups.append(
            {
                "level": level,
                "checks": members,
                "applicable": len(applicable),
                "met": sum(1 for c in applicable if c["met"]),
            }
        )
    return [g for g in groups if g["checks"]]


def _counts(report: dict[str, Any]) -> dict[str, int]:
    applicable = [c for c in report["checks"] if c["met"] is not None]
    return {"applicable": len(applicable), "met": sum(1 for c in applicable if c["met"])}


def _next_level(report: dict[str, Any]) -> str | None:
    levels = list(report["scorecard"]["levels"])
    index = levels.index(report["level"]) + 1 if report["level"] in levels else 0
    return levels[index] if index < len(levels) else None


def _why_not(report: dict[str, Any]) -> str:
    """One sentence: what keeps the service from being ready."""
    required = report["scorecard"]["required_level"]
    blocking = [c for c in report["checks"] if c["blocking"] and c["met"] is False]
    parts = []
    if _rank(report, report["level"]) < _rank(report, required):
        parts.append(f"it is at {report['level'] or 'no level'}")
    if blocking:
        parts.append(f"{len(blocking)} blocking check{'s' if len(blocking) != 1 else ''} unmet")
    return ("Not ready: " + " and ".join(parts) + ".") if parts else ""


def _rank(report: dict[str, Any], level: str | None) -> int:
    levels = list(report["scorecard"]["levels"])
    return levels.index(level) if level in levels else -1


# --------------------------------------------------------------------------- launch review


@bp.get("/services/<kind>/<namespace>/<name>/review")
def review(kind: str, namespace: str, name: str) -> str:
    with reads.one_session(_ctx()):
        ref, report = _service_or_404(kind, namespace, name)
        return _review_page(ref, report)


def _review_page(ref: str, report: dict[str, Any], **forms: Any) -> str:
    ctx = _ctx()
    required = _rank(report, report["scorecard"]["required_level"])
    unmet = [c for c in report["checks"] if c["met"] is False]
    blocking = [c for c in unmet if c["blocking"] or _rank(report, c["level"]) <= required]
    blocking.sort(key=lambda c: (not c["blocking"], _rank(report, c["level"]), c["id"]))
    return render_template(
        "pages/review.html",
        nav="fleet",
        **_service_view(ctx, ref, report, **forms),
        blocking=blocking,
        other_unmet=[c for c in unmet if c not in blocking],
        waived=[c for c in report["checks"] if c["waived"]],
        signoffs=reads.signoffs(ctx, ref),
    )


# --------------------------------------------------------------------------- checks


@bp.get("/checks")
def checks_index() -> str:
    ctx = _ctx()
    tally = reads.check_tally(ctx)
    in_card = {c.id: c for c in _card(ctx).checks}
    items = [{**info, "tally": tally.get(info["id"], {})} for info in reads.checks(ctx)]
    levels = list(_card(ctx).levels)
    items.sort(
        key=lambda i: (i["id"] not in in_card, levels.index(i["scorecard"]["level"]) if i["scorecard"] else 0, i["id"])
    )
    return render_template("pages/checks.html", nav="checks", items=items)


@bp.get("/checks/<check_id>")
def check(check_id: str) -> str:
    view = reads.check_view(_ctx(), check_id)
    if view["check"] is None:
        abort(404, description=f"No installed check {check_id}.")
    listed = view["failing"] + view["waived"]
    reports = reads.reports_of(_ctx(), [item["ref"] for item in listed])
    for item in listed:
        item.update(_ref_parts(item["ref"]), source=_source(reports[item["ref"]]))
    return render_template("pages/check.html", nav="checks", view=view, info=view["check"])


# --------------------------------------------------------------------------- sign-in


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> BaseResponse | tuple[str, int]:
    """Paste an API token; page views then act as its user (see :mod:`prr.web.auth`)."""
    form = SignInForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        who = auth.sign_in(form.token.data or "")
        if who is not None:
            flash(f"Signed in as {who.user}.", "success")
            return redirect(local_path(form.next.data) or url_for("pages.overview"), code=303)
        form.token.errors = [
            "This token is unknown or revoked. `prr token list` shows the tokens; `prr token create` makes one."
        ]
    return render_template("pages/sign_in.html", form=form), 422 if form.errors else 200


@bp.post("/sign-out")
def sign_out() -> BaseResponse:
    """End a page sign-in (a POST with the CSRF token: another site cannot sign the reader out)."""
    auth.sign_out()
    flash("Signed out.", "info")
    return redirect(url_for("pages.overview"), code=303)


# --------------------------------------------------------------------------- writes


def _writer() -> Identity:
    who = current_identity()
    if who is None:
        abort(401, description=SIGN_IN_HINT)
    return who


def _back(ref: str, endpoint: str = "pages.service", anchor: str = "") -> BaseResponse:
    return redirect(url_for(endpoint, **_ref_parts(ref)) + anchor, code=303)


@bp.post("/services/<kind>/<namespace>/<name>/rescan")
def rescan(kind: str, namespace: str, name: str) -> BaseResponse:
    who = _writer()
    ref, _report = _service_or_404(kind, namespace, name)
    try:
        _job, created = actions.request_rescan(_ctx(), appstate.jobs(), who, ref)
    except PortalError as exc:
        _refused(exc)
    else:
        flash(
            "Rescan queued: reload this page in a moment to see the new scan."
            if created
            else "A rescan of this service is already under way.",
            "info",
        )
    return _back(ref)


@bp.post("/services/<kind>/<namespace>/<name>/waivers")
def grant_waiver(kind: str, namespace: str, name: str) -> BaseResponse | tuple[str, int]:
    who = _writer()
    ref, report = _service_or_404(kind, namespace, name)
    form = WaiverForm()
    form.check_id.choices = _waivable(report)
    form.today = _ctx().now.date()
    if form.validate_on_submit():
        # It stops applying at the start (00:00 UTC) of the chosen day, the date shown wherever it shows.
        expires = datetime.combine(form.expires.data, time(), tzinfo=UTC)
        try:
            _waiver, created = actions.grant_waiver(_ctx(), who, ref, form.check_id.data, form.reason.data, expires)
        except PortalError as exc:
            _field_error(form, exc, {"check": "check_id", "expires": "expires", "reason": "reason"})
        else:
            done = "granted" if created else "was already granted"
            flash(f"Waiver of {form.check_id.data} {done} until {form.expires.data:%Y-%m-%d}.", "success")
            return _back(ref, anchor="#waivers")
    return _service_page(ref, report, waiver_form=form), 422


@bp.post("/services/<kind>/<namespace>/<name>/waivers/<row_id:waiver_id>/revoke")
def revoke_waiver(kind: str, namespace: str, name: str, waiver_id: int) -> BaseResponse:
    who = _writer()
    ref, _report = _service_or_404(kind, namespace, name)
    existing = reads.waiver(_ctx(), waiver_id)
    if existing is None or existing["service"] != ref:
        abort(404, description=f"No waiver {waiver_id} for {ref}.")
    try:
        actions.revoke_waiver(_ctx(), who, waiver_id)
    except PortalError as exc:
        _refused(exc)
    else:
        flash(f"Waiver of {existing['check']} revoked: the check counts as scanned again.", "success")
    return _back(ref, anchor="#waivers")


@bp.post("/services/<kind>/<namespace>/<name>/attestations")
def attest(kind: str, namespace: str, name: str) -> BaseResponse | tuple[str, int]:
    who = _writer()
    ref, report = _service_or_404(kind, namespace, name)
    form = AttestationForm()
    form.check_id.choices = [SelectChoice(m["id"], m["title"]) for m in _manual_checks(_ctx(), ref, report)]
    if form.validate_on_submit():
        expires = _ctx().now + timedelta(days=form.valid_days.data) if form.valid_days.data else None
        try:
            actions.attest(
                _ctx(), who, ref, form.check_id.data, form.answer.data == "yes", form.evidence_url.data or None, expires
            )
        except PortalError as exc:
            _field_error(
                form,
                exc,
                {"check": "check_id", "evidence_url": "evidence_url", "expires": "valid_days", "answer": "answer"},
            )
        else:
            flash(f"Answer to {form.check_id.data} recorded.", "success")
            return _back(ref, "pages.review", "#attestations")
    return _review_page(ref, report, attest_form=form), 422


@bp.post("/services/<kind>/<namespace>/<name>/signoffs")
def sign_off(kind: str, namespace: str, name: str) -> BaseResponse | tuple[str, int]:
    who = _writer()
    ref, report = _service_or_404(kind, namespace, name)
    form = SignOffForm()
    if form.validate_on_submit():
        try:  # on the verdict the reviewers were shown: refused when it changed meanwhile
            record, created = actions.sign_off(
                _ctx(),
                who,
                ref,
                form.decision.data,
                form.notes.data or "",
                status_version=form.status_version.data,
                idempotency_key=form.idempotency_key.data,
            )
        except StaleVerdict as exc:
            flash(exc.detail, "error")
            fresh = SignOffForm(
                formdata=None,
                decision=form.decision.data,
                notes=form.notes.data,
                status_version=report["_status"]["status_version"],
                idempotency_key=uuid.uuid4().hex,
            )
            return _review_page(ref, report, signoff_form=fresh), 409
        except PortalError as exc:
            _field_error(form, exc, {"decision": "decision", "notes": "notes"})
        else:
            verdict = f"{(record['level'] or 'no level').title()}, {'ready' if record['ready'] else 'not ready'}"
            flash(
                f"Decision {record['decision'].upper()} recorded on {verdict} (scan #{record['scan_id']})."
                if created
                else f"This decision was already recorded (sign-off #{record['id']}); it was not recorded twice.",
                "success" if created else "info",
            )
            return _back(ref, "pages.review", "#signoff")
    return _review_page(ref, report, signoff_form=form), 422


@bp.post("/services/<kind>/<namespace>/<name>/changes/<row_id:change_id>/accept")
def accept_change(kind: str, namespace: str, name: str, change_id: int) -> BaseResponse:
    who = _writer()
    ref, _report = _service_or_404(kind, namespace, name)
    try:
        change = actions.accept_change(_ctx(), appstate.jobs(), who, ref, change_id)
    except PortalError as exc:
        _refused(exc)
    else:
        flash(
            f"Owner {change['declared'] or '(none)'} accepted: it is in force now."
            if change["field"] == "owner"
            else f"Tier-{change['declared']} accepted: it applies from the rescan now queued.",
            "success",
        )
    return _back(ref)


@bp.post("/conflicts/<row_id:conflict_id>/resolve")
def resolve_conflict(conflict_id: int) -> BaseResponse:
    who = _writer()
    ref = request.form.get("ref", "")
    if not ref or reads.service(_ctx(), ref) is None:
        abort(404, description="No such service.")
    try:
        conflict = actions.resolve_conflict(_ctx(), who, conflict_id, request.form.get("keep", ""))
    except PortalError as exc:
        _refused(exc)
    else:
        kept = conflict["holder"] if conflict["state"] == "kept" else conflict["claimant"]
        flash(f"{conflict['ref']} stays with {kept}.", "success")
    return _back(ref)


def _refused(exc: PortalError) -> None:
    status, _title = status_of(exc)
    if status in (401, 403):
        abort(status, description=exc.detail)
    flash(exc.detail, "error")


def _field_error(form: Any, exc: PortalError, fields: dict[str, str]) -> None:
    """Show a refusal by the write side on the form field it names (else as a message)."""
    status, _title = status_of(exc)
    if status in (401, 403):
        abort(status, description=exc.detail)
    target = fields.get(str(exc.extra.get("field", "")).split("/")[-1])
    if target and hasattr(form, target):
        getattr(form, target).errors = [*getattr(form, target).errors, exc.detail]
    else:
        flash(exc.detail, "error")


# --------------------------------------------------------------------------- errors


@bp.errorhandler(401)
@bp.errorhandler(403)
@bp.errorhandler(404)
def _error_page(error: HTTPException) -> tuple[str, int]:
    titles = {401: "Sign in required", 403: "Not allowed", 404: "Not found"}
    code = error.code or 500
    return render_template(
        "pages/error.html", code=code, title=titles.get(code, "Error"), message=error.description
    ), code


@bp.errorhandler(CSRFError)
def _csrf_error(error: CSRFError) -> tuple[str, int]:
    return render_template(
        "pages/error.html",
        code=400,
        title="Form expired",
        message="The form expired or did not come from this actions. Go back, reload the page and send it again.",
    ), 400
