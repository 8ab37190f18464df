"""The monthly report as an HTML document and, through WeasyPrint, as a PDF.

Rendering fetches nothing from the network: the only URLs the document may load are this
package's own assets (``prr-asset:`` URLs), and the URL fetcher refuses everything else — so a
link a repository slipped into the report (a waiver reason, an owner) can never be requested.
Every value is escaped by Jinja's autoescaping; the charts are SVG built with ElementTree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from prr.report.charts import readiness_trend
from prr.report.monthly import MonthlyReport

ASSETS = Path(__file__).resolve().parent.parent / "static"
ASSET_SCHEME = "prr-asset:"
LIST_LIMIT = 25  # rows a list shows before it says how many more (a leadership document, not a dump)


class RefusedFetch(ValueError):
    """A URL the report may not load."""


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("prr", "templates"), autoescape=select_autoescape(["html"]))
    env.filters["pct"] = lambda value: "—" if value is None else f"{value:g}%"
    env.filters["signed"] = lambda value: "—" if value is None else ("±0" if value == 0 else f"{value:+g}")
    env.filters["score"] = lambda value: "—" if value is None else f"{value:.1f}"
    env.filters["day"] = lambda iso: (iso or "")[:10]
    env.filters["service"] = lambda ref: ref.removeprefix("component:default/")
    return env


def html(
    report: MonthlyReport, stylesheet: str = f"{ASSET_SCHEME}report.css", links: dict[str, str] | None = None
) -> str:
    """The report as HTML: for WeasyPrint (the default stylesheet URL) or for the portal's report
    page (``stylesheet`` its static URL, ``links`` to the PDF and JSON forms and the fleet page)."""
    template = _environment().get_template("report/monthly.html")
    return template.render(
        report=report,
        trend_chart=readiness_trend(report.trend),
        stylesheet=stylesheet,
        links=links or {},
        limit=LIST_LIMIT,
    )


def pdf(report: MonthlyReport) -> bytes:
    """The report as an A4 PDF (fonts embedded, page numbers, month and generation time in the footer)."""
    return bytes(HTML(string=html(report), url_fetcher=PackageAssetsOnly(), base_url=ASSET_SCHEME).write_pdf())


def package_asset(url: str) -> tuple[bytes, str]:
    """The body and media type of one of this package's report assets; anything else is refused."""
    if not url.startswith(ASSET_SCHEME):
        raise RefusedFetch(f"the monthly report loads nothing from outside the package: {url}")
    name = url.removeprefix(ASSET_SCHEME)
    path = (ASSETS / name).resolve()
    if path.parent != ASSETS or not path.is_file():
        raise RefusedFetch(f"no such report asset: {name}")
    return path.read_bytes(), "text/css" if path.suffix == ".css" else "application/octet-stream"


class PackageAssetsOnly(URLFetcher):
    """WeasyPrint's URL fetcher, reduced to :func:`package_asset`: never the network, never a file."""

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        body, media_type = package_asset(url)
        return URLFetcherResponse(url, body, {"Content-Type": f"{media_type}; charset=utf-8"})
