"""The portal's reads, shared by the JSON API and the HTML pages.

Every function takes a :class:`prr.context.ReadContext` and returns plain dicts and lists, ready
for ``jsonify`` or a Jinja template. What is served for a service is its latest scan with the
waivers and attestations in force now (:mod:`prr.served`). History and regressions compare stored
verdicts (what each scan said when it was made).

Service rows (``list_services``, ``team``) look like::

    {"ref": "component:default/checkout", "kind": "component", "namespace": "default",
     "name": "checkout", "owner": "team-payments", "tier": "1", "lifecycle": "production",
     "repo": "...", "scan_id": 7, "scanned_at": "2026-11-27T08:00:00Z", "commit": "…",
     "score": 81.3, "level": "bronze", "ready": false, "required_level": "silver",
     "blocking_unmet": 0, "unmet": 3, "waived": 1}
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from prr.context import ReadContext
from prr.moments import aware, iso
from prr.refs import split_ref
from prr.served import active_waivers, latest_attestations, reapply
from prr.storage.models import AttestationRecord, AuditEntry, Scan, Service, SignOff, WaiverRecord

SORT_KEYS = ("ref", "name", "owner", "tier", "level", "score", "ready", "scanned_at")
MAX_PER_PAGE = 200
MAX_PAGE = 1_000_000
MAX_WITHIN_DAYS = 3650
NO_LEVEL = "none"  # the ``level`` filter value for services that reach no level


# --------------------------------------------------------------------------- one service


def service_scorecard(ctx: ReadContext, ref: str) -> dict[str, Any] | None:
    """The service's latest scan as a §7 report, waivers and attestations applied at now.

    None when the service has never been scanned.
    """
    with Session(ctx.engine) as session:
        scan = session.exec(
            select(Scan)
            .join(Service, Service.id == Scan.service_id)
            .where(Service.ref == ref)
            .order_by(Scan.scanned_at.desc(), Scan.id.desc())
        ).first()
        report = dict(scan.report) if scan else None
    return reapply(ctx, report) if report else None


def scan_scorecard(ctx: ReadContext, scan_id: int, reapplied: bool = False) -> dict[str, Any] | None:
    """One stored scan's report: as stored (``reapplied=False``) or with today's waivers applied."""
    with Session(ctx.engine) as session:
        scan = session.get(Scan, scan_id)
        report = dict(scan.report) if scan else None
    if report is None:
        return None
    return reapply(ctx, report) if reapplied else report


def service(ctx: ReadContext, ref: str) -> dict[str, Any] | None:
    """The service's row (as in ``list_services``), or None when unknown."""
    rows = _served_rows(ctx, ref=ref)
    return rows[0] if rows else None


# --------------------------------------------------------------------------- the fleet


@dataclass
class Page:
    items: list[dict[str, Any]]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "pages": self.pages,
        }


