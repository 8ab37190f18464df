"""The monthly leadership scorecard: built from the served verdicts as they stood at the month's
end, the same numbers in the PDF (read back with pdftotext), the JSON and the portal; nothing
fetched while rendering; a month without data is a clear error."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner, Result
from weasyprint import HTML

from prr.cli import main
from prr.report import monthly, render
from prr.web import appstate
from tests.portal_fixtures import ApiClient, deployment, fixture_registry, repo, scan, token

API = "/api/v1/entities/component/default/"


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.fail("pdftotext is not installed: `make test` installs poppler-utils")
    return subprocess.run([tool, "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def pdf_pages_and_fonts(pdf: bytes, tmp_path: Path) -> tuple[int, list[str]]:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    return pages, fonts


def month_start(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, 1, tzinfo=UTC)


@pytest.fixture
def month_story(make_portal, tmp_path: Path) -> dict[str, Any]:
    """A fleet with a month in which one service improves by a scan, one is carried by waivers
    that expire mid-month (an improvement, then a regression), read at the month's end."""
    portal = make_portal()
    app = portal.app
    clock = app.config["PRR_CLOCK"]
    api = ApiClient(app)
    carol = token(app, "carol")
    first = month_start(clock.now)
    month = month_start(first + timedelta(days=40))  # the month after the one the fleet was scanned in
    rows = {r["name"]: r for r in api.get("/api/v1/services?per_page=50").json["items"]}
    carried = next(name for name, row in sorted(rows.items()) if not row["ready"] and name != "search")

    clock.now = month + timedelta(days=2, hours=9)
    unmet = [c["id"] for c in api.get(API + carried + "/scorecard").json["checks"] if c["met"] is False]
    expires = (month + timedelta(days=14, hours=12)).isoformat().replace("+00:00", "Z")
    for check in unmet:
        reason = f"Fix booked with the {check} owners <img src='http://127.0.0.1:9/beacon'>"
        response = api.post(
            API + carried + "/waivers", headers=carol, json={"check": check, "reason": reason, "expires": expires}
        )
        assert response.status_code == 201, response.json

    clock.now = month + timedelta(days=4, hours=10)
    repo(tmp_path, "search").commit(
        {"k8s/deployment.yaml": deployment("search", 2, probes=True)}, "probes", date=clock.now - timedelta(hours=1)
    )
    scan(app, "search")

    clock.now = month + timedelta(days=20)
    api.get("/api/v1/services")  # a read after the expiry records it, at the moment it happened
    last_day = monthly.Month(month.year, month.month).end - timedelta(minutes=1)
    clock.now = last_day
    at_end = {r["name"]: r for r in api.get("/api/v1/services?per_page=50").json["items"]}
    clock.now = last_day + timedelta(days=3)
    return {
        "app": app,
        "api": api,
        "month": monthly.Month(month.year, month.month),
        "carried": carried,
        "waived": unmet,
        "at_end": at_end,
    }


def test_the_report_carries_the_served_verdicts_at_the_months_end(month_story, tmp_path: Path) -> None:
    app, month, carried = month_story["app"], month_story["month"], month_story["carried"]
    report = monthly.build(appstate.context(app), month)
    at_end = month_story["at_end"]

    ready = sum(r["ready"] for r in at_end.values())
    assert (report.overall.ready, report.overall.services) == (ready, len(at_end))
    for tier in {r["tier"] for r in at_end.values()}:
        in_tier = [r for r in at_end.values() if r["tier"] == tier]
        assert (report.by_tier[tier].ready, report.by_tier[tier].services) == (
            sum(r["ready"] for r in in_tier),
            len(in_tier),
        )
    regressions = {(c.ref.rsplit("/", 1)[1], c.cause) for c in report.regressions}
    improvements = {(c.ref.rsplit("/", 1)[1], c.cause) for c in report.improvements}
    assert (carried, "waiver.expired") in regressions
    assert {(carried, "waiver.granted"), ("search", "scan")} <= improvements
    assert {w.check for w in report.waivers["ended"] if w.state == "expired"} == set(month_story["waived"])
    assert report.waivers["in_force"] == []
    assert report.trend[-1]["overall"].ready == ready and len(report.trend) == 6
    assert len(report.headlines) == 3 and f"{ready} of {len(at_end)} services" in report.headlines[0]

    text = pdf_text(render.pdf(report), tmp_path)
    assert f"{ready} of {len(at_end)}" in text and month.label in text
    assert "Regressions" in text and "waiver expired" in text and carried in text
    assert "no live data" in text.lower()
    assert "<img" in text  # a reason is shown as written, never loaded


