"""The monthly leadership scorecard on the portal: ``/reports/monthly/<YYYY-MM>`` (the HTML view,
linked from the fleet page) and ``/api/v1/reports/monthly/<YYYY-MM>.json`` / ``.pdf``."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, redirect, url_for
from werkzeug.exceptions import NotFound as NoSuchMonth
from werkzeug.wrappers import Response as BaseResponse

from prr.report import monthly
from prr.web import appstate

bp = Blueprint("reports", __name__)


def _report(month: str) -> monthly.MonthlyReport:
    try:
        parsed = monthly.Month.parse(month)
    except ValueError as exc:
        raise NoSuchMonth(str(exc)) from None
    return monthly.build(appstate.context(current_app), parsed)


@bp.get("/reports/monthly")
def latest() -> BaseResponse:
    """The last complete month."""
    now = appstate.context(current_app).now
    return redirect(url_for("reports.page", month=str(monthly.Month(now.year, now.month).previous())))


@bp.get("/reports/monthly/<month>")
def page(month: str) -> str:
    report = _report(month)
    links = {
        "fleet": url_for("pages.overview"),
        "pdf": url_for("reports.as_pdf", month=month),
        "json": url_for("reports.as_json", month=month),
    }
    from prr.report import render  # WeasyPrint is loaded by the first report, not by every worker at boot

    return render.html(report, stylesheet=url_for("static", filename="report.css"), links=links)


@bp.get("/api/v1/reports/monthly/<month>.json")
def as_json(month: str) -> Response:
    return jsonify(_report(month).to_dict())


@bp.get("/api/v1/reports/monthly/<month>.pdf")
def as_pdf(month: str) -> Response:
    from prr.report import render

    body = render.pdf(_report(month))
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="prr-scorecard-{month}.pdf"'
    return response