def list_services(
    ctx: ReadContext,
    *,
    tier: str | Iterable[str] | None = None,
    owner: str | None = None,
    level: str | None = None,
    ready: bool | None = None,
    search: str | None = None,
    sort: str = "ref",
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """Services with their latest scan, filtered, sorted and paginated.

    Filters use the served verdict (waivers in force now): ``tier`` one tier or several, ``owner``
    exact, ``level`` a level name or ``"none"``, ``ready`` True/False, ``search`` a substring of the
    ref or name. ``sort`` is one of :data:`SORT_KEYS`, ``-`` in front for descending (``-score``);
    ties break by ref; unknown values sort last. ``page`` counts from 1; ``per_page`` ≤ 200.
    Raises ``ValueError`` for an unknown sort key or a page below 1.
    """
    descending, key = sort.startswith("-"), sort.lstrip("-")
    if key not in SORT_KEYS:
        raise ValueError(f"sort must be one of {', '.join(SORT_KEYS)} (prefix - for descending)")
    if not 1 <= page <= MAX_PAGE or not 1 <= per_page <= MAX_PER_PAGE:
        raise ValueError(f"page must be between 1 and {MAX_PAGE} and per_page between 1 and {MAX_PER_PAGE}")
    tiers = {tier} if isinstance(tier, str) else set(tier) if tier is not None else None
    rows = [
        r
        for r in _served_rows(ctx)
        if (tiers is None or r["tier"] in tiers)
        and (owner is None or r["owner"] == owner)
        and (level is None or (r["level"] or NO_LEVEL) == level)
        and (ready is None or r["ready"] is ready)
        and (not search or search.lower() in r["ref"] or search.lower() in r["name"].lower())
    ]
    rows.sort(key=lambda r: r["ref"])
    known = [r for r in rows if _sort_value(r, key) is not None]
    unknown = [r for r in rows if _sort_value(r, key) is None]
    known.sort(key=lambda r: _sort_value(r, key), reverse=descending)
    ordered = known + unknown
    start = (page - 1) * per_page
    return Page(ordered[start : start + per_page], len(ordered), page, per_page)


def _sort_value(row: dict[str, Any], key: str) -> Any:
    if key == "level":
        return None if row["level"] is None else row["levels"].index(row["level"])
    return row[key]


def fleet_summary(ctx: ReadContext) -> dict[str, Any]:
    """Counts for the overview: per tier, services, ready, ready % and how many at each level.

    ``{"total": 12, "ready": 7, "levels": ["bronze", …], "tiers": {"0": {"total": 3, "ready": 1,
    "ready_pct": 33.3, "levels": {"gold": 1, "silver": 1, "bronze": 0, "none": 1}}, …}}``
    """
    rows = _served_rows(ctx)
    levels = list(ctx.scorecard.levels) if ctx.scorecard else sorted({lv for r in rows for lv in r["levels"]})
    tiers: dict[str, dict[str, Any]] = {}
    for row in sorted(rows, key=lambda r: r["tier"]):
        bucket = tiers.setdefault(
            row["tier"], {"total": 0, "ready": 0, "levels": {lv: 0 for lv in [*levels, NO_LEVEL]}}
        )
        bucket["total"] += 1
        bucket["ready"] += row["ready"]
        name = row["level"] or NO_LEVEL
        bucket["levels"][name] = bucket["levels"].get(name, 0) + 1
    for bucket in tiers.values():
        bucket["ready_pct"] = round(100 * bucket["ready"] / bucket["total"], 1)
    return {"total": len(rows), "ready": sum(r["ready"] for r in rows), "levels": levels, "tiers": tiers}


def team(ctx: ReadContext, owner: str) -> dict[str, Any]:
    """One owner's services (rows, worst first), their summary, and the team's waivers in force."""
    rows = [r for r in _served_rows(ctx) if r["owner"] == owner]
    rows.sort(key=lambda r: (r["ready"], r["score"] if r["score"] is not None else -1, r["ref"]))
    refs = {r["ref"] for r in rows}
    return {
        "owner": owner,
        "services": rows,
        "total": len(rows),
        "ready": sum(r["ready"] for r in rows),
        "waivers": [w for w in waivers(ctx, state="active") if w["service"] in refs],
    }


def owners(ctx: ReadContext) -> list[str]:
    """Every owner named by a scanned service, sorted."""
    with Session(ctx.engine) as session:
        return sorted(o for o in session.exec(select(Service.owner).distinct()) if o)


def _served_rows(ctx: ReadContext, ref: str | None = None) -> list[dict[str, Any]]:
    """Each service (or just ``ref``) with its latest scan re-applied at now, as a row."""
    waivers_by_ref = active_waivers(ctx, ref)
    answers_by_ref = latest_attestations(ctx.engine, ref)
    rows = []
    for service_row, scan in latest_scans(ctx.engine, ref):
        served = reapply(
            ctx, scan.report, waivers_by_ref.get(service_row.ref, []), answers_by_ref.get(service_row.ref, {})
        )
        kind, namespace, _ = split_ref(service_row.ref)
        applicable = [c for c in served["checks"] if c["met"] is not None]
        rows.append(
            {
                "ref": service_row.ref,
                "kind": kind,
                "namespace": namespace,
                "name": service_row.name,
                "owner": service_row.owner,
                "tier": scan.tier,
                "lifecycle": service_row.lifecycle,
                "repo": service_row.repo,
                "scan_id": scan.id,
                "scanned_at": iso(scan.scanned_at),
                "commit": scan.commit,
                "score": served["score"],
                "level": served["level"],
                "ready": served["ready"],
                "required_level": served["scorecard"]["required_level"],
                "levels": list(served["scorecard"]["levels"]),
                "blocking_unmet": sum(1 for c in applicable if c["blocking"] and not c["met"]),
                "unmet": sum(1 for c in applicable if not c["met"]),
                "waived": sum(1 for c in served["checks"] if c["waived"]),
            }
        )
    return rows


def latest_scans(engine: Engine, ref: str | None = None, depth: int = 1) -> list[tuple[Service, Scan]]:
    """Each service with its newest ``depth`` scans (newest first), ordered by ref."""
    ranked = select(
        Scan.id,
        func.row_number()
        .over(partition_by=Scan.service_id, order_by=(Scan.scanned_at.desc(), Scan.id.desc()))
        .label("rank"),
    ).subquery()
    query = (
        select(Service, Scan)
        .join(Scan, Scan.service_id == Service.id)
        .join(ranked, ranked.c.id == Scan.id)
        .where(ranked.c.rank <= depth)
        .order_by(Service.ref, ranked.c.rank)
    )
    if ref is not None:
        query = query.where(Service.ref == ref)
    with Session(engine) as session:
        return list(session.exec(query).all())


# --------------------------------------------------------------------------- history & regressions


def service_history(ctx: ReadContext, ref: str, limit: int = 100) -> list[dict[str, Any]]:
    """The service's scans, oldest first (at most the newest ``limit``), as each scan scored then:
    ``[{"scan_id", "scanned_at", "commit", "score", "level", "ready", "tier", "scorecard_version"}]``.
    """
    with Session(ctx.engine) as session:
        scans = session.exec(
            select(Scan)
            .join(Service, Service.id == Scan.service_id)
            .where(Service.ref == ref)
            .order_by(Scan.scanned_at.desc(), Scan.id.desc())
            .limit(limit)
        ).all()
        return [
            {
                "scan_id": s.id,
                "scanned_at": iso(s.scanned_at),
                "commit": s.commit,
                "score": s.score,
                "level": s.level,
                "ready": s.ready,
                "tier": s.tier,
                "scorecard_version": s.scorecard_version,
            }
            for s in reversed(scans)
        ]


def compare_scans(previous: dict[str, Any], current: dict[str, Any]) -> dict[str, Any] | None:
    """How ``current`` (a §7 report) regressed from ``previous``; None when it did not.

    ``{"ref", "previous_level", "level", "level_dropped", "was_ready", "ready", "stopped_ready",
    "newly_unmet": [check ids met before, unmet now], "previous_scan_id", "scan_id"}``
    """
    levels = list(current["scorecard"]["levels"])
    rank = lambda level: -1 if level not in levels else levels.index(level)  # noqa: E731
    before = {c["id"]: c["met"] for c in previous["checks"]}
    newly_unmet = [c["id"] for c in current["checks"] if c["met"] is False and before.get(c["id"]) is True]
    level_dropped = rank(current["level"]) < rank(previous["level"])
    stopped_ready = bool(previous["ready"]) and not current["ready"]
    if not (level_dropped or stopped_ready or newly_unmet):
        return None
    return {
        "ref": current["service"]["ref"],
        "previous_level": previous["level"],
        "level": current["level"],
        "level_dropped": level_dropped,
        "was_ready": previous["ready"],
        "ready": current["ready"],
        "stopped_ready": stopped_ready,
        "newly_unmet": newly_unmet,
        "previous_scan_id": previous.get("scan_id"),
        "scan_id": current.get("scan_id"),
    }


def regressions(ctx: ReadContext) -> list[dict[str, Any]]:
    """Services whose latest scan is worse than the one before (lower level, no longer ready, or
    checks newly unmet), as stored; each item as :func:`compare_scans` plus ``name``, ``owner``,
    ``tier`` and ``scanned_at``. Worst first (stopped ready, then level drops).
    """
    pairs: dict[str, list[tuple[Service, Scan]]] = defaultdict(list)
    for service_row, scan in latest_scans(ctx.engine, depth=2):
        pairs[service_row.ref].append((service_row, scan))
    found = []
    for pair in pairs.values():
        if len(pair) < 2:
            continue
        (service_row, current), (_, previous) = pair
        change = compare_scans(previous.report, current.report)
        if change:
            found.append(
                {
                    **change,
                    "name": service_row.name,
                    "owner": service_row.owner,
                    "tier": current.tier,
                    "scanned_at": iso(current.scanned_at),
                }
            )
    return sorted(found, key=lambda c: (not c["stopped_ready"], not c["level_dropped"], c["tier"], c["ref"]))


# --------------------------------------------------------------------------- checks


def checks(ctx: ReadContext) -> list[dict[str, Any]]:
    """Installed checks (metadata) with their place in the configured scorecard (``scorecard``:
    ``{"level", "weight", "blocking", "tiers"}`` or None when the scorecard does not use the check)."""
    return [check_info(ctx, c.id) for c in ctx.registry]


def check_info(ctx: ReadContext, check_id: str) -> dict[str, Any] | None:
    """One check's metadata and scorecard placement; None when it is not installed."""
    if check_id not in ctx.registry:
        return None
    entry = next((c for c in ctx.scorecard.checks if c.id == check_id), None) if ctx.scorecard else None
    placement = (
        None
        if entry is None
        else {
            "level": entry.level,
            "weight": entry.weight,
            "blocking": entry.blocking,
            "tiers": list(entry.tiers) if entry.tiers else None,
        }
    )
    return {**ctx.registry.get(check_id).metadata(), "scorecard": placement}


def check_view(ctx: ReadContext, check_id: str) -> dict[str, Any]:
    """How the fleet does on one check (served results): ``{"check": check_info or None,
    "failing": [...], "waived": [...], "met": n, "not_applicable": n}``; each failing / waived item
    is ``{"ref", "name", "owner", "tier", "status", "summary", "evidence", "waiver", "scan_id"}``,
    failing sorted by tier then ref.
    """
    view: dict[str, Any] = {
        "check": check_info(ctx, check_id),
        "failing": [],
        "waived": [],
        "met": 0,
        "not_applicable": 0,
    }
    waivers_by_ref = active_waivers(ctx)
    answers_by_ref = latest_attestations(ctx.engine)
    for service_row, scan in latest_scans(ctx.engine):
        served = reapply(
            ctx, scan.report, waivers_by_ref.get(service_row.ref, []), answers_by_ref.get(service_row.ref, {})
        )
        entry = next((c for c in served["checks"] if c["id"] == check_id), None)
        if entry is None or entry["met"] is None:
            view["not_applicable"] += entry is not None
            continue
        item = {
            "ref": service_row.ref,
            "name": service_row.name,
            "owner": service_row.owner,
            "tier": scan.tier,
            "status": entry["status"],
            "summary": entry["summary"],
            "evidence": entry["evidence"],
            "waiver": entry["waiver"],
            "scan_id": scan.id,
        }
        if entry["waived"]:
            view["waived"].append(item)
        elif entry["met"]:
            view["met"] += 1
        else:
            view["failing"].append(item)
    view["failing"].sort(key=lambda i: (i["tier"], i["ref"]))
    return view


def scorecards(ctx: ReadContext) -> list[dict[str, Any]]:
    """The configured scorecard (the portal serves one): id, title, version, levels, tiers with
    their required level, default tier and its checks; ``error`` set when it cannot be loaded."""
    card = ctx.scorecard
    if card is None:
        return [{"id": ctx.config.data.get("scorecard"), "error": ctx.scorecard_error}]
    return [
        {
            "id": card.id,
            "title": card.title,
            "version": card.version,
            "levels": list(card.levels),
            "tiers": [{"tier": t, "required_level": card.required_levels[t]} for t in card.tiers],
            "default_tier": card.default_tier,
            "checks": [
                {
                    "id": c.id,
                    "level": c.level,
                    "weight": c.weight,
                    "blocking": c.blocking,
                    "tiers": list(c.tiers) if c.tiers else None,
                }
                for c in card.checks
            ],
            "error": None,
        }
    ]


# --------------------------------------------------------------------------- waivers, attestations, sign-offs

WAIVER_STATES = ("active", "expiring", "expired", "revoked", "all")


def waivers(
    ctx: ReadContext, *, ref: str | None = None, state: str = "all", within_days: int = 30
) -> list[dict[str, Any]]:
    """Waivers (stored and config), newest expiry first. ``state``: ``active`` (in force now),
    ``expiring`` (in force, expiring within ``within_days``), ``expired``, ``revoked`` or ``all``.

    Item: ``{"id" (None for config waivers), "service", "check", "reason", "approver", "created_at",
    "expires_at", "revoked_at", "revoked_by", "source": "portal"|"config", "state":
    "active"|"expired"|"revoked", "expires_in_days"}``.
    """
    if state not in WAIVER_STATES:
        raise ValueError(f"state must be one of {', '.join(WAIVER_STATES)}")
    items = []
    with Session(ctx.engine) as session:
        query = select(WaiverRecord)
        if ref is not None:
            query = query.where(WaiverRecord.service_ref == ref)
        for r in session.exec(query):
            items.append(
                _waiver_item(
                    ctx,
                    r.id,
                    r.service_ref,
                    r.check_id,
                    r.reason,
                    r.approver,
                    r.created_at,
                    r.expires_at,
                    r.revoked_at,
                    r.revoked_by,
                    r.source,
                )
            )
    for service_ref, w in ctx.config.waivers:
        if ref is None or service_ref == ref:
            items.append(
                _waiver_item(
                    ctx, None, service_ref, w.check, w.reason, w.approver, None, w.expires, None, None, "config"
                )
            )
    horizon = ctx.now + timedelta(days=within_days)
    chosen = [
        w
        for w in items
        if state in ("all", w["state"]) or (state == "expiring" and w["state"] == "active" and w["_expires"] <= horizon)
    ]
    chosen.sort(key=lambda w: (w["_expires"], w["service"], w["check"]), reverse=True)
    return [{k: v for k, v in w.items() if k != "_expires"} for w in chosen]


def _waiver_item(
    ctx: ReadContext,
    id: int | None,
    ref: str,
    check_id: str,
    reason: str,
    approver: str,
    created: datetime | None,
    expires: datetime,
    revoked: datetime | None,
    revoked_by: str | None,
    source: str,
) -> dict[str, Any]:
    expires = aware(expires)
    state = "revoked" if revoked else "active" if expires > ctx.now else "expired"
    return {
        "id": id,
        "service": ref,
        "check": check_id,
        "reason": reason,
        "approver": approver,
        "created_at": iso(created),
        "expires_at": iso(expires),
        "revoked_at": iso(revoked),
        "revoked_by": revoked_by,
        "source": source,
        "state": state,
        "expires_in_days": round((expires - ctx.now).total_seconds() / 86400, 1),
        "_expires": expires,
    }


def waiver(ctx: ReadContext, waiver_id: int) -> dict[str, Any] | None:
    """One stored waiver (as in :func:`waivers`), or None."""
    with Session(ctx.engine) as session:
        r = session.get(WaiverRecord, waiver_id)
        if r is None:
            return None
        item = _waiver_item(
            ctx,
            r.id,
            r.service_ref,
            r.check_id,
            r.reason,
            r.approver,
            r.created_at,
            r.expires_at,
            r.revoked_at,
            r.revoked_by,
            r.source,
        )
    item.pop("_expires")
    return item


def attestations(ctx: ReadContext, ref: str) -> list[dict[str, Any]]:
    """Every answer given for the service's manual checks, newest first:
    ``{"id", "service", "check", "answer", "evidence_url", "attested_by", "created_at", "expires_at",
    "state": "valid"|"expired"|"superseded"}`` (superseded: a newer answer exists for the check)."""
    with Session(ctx.engine) as session:
        records = session.exec(
            select(AttestationRecord)
            .where(AttestationRecord.service_ref == ref)
            .order_by(AttestationRecord.created_at.desc(), AttestationRecord.id.desc())
        ).all()
        seen: set[str] = set()
        items = []
        for r in records:
            state = "superseded" if r.check_id in seen else "valid" if aware(r.expires_at) > ctx.now else "expired"
            seen.add(r.check_id)
            items.append(
                {
                    "id": r.id,
                    "service": r.service_ref,
                    "check": r.check_id,
                    "answer": r.answer,
                    "evidence_url": r.evidence_url,
                    "attested_by": r.attested_by,
                    "created_at": iso(r.created_at),
                    "expires_at": iso(r.expires_at),
                    "state": state,
                }
            )
        return items


def signoffs(ctx: ReadContext, ref: str) -> list[dict[str, Any]]:
    """The service's launch review decisions, newest first: ``{"id", "service", "scan_id", "decision":
    "go"|"no-go", "decided_by", "decided_at", "notes", "commit", "level", "ready"}`` (the last three:
    the scan the decision was made on)."""
    with Session(ctx.engine) as session:
        rows = session.exec(
            select(SignOff, Scan)
            .join(Scan, Scan.id == SignOff.scan_id)
            .where(SignOff.service_ref == ref)
            .order_by(SignOff.decided_at.desc(), SignOff.id.desc())
        ).all()
        return [
            {
                "id": s.id,
                "service": s.service_ref,
                "scan_id": s.scan_id,
                "decision": s.decision,
                "decided_by": s.decided_by,
                "decided_at": iso(s.decided_at),
                "notes": s.notes,
                "commit": scan.commit,
                "level": scan.level,
                "ready": scan.ready,
            }
            for s, scan in rows
        ]


def audit_log(ctx: ReadContext, limit: int = 100, target: str | None = None) -> list[dict[str, Any]]:
    """The newest audited writes: ``{"id", "at", "actor", "action", "target", "details"}``."""
    with Session(ctx.engine) as session:
        query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
        if target is not None:
            query = query.where(AuditEntry.target == target)
        return [
            {
                "id": e.id,
                "at": iso(e.at),
                "actor": e.actor,
                "action": e.action,
                "target": e.target,
                "details": e.details,
            }
            for e in session.exec(query)
        ]