def test_pdf_json_and_portal_agree(month_story, tmp_path: Path) -> None:
    api, month = month_story["api"], month_story["month"]
    as_json = api.get(f"/api/v1/reports/monthly/{month}.json").json
    built = monthly.build(appstate.context(month_story["app"]), month).to_dict()
    assert as_json == built
    assert as_json["overall"]["ready"] == sum(r["ready"] for r in month_story["at_end"].values())
    pdf = month_story["app"].test_client().get(f"/api/v1/reports/monthly/{month}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data, tmp_path)
    assert f"{as_json['overall']['percent']:g}%" in text
    for team in as_json["teams"]:
        assert team["owner"] in text
    pages, fonts = pdf_pages_and_fonts(pdf.data, tmp_path)
    assert 4 <= pages <= 12
    assert fonts and all(" yes " in f for f in fonts), fonts  # every font embedded
    page = month_story["app"].test_client().get(f"/reports/monthly/{month}")
    assert page.status_code == 200 and f"{as_json['overall']['ready']} of {as_json['overall']['services']}" in page.text
    assert "/reports/monthly" in month_story["app"].test_client().get("/").text  # linked from the fleet page


def test_a_month_without_data_is_a_clear_error(month_story, tmp_path: Path) -> None:
    api = month_story["api"]
    assert api.get("/api/v1/reports/monthly/2001-01.json").status_code == 404
    assert api.get("/api/v1/reports/monthly/2001-01.pdf").status_code == 404
    assert month_story["app"].test_client().get("/api/v1/reports/monthly/2026-13.json").status_code == 404
    out = prr_report(month_story, "--month", "2001-01", "--out", str(tmp_path / "x.pdf"))
    assert out.exit_code == 2 and "no report for 2001-01" in out.output
    assert not (tmp_path / "x.pdf").exists()
    assert prr_report(month_story, "--month", "2026-1").exit_code == 2


def prr_report(story: dict[str, Any], *args: str) -> Result:
    """`prr report` on the story's portal config, with the portal tests' checks installed (the
    scorecard names a manual check only they carry); it runs on the real clock, after the story."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("prr.cli.load_registry", fixture_registry)
        return CliRunner().invoke(main, ["report", "--config", str(story["app"].config["PRR"].path), *args])


class Counting(SimpleHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Counting.hits.append(self.path)
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_rendering_fetches_nothing(month_story, tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Counting, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/beacon.png"
    try:
        report = monthly.build(appstate.context(month_story["app"]), month_story["month"])
        for line in report.waivers["ended"]:  # repository-supplied text, as a repo could write it
            line.reason = f'<img src="{url}"><link rel="stylesheet" href="{url}"> {line.reason}'
        assert "<img src" in pdf_text(render.pdf(report), tmp_path)  # shown as text
        html = f'<img src="{url}"><link rel="stylesheet" href="{url}"><p style="background: url({url})">x</p>'
        HTML(string=html, url_fetcher=render.PackageAssetsOnly(), base_url=render.ASSET_SCHEME).write_pdf()
    finally:
        server.shutdown()
        server.server_close()
    assert Counting.hits == []
    for refused in (url, "prr-asset:../../etc/passwd", "file:///etc/passwd"):
        with pytest.raises(render.RefusedFetch):
            render.package_asset(refused)


def test_cli_writes_the_pdf_and_json(month_story, tmp_path: Path) -> None:
    month = month_story["month"]
    for name in ("report.pdf", "report.json"):
        out = prr_report(month_story, "--month", str(month), "--out", str(tmp_path / name))
        assert out.exit_code == 0, out.output
    assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")
    assert json.loads((tmp_path / "report.json").read_text())["month"] == str(month)


def test_long_lists_say_how_many_more(month_story, tmp_path: Path) -> None:
    report = monthly.build(appstate.context(month_story["app"]), month_story["month"])
    risk = report.top_risks[0]
    report.top_risks = [replace(risk, ref=f"component:default/svc-{i:02d}") for i in range(render.LIST_LIMIT + 5)]
    text = pdf_text(render.pdf(report), tmp_path)
    assert "svc-24" in text and "svc-25" not in text
    assert f"and 5 more Tier-0/1 services not ready ({render.LIST_LIMIT + 5} in all)" in " ".join(text.split())
