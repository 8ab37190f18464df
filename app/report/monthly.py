"""The monthly leadership scorecard's figures, read from the served verdicts as they stood.

Every figure comes from the status events (:func:`prr.status.verdicts_as_of`): the verdict of each
service at the month's end is the one the portal served at that moment, waivers and attestations
as they were then. So the report agrees with what anyone saw on the portal that day, and the JSON
form (:meth:`MonthlyReport.to_dict`) carries exactly the numbers the PDF prints.
"""

from __future__ import annotations

import calendar
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from prr.config import Config
from prr.context import ReadContext
from prr.errors import NotFound, Unavailable
from prr.moments import aware
from prr.scorecard import Scorecard
from prr.status import refresh_due, verdicts_as_of
from prr.storage.models import Scan, StatusEvent, WaiverRecord

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
TREND_MONTHS = 6
EXPIRING_DAYS = 30
CRITICAL_TIERS = ("0", "1")  # the tiers DR readiness, SLO attainment and top risks look at
DR_CHECK = "dr.tested"
SLO_CHECK = "live.slo-attainment"


@dataclass(frozen=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        match = MONTH.match(text or "")
        if not match or not 1970 <= int(match.group(1)) <= 9998:
            raise ValueError(f"{text!r} is not a month: write YYYY-MM (1970-01 to 9998-12), e.g. 2026-11")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def start(self) -> datetime:
        return datetime(self.year, self.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the month (verdicts "at the month's end" are those before it)."""
        return self.next().start

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    @property
    def label(self) -> str:
        return f"{calendar.month_name[self.month]} {self.year}"

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass
class Readiness:
    """Services meeting their tier's bar."""

    ready: int = 0
    services: int = 0

    @property
    def percent(self) -> float | None:
        return round(100 * self.ready / self.services, 1) if self.services else None


@dataclass
class ServiceLine:
    ref: str
    name: str
    owner: str | None
    tier: str
    level: str | None
    required_level: str
    score: float | None
    ready: bool
    unmet: list[str]
    blocking_unmet: list[str]
    waived: list[str]


@dataclass
class SloLine:
    ref: str
    owner: str | None
    tier: str
    slos: list[dict[str, Any]]  # name, objective, window, attainment, error_budget_remaining, observed_at
    status: str  # the check's status, or "no live data"


@dataclass
class WaiverLine:
    ref: str
    check: str
    reason: str
    approver: str
    expires: str
    state: str  # in force | expiring | expired | revoked
    ended: str | None = None


@dataclass
class TeamLine:
    owner: str
    services: int
    ready: int
    ready_percent: float | None
    average_score: float | None
    change_points: float | None  # ready percent against the previous month


@dataclass
class ChangeLine:
    ref: str
    at: str
    kind: str  # regression | improvement
    previous_level: str | None
    level: str | None
    previous_ready: bool | None
    ready: bool
    cause: str
    cause_id: int | None
    checks: list[str]  # newly unmet (regression) or newly met (improvement)


@dataclass
class MonthlyReport:
    month: str
    label: str
    generated_at: str
    as_of: str
    scorecard: dict[str, Any]
    overall: Readiness
    previous: Readiness
    by_tier: dict[str, Readiness]
    previous_by_tier: dict[str, Readiness]
    trend: list[dict[str, Any]]  # [{month, label, overall: Readiness, by_tier: {tier: Readiness}}]
    dr: dict[str, Any]
    slo: list[SloLine]
    top_risks: list[ServiceLine]
    waivers: dict[str, list[WaiverLine]]
    teams: list[TeamLine]
    regressions: list[ChangeLine]
    improvements: list[ChangeLine]
    headlines: list[str] = field(default_factory=list)

    @property
    def change_points(self) -> float | None:
        if self.overall.percent is None or self.previous.percent is None:
            return None
        return round(self.overall.percent - self.previous.percent, 1)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["schema"] = "prr/monthly-report/v1"
        data["change_points"] = self.change_points
        for key in ("overall", "previous"):
            data[key]["percent"] = getattr(self, key).percent
        for key in ("by_tier", "previous_by_tier"):
            for tier, readiness in getattr(self, key).items():
                data[key][tier]["percent"] = readiness.percent
        for point, source in zip(data["trend"], self.trend):
            point["overall"]["percent"] = source["overall"].percent
            for tier, readiness in source["by_tier"].items():
                point["by_tier"][tier]["percent"] = readiness.percent
        return data


def build(ctx: ReadContext, month: Month) -> MonthlyReport:
    """The report for ``month``, generated at ``ctx.now`` (a month not over yet is reported as it
    stands now). A month with no verdict at its end (nothing scanned yet, or a month still to come)
    is :class:`NotFound`; a portal without a loadable scorecard is :class:`Unavailable`."""
    now, config, card = ctx.now, ctx.config, ctx.scorecard
    if card is None:
        raise Unavailable(f"the configured scorecard cannot be loaded: {ctx.scorecard_error}")
    if month.start > now:
        raise NotFound(f"{month} has not started yet")
    as_of = min(month.end, now)
    refresh_due(ctx)  # expiries up to now are events before the month is read
    with Session(ctx.engine) as session:
        verdicts = verdicts_as_of(session, as_of - timedelta(microseconds=1))
        if not verdicts:
            raise NotFound(f"no service had a verdict by the end of {month}: scan the fleet first")
        previous = verdicts_as_of(session, month.start - timedelta(microseconds=1))
        trend = _trend(session, month, as_of)
        lines = [_service_line(v, card) for v in verdicts]
        critical = [v for v in verdicts if v.tier in CRITICAL_TIERS]
        report = MonthlyReport(
            month=str(month),
            label=month.label,
            generated_at=_iso(now),
            as_of=_iso(as_of),
            scorecard={"id": card.id, "version": card.version, "title": card.title},
            overall=_readiness(verdicts),
            previous=_readiness(previous),
            by_tier=_by_tier(verdicts),
            previous_by_tier=_by_tier(previous),
            trend=trend,
            dr=_dr(critical, card),
            slo=_slo(session, critical, card),
            top_risks=sorted(
                (line for line in lines if line.tier in CRITICAL_TIERS and not line.ready),
                key=lambda line: (line.tier, -len(line.blocking_unmet), line.score or 0, line.ref),
            ),
            waivers=_waivers(session, config, month, as_of),
            teams=_teams(verdicts, previous),
            regressions=[],
            improvements=[],
        )
        report.regressions, report.improvements = _changes(session, month, as_of)
    report.headlines = _headlines(report)
    return report


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _readiness(verdicts: list[StatusEvent]) -> Readiness:
    return Readiness(ready=sum(v.ready for v in verdicts), services=len(verdicts))


def _by_tier(verdicts: list[StatusEvent]) -> dict[str, Readiness]:
    tiers: dict[str, list[StatusEvent]] = defaultdict(list)
    for verdict in verdicts:
        tiers[verdict.tier].append(verdict)
    return {tier: _readiness(tiers[tier]) for tier in sorted(tiers)}


def _trend(session: Session, month: Month, as_of: datetime) -> list[dict[str, Any]]:
    months = [month]
    while len(months) < TREND_MONTHS:
        months.insert(0, months[0].previous())
    points = []
    for m in months:
        verdicts = verdicts_as_of(session, min(m.end, as_of) - timedelta(microseconds=1))
        points.append(
            {
                "month": str(m),
                "label": m.label[:3] + f" {m.year}",
                "overall": _readiness(verdicts),
                "by_tier": _by_tier(verdicts),
            }
        )
    return points


def _blocking(card: Scorecard) -> set[str]:
    return {entry.id for entry in card.checks if entry.blocking}


def _service_line(verdict: StatusEvent, card: Scorecard) -> ServiceLine:
    blocking = _blocking(card)
    return ServiceLine(
        ref=verdict.ref,
        name=verdict.ref.rsplit("/", 1)[-1],
        owner=verdict.owner,
        tier=verdict.tier,
        level=verdict.level,
        required_level=verdict.required_level,
        score=verdict.score,
        ready=verdict.ready,
        unmet=list(verdict.unmet),
        blocking_unmet=[c for c in verdict.unmet if c in blocking],
        waived=list(verdict.waived),
    )


def _applies(card: Scorecard, check_id: str, tier: str) -> bool:
    return any(entry.id == check_id and entry.applies_to(tier) for entry in card.checks)


def _dr(critical: list[StatusEvent], card: Scorecard) -> dict[str, Any]:
    """Tier-0/1 services with a passing drill inside their window: ``dr.tested`` met, not by waiver."""
    measured = [v for v in critical if _applies(card, DR_CHECK, v.tier)]
    without = [v for v in measured if DR_CHECK in v.unmet or DR_CHECK in v.waived]
    return {
        "measured": bool(measured) or not critical,
        "services": len(measured),
        "with_drill": len(measured) - len(without),
        "percent": round(100 * (len(measured) - len(without)) / len(measured), 1) if measured else None,
        "without": [
            {"ref": v.ref, "owner": v.owner, "tier": v.tier, "waived": DR_CHECK in v.waived}
            for v in sorted(without, key=lambda v: (v.tier, v.ref))
        ],
    }


def _slo(session: Session, critical: list[StatusEvent], card: Scorecard) -> list[SloLine]:
    """SLO attainment per Tier-0/1 service, from the live check's results in the scan served then."""
    if not any(entry.id == SLO_CHECK for entry in card.checks):
        return [SloLine(v.ref, v.owner, v.tier, [], "no live data") for v in critical]
    scans = {s.id: s for s in session.exec(select(Scan).where(col(Scan.id).in_([v.scan_id for v in critical])))}
    lines = []
    for verdict in critical:
        entry = next((c for c in scans[verdict.scan_id].report["checks"] if c["id"] == SLO_CHECK), None)
        slos = (entry or {}).get("details", {}).get("slos") or []
        status = entry["status"] if entry and slos else "no live data"
        lines.append(SloLine(verdict.ref, verdict.owner, verdict.tier, slos, status))
    return lines


def _waivers(session: Session, config: Config, month: Month, as_of: datetime) -> dict[str, list[WaiverLine]]:
    """Waivers in force at the month's end, those of them expiring within 30 days, and those that
    expired or were revoked during the month."""
    records = session.exec(
        select(WaiverRecord).where(
            col(WaiverRecord.created_at) < as_of,
            or_(col(WaiverRecord.revoked_at).is_(None), col(WaiverRecord.revoked_at) >= month.start),
            col(WaiverRecord.expires_at) >= month.start,
        )
    ).all()
    found: dict[str, list[WaiverLine]] = {"in_force": [], "expiring": [], "ended": []}
    for record in records:
        expires, revoked = aware(record.expires_at), aware(record.revoked_at)
        line = WaiverLine(record.service_ref, record.check_id, record.reason, record.approver, _iso(expires), "")
        if revoked is not None and revoked < as_of:
            found["ended"].append(_ended(line, "revoked", revoked))
        elif expires <= as_of:
            found["ended"].append(_ended(line, "expired", expires))
        else:
            soon = expires <= as_of + timedelta(days=EXPIRING_DAYS)
            line.state = "expiring" if soon else "in force"
            found["in_force"].append(line)
            if soon:
                found["expiring"].append(line)
    for ref, waiver in config.waivers:
        if waiver.in_force(as_of):
            soon = waiver.expires <= as_of + timedelta(days=EXPIRING_DAYS)
            line = WaiverLine(
                ref,
                waiver.check,
                waiver.reason,
                waiver.approver,
                _iso(waiver.expires),
                "expiring" if soon else "in force",
            )
            found["in_force"].append(line)
            if soon:
                found["expiring"].append(line)
    for lines in found.values():
        lines.sort(key=lambda line: (line.expires, line.ref, line.check))
    return found


def _ended(line: WaiverLine, state: str, at: datetime) -> WaiverLine:
    line.state, line.ended = state, _iso(at)
    return line


def _teams(verdicts: list[StatusEvent], previous: list[StatusEvent]) -> list[TeamLine]:
    def by_owner(events: list[StatusEvent]) -> dict[str, list[StatusEvent]]:
        owners: dict[str, list[StatusEvent]] = defaultdict(list)
        for event in events:
            owners[event.owner or "(no owner)"].append(event)
        return owners

    now_by_owner, before_by_owner = by_owner(verdicts), by_owner(previous)
    teams = []
    for owner, events in now_by_owner.items():
        readiness = _readiness(events)
        scores = [e.score for e in events if e.score is not None]
        earlier = _readiness(before_by_owner.get(owner, [])).percent
        teams.append(
            TeamLine(
                owner=owner,
                services=readiness.services,
                ready=readiness.ready,
                ready_percent=readiness.percent,
                average_score=round(sum(scores) / len(scores), 1) if scores else None,
                change_points=None
                if earlier is None or readiness.percent is None
                else round(readiness.percent - earlier, 1),
            )
        )
    return sorted(teams, key=lambda t: (t.ready_percent if t.ready_percent is not None else -1, t.owner))


def _changes(session: Session, month: Month, as_of: datetime) -> tuple[list[ChangeLine], list[ChangeLine]]:
    """Level or readiness changes during the month, each with its cause (first events excluded)."""
    events = session.exec(
        select(StatusEvent)
        .where(col(StatusEvent.at) >= month.start, col(StatusEvent.at) < as_of)
        .where(col(StatusEvent.previous_ready).is_not(None))
        .order_by(col(StatusEvent.at), col(StatusEvent.id))
    ).all()
    regressions: list[ChangeLine] = []
    improvements: list[ChangeLine] = []
    for event in events:
        worse = event.level_dropped or event.stopped_ready
        better = (event.ready and event.previous_ready is False) or (
            not worse and event.level != event.previous_level and event.level is not None
        )
        if not (worse or better):
            continue
        line = ChangeLine(
            ref=event.ref,
            at=_iso(aware(event.at)),
            kind="regression" if worse else "improvement",
            previous_level=event.previous_level,
            level=event.level,
            previous_ready=event.previous_ready,
            ready=event.ready,
            cause=event.cause,
            cause_id=event.cause_id,
            checks=list(event.newly_unmet if worse else event.newly_met),
        )
        (regressions if worse else improvements).append(line)
    return regressions, improvements


def _headlines(report: MonthlyReport) -> list[str]:
    """Three plain sentences a director can repeat."""
    overall = report.overall
    change = report.change_points
    trend = (
        ""
        if change is None
        else f", {'up' if change > 0 else 'down'} {abs(change):g} points from last month"
        if change
        else ", the same as last month"
    )
    first = f"{overall.ready} of {overall.services} services ({overall.percent:g}%) meet their tier's bar{trend}."
    risks = report.top_risks
    if risks:
        tier0 = sum(1 for r in risks if r.tier == "0")
        second = (
            f"{len(risks)} Tier-0/1 service{'s are' if len(risks) != 1 else ' is'} not ready"
            + (f", {tier0} of them Tier-0" if tier0 else "")
            + f"; the most common gap is {_most_common_gap(risks)}."
        )
    else:
        second = "Every Tier-0 and Tier-1 service is ready."
    dr = report.dr
    if dr["percent"] is None:
        third = "No Tier-0/1 service is held to a DR drill by the scorecard."
    else:
        third = (
            f"{dr['with_drill']} of {dr['services']} Tier-0/1 services ({dr['percent']:g}%) have a passing DR drill "
            f"in their window; {len(report.waivers['expiring'])} waiver"
            f"{'s' if len(report.waivers['expiring']) != 1 else ''} expire within 30 days."
        )
    return [first, second, third]


def _most_common_gap(risks: list[ServiceLine]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for risk in risks:
        for check in risk.unmet:
            counts[check] += 1
    if not counts:
        return "none recorded"
    check, count = max(counts.items(), key=lambda item: (item[1], item[0]))
    return f"{check} ({count} service{'s' if count != 1 else ''})"
