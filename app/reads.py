"""The portal's reads, shared by the JSON API and the HTML pages.

Every function takes a :class:`prr.context.ReadContext` and returns plain dicts and lists, ready
for ``jsonify`` or a Jinja template. Service verdicts come from the stored served status
(:mod:`prr.status`): lists, filters, sorting, paging and counts are SQL over its columns, and no
read loads more than one page of reports. Every read first brings due statuses up to date
(:func:`prr.status.refresh_due`), so none serves an expired waiver.

Service rows (``list_services``, ``team``) look like::

    {"ref": "component:default/checkout", "kind": "component", "namespace": "default",
     "name": "checkout", "owner": "team-payments", "tier": "1", "lifecycle": "production",
     "repo": "...", "scan_id": 7, "scanned_at": "2026-11-27T08:00:00Z", "commit": "…",
     "score": 81.3, "level": "bronze", "ready": false, "required_level": "silver",
     "levels": ["bronze", "silver", "gold"], "blocking_unmet": 0, "unmet": 3, "waived": 1,
     "waiver_carried": false, "status_version": 4, "changes_at": null}
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Integer, bindparam, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from prr import custody
from prr.context import ReadContext
from prr.moments import aware, iso
from prr.refs import split_ref
from prr.status import event_dict, refresh_due
from prr.storage.models import (
    AttestationRecord,
    AuditEntry,
    Scan,
    ServedReport,
    Service,
    ServiceCheck,
    ServiceStatus,
    SignOff,
    StatusEvent,
    WaiverRecord,
)

SORT_KEYS = ("ref", "name", "owner", "tier", "level", "score", "ready", "scanned_at")
MAX_PER_PAGE = 200
MAX_PAGE = 1_000_000
MAX_WITHIN_DAYS = 3650
NO_LEVEL = "none"  # the ``level`` filter value for services that reach no level
REGRESSION_WINDOW = timedelta(days=7)  # the regressions panel's default "since"
REGRESSION_BATCH = 50
_SORT_COLUMNS = {
    "ref": ServiceStatus.ref,
    "name": ServiceStatus.name,
    "owner": ServiceStatus.owner,
    "tier": ServiceStatus.tier,
    "level": ServiceStatus.level_rank,
    "score": ServiceStatus.score,
    "ready": ServiceStatus.ready,
    "scanned_at": ServiceStatus.scanned_at,
}
_NULLABLE_SORT_KEYS = ("owner", "score")  # the rest are never NULL: no "unknown last" term, so an index serves
_ROW_FIELDS = (  # the status columns a service row shows, read as plain tuples (no ORM objects)
    *("ref", "name", "owner", "tier", "lifecycle", "repo", "scan_id", "scanned_at", "commit", "score", "level"),
    *("ready", "required_level", "levels", "blocking_unmet", "unmet", "waived", "waiver_carried", "version"),
    "changes_at",
)
_ROW_COLUMNS = tuple(col(getattr(ServiceStatus, name)) for name in _ROW_FIELDS)
_DUE = sa_select(col(ServiceStatus.service_id)).where(col(ServiceStatus.changes_at) <= bindparam("now")).limit(1)
_SERVED_BY_REF = (
    sa_select(*_ROW_COLUMNS, col(ServedReport.report))
    .join(ServedReport, col(ServedReport.service_id) == col(ServiceStatus.service_id))
    .where(col(ServiceStatus.ref) == bindparam("ref"))
)
_REPORT_BY_REF = (
    sa_select(col(ServedReport.report))
    .join(ServiceStatus, col(ServiceStatus.service_id) == col(ServedReport.service_id))
    .where(col(ServiceStatus.ref) == bindparam("ref"))
)
_shared: ContextVar[tuple[Engine, Session] | None] = ContextVar("prr_reads_shared_session", default=None)


# --------------------------------------------------------------------------- sessions


@contextmanager
def one_session(ctx: ReadContext) -> Iterator[None]:
    """The reads made inside share one session: due statuses are brought up to date once, and a
    page that shows several reads takes one connection for them. Reads return plain data, so a
    page renders after the block."""
    with _reading(ctx) as session:
        token = _shared.set((ctx.engine, session))
        try:
            yield
        finally:
            _shared.reset(token)


@contextmanager
def _reading(ctx: ReadContext, refresh: bool = True) -> Iterator[Session]:
    """A session to read from; with ``refresh``, the statuses due by ``ctx.now`` brought up to date
    first (every read of the served status does this, so none serves an expired waiver).

    Whether one is due is a single indexed query in the read's own session (almost always: none);
    only then does :func:`prr.status.refresh_due` run, in its own transaction, and the read goes on
    in a new session, which sees what it wrote. Inside :func:`one_session`, its session is reused.
    """
    shared = _shared.get()
    if shared is not None and shared[0] is ctx.engine:
        yield shared[1]
        return
    with Session(ctx.engine) as session:
        if not refresh or session.execute(_DUE, {"now": ctx.now}).first() is None:
            yield session
            return
    refresh_due(ctx)
    with Session(ctx.engine) as session:
        yield session


# --------------------------------------------------------------------------- one service


def _row(status: Sequence[Any]) -> dict[str, Any]:
    """A service row (see the module docstring) from a status row of :data:`_ROW_COLUMNS`."""
    row = dict(zip(_ROW_FIELDS, status))
    row["kind"], row["namespace"], _ = split_ref(row["ref"])
    row["scanned_at"], row["changes_at"] = iso(row["scanned_at"]), iso(row["changes_at"])
    row["levels"] = list(row["levels"])
    row["status_version"] = row.pop("version")
    return row


def service(ctx: ReadContext, ref: str) -> dict[str, Any] | None:
    """The service's row (as in ``list_services``), or None when it has no served status."""
    with _reading(ctx) as session:
        found = session.execute(sa_select(*_ROW_COLUMNS).where(col(ServiceStatus.ref) == ref)).first()
        return _row(found) if found else None


def service_scorecard(ctx: ReadContext, ref: str) -> dict[str, Any] | None:
    """The served report of the service (its latest scan, waivers and attestations in force now);
    None when the service has never been scanned."""
    with _reading(ctx) as session:
        found = session.execute(_REPORT_BY_REF, {"ref": ref}).first()
        return dict(found.report) if found else None


def served_view(ctx: ReadContext, ref: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The service's row and served report, read together (one version of the status)."""
    with _reading(ctx) as session:
        found = session.execute(_SERVED_BY_REF, {"ref": ref}).first()
        return (_row(found[:-1]), dict(found[-1])) if found else None


def scan_scorecard(ctx: ReadContext, scan_id: int) -> dict[str, Any] | None:
    """One stored scan's report, as it was stored."""
    with _reading(ctx, refresh=False) as session:
        scan = session.get(Scan, scan_id)
        return dict(scan.report) if scan else None


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
    """Services with their served verdict, filtered, sorted and paginated (in SQL).

    ``tier`` one tier or several, ``owner`` exact, ``level`` a level name or ``"none"``, ``ready``
    True/False, ``search`` a substring of the ref or name. ``sort`` is one of :data:`SORT_KEYS`,
    ``-`` in front for descending (``-score``); ties break by ref; unknown values sort last.
    ``page`` counts from 1; ``per_page`` ≤ 200. Raises ``ValueError`` for an unknown sort key or a
    page below 1.
    """
    descending, key = sort.startswith("-"), sort.lstrip("-")
    if key not in SORT_KEYS:
        raise ValueError(f"sort must be one of {', '.join(SORT_KEYS)} (prefix - for descending)")
    if not 1 <= page <= MAX_PAGE or not 1 <= per_page <= MAX_PER_PAGE:
        raise ValueError(f"page must be between 1 and {MAX_PAGE} and per_page between 1 and {MAX_PER_PAGE}")
    conditions = _filters(tier, owner, level, ready, search)
    column: Any = _SORT_COLUMNS[key]
    ordering = [column.desc() if descending else column.asc(), col(ServiceStatus.ref)]
    if key == "level":
        ordering.insert(0, column < 0)
    elif key in _NULLABLE_SORT_KEYS:
        ordering.insert(0, column.is_(None))
    with _reading(ctx) as session:
        total = session.execute(sa_select(func.count()).select_from(ServiceStatus).where(*conditions)).scalar_one()
        found = session.execute(
            sa_select(*_ROW_COLUMNS)
            .where(*conditions)
            .order_by(*ordering)
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).all()
        return Page([_row(s) for s in found], int(total), page, per_page)


def _filters(
    tier: str | Iterable[str] | None, owner: str | None, level: str | None, ready: bool | None, search: str | None
) -> list[Any]:
    found: list[Any] = []
    if tier is not None:
        found.append(col(ServiceStatus.tier).in_([tier] if isinstance(tier, str) else list(tier)))
    if owner is not None:
        found.append(ServiceStatus.owner == owner)
    if level is not None:
        found.append(col(ServiceStatus.level).is_(None) if level == NO_LEVEL else ServiceStatus.level == level)
    if ready is not None:
        found.append(ServiceStatus.ready == ready)
    if search:
        pattern = "%" + search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        found.append(
            or_(
                col(ServiceStatus.ref).like(pattern, escape="\\"),
                func.lower(ServiceStatus.name).like(pattern, escape="\\"),
            )
        )
    return found


def fleet_summary(ctx: ReadContext, owner: str | None = None) -> dict[str, Any]:
    """Counts for the overview (or one owner's services): per tier, services, ready, ready % and
    how many at each level.

    ``{"total": 12, "ready": 7, "levels": ["bronze", …], "tiers": {"0": {"total": 3, "ready": 1,
    "ready_pct": 33.3, "levels": {"gold": 1, "silver": 1, "bronze": 0, "none": 1}}, …}}``
    """
    query = select(
        ServiceStatus.tier, ServiceStatus.level, func.count(), func.sum(func.cast(col(ServiceStatus.ready), Integer))
    ).group_by(col(ServiceStatus.tier), col(ServiceStatus.level))
    if owner is not None:
        query = query.where(ServiceStatus.owner == owner)
    with _reading(ctx) as session:
        groups = session.exec(query).all()
    levels = list(ctx.scorecard.levels) if ctx.scorecard else sorted({lv for _, lv, _, _ in groups if lv})
    tiers: dict[str, dict[str, Any]] = {}
    for tier, level, count, ready in sorted(groups, key=lambda g: g[0]):
        bucket = tiers.setdefault(tier, {"total": 0, "ready": 0, "levels": {lv: 0 for lv in [*levels, NO_LEVEL]}})
        bucket["total"] += count
        bucket["ready"] += int(ready or 0)
        name = level or NO_LEVEL
        bucket["levels"][name] = bucket["levels"].get(name, 0) + count
    for bucket in tiers.values():
        bucket["ready_pct"] = round(100 * bucket["ready"] / bucket["total"], 1)
    total = sum(b["total"] for b in tiers.values())
    return {"total": total, "ready": sum(b["ready"] for b in tiers.values()), "levels": levels, "tiers": tiers}


def latest_scanned_at(ctx: ReadContext) -> str | None:
    """When the newest served scan was made."""
    with _reading(ctx, refresh=False) as session:
        return iso(session.exec(select(func.max(ServiceStatus.scanned_at))).one())


def team(ctx: ReadContext, owner: str, page: int = 1, per_page: int = 50, sort: str | None = None) -> dict[str, Any]:
    """One owner's services (one page; worst first unless ``sort`` is given), their counts, and
    the team's waivers in force."""
    with one_session(ctx):
        summary = fleet_summary(ctx, owner)
        if sort is not None:
            rows = list_services(ctx, owner=owner, sort=sort, page=page, per_page=per_page).items
        else:
            with _reading(ctx) as session:
                worst_first = (
                    sa_select(*_ROW_COLUMNS)
                    .where(col(ServiceStatus.owner) == owner)
                    .order_by(
                        col(ServiceStatus.ready),
                        col(ServiceStatus.score).is_(None).desc(),
                        col(ServiceStatus.score),
                        col(ServiceStatus.ref),
                    )
                )
                rows = [_row(s) for s in session.execute(worst_first.offset((page - 1) * per_page).limit(per_page))]
        in_force = waivers(ctx, owner=owner, state="active")
    return {
        "owner": owner,
        "services": rows,
        "total": summary["total"],
        "ready": summary["ready"],
        "page": page,
        "pages": max(1, -(-summary["total"] // per_page)),
        "waivers": in_force,
    }


def teams(ctx: ReadContext) -> list[dict[str, Any]]:
    """Every owner with their counts: ``{"owner", "total", "ready", "blocking_unmet", "tiers"}``."""
    with _reading(ctx) as session:
        groups = session.execute(
            sa_select(
                col(ServiceStatus.owner),
                col(ServiceStatus.tier),
                func.count(),
                func.sum(func.cast(col(ServiceStatus.ready), Integer)),
                func.sum(col(ServiceStatus.blocking_unmet)),
            ).group_by(col(ServiceStatus.owner), col(ServiceStatus.tier))
        ).all()
    by_owner: dict[str | None, dict[str, Any]] = {}
    for owner, tier, count, ready, blocking in groups:
        team = by_owner.setdefault(owner, {"owner": owner, "total": 0, "ready": 0, "blocking_unmet": 0, "tiers": set()})
        team["total"] += count
        team["ready"] += int(ready or 0)
        team["blocking_unmet"] += int(blocking or 0)
        team["tiers"].add(tier)
    return sorted(by_owner.values(), key=lambda t: (t["owner"] is None, t["owner"] or ""))


def owners(ctx: ReadContext) -> list[str]:
    """Every owner named by a scanned service, sorted."""
    with _reading(ctx, refresh=False) as session:
        return sorted(o for o in session.exec(select(ServiceStatus.owner).distinct()) if o)


def unmet_checks(ctx: ReadContext, owner: str) -> dict[str, list[dict[str, str]]]:
    """The checks the owner's services do not meet, by check id: the services (``ref``, ``kind``,
    ``namespace``, ``name``) in ref order."""
    found: dict[str, list[dict[str, str]]] = {}
    with _reading(ctx, refresh=False) as session:
        for check_id, ref in session.exec(
            select(ServiceCheck.check_id, ServiceStatus.ref)
            .join(ServiceStatus, col(ServiceStatus.service_id) == col(ServiceCheck.service_id))
            .where(ServiceStatus.owner == owner, ServiceCheck.state == "unmet")
            .order_by(col(ServiceStatus.ref))
        ):
            kind, namespace, name = split_ref(ref)
            found.setdefault(check_id, []).append({"ref": ref, "kind": kind, "namespace": namespace, "name": name})
    return found


def reports_of(ctx: ReadContext, refs: list[str]) -> dict[str, dict[str, Any]]:
    """The served reports of a page of services, by ref."""
    with _reading(ctx, refresh=False) as session:
        found = session.exec(
            select(ServiceStatus.ref, ServedReport)
            .join(ServedReport, col(ServedReport.service_id) == col(ServiceStatus.service_id))
            .where(col(ServiceStatus.ref).in_(refs))
        )
        return {ref: dict(kept.report) for ref, kept in found}


def latest_scans(engine: Engine, ref: str | None = None, depth: int = 1) -> list[tuple[Service, Scan]]:
    """Each service with its newest ``depth`` scans (newest first), ordered by ref."""
    ranked = select(
        Scan.id,
        func.row_number()
        .over(partition_by=col(Scan.service_id), order_by=(col(Scan.scanned_at).desc(), col(Scan.id).desc()))
        .label("rank"),
    ).subquery()
    query = (
        select(Service, Scan)
        .join(Scan, col(Scan.service_id) == col(Service.id))
        .join(ranked, ranked.c.id == Scan.id)
        .where(ranked.c.rank <= depth)
        .order_by(col(Service.ref), ranked.c.rank)
    )
    if ref is not None:
        query = query.where(Service.ref == ref)
    with Session(engine) as session:
        return [(s, scan) for s, scan in session.exec(query).all()]


# --------------------------------------------------------------------------- history & regressions


def service_history(ctx: ReadContext, ref: str, limit: int = 100) -> list[dict[str, Any]]:
    """The service's served verdict over time, oldest first (at most the newest ``limit``
    changes): status events (:func:`prr.status.event_dict`), ``waiver_carried`` marking where a
    waiver held the verdict up."""
    with _reading(ctx) as session:
        found = session.exec(
            select(StatusEvent)
            .where(StatusEvent.service_id == select(Service.id).where(Service.ref == ref).scalar_subquery())
            .order_by(col(StatusEvent.at).desc(), col(StatusEvent.id).desc())
            .limit(limit)
        ).all()
        return [event_dict(e) for e in reversed(found)]


def trends(ctx: ReadContext, refs: list[str], points: int = 12, days: int = 90) -> dict[str, list[float | None]]:
    """The last ``points`` served scores (of the last ``days``) of each of a page of services,
    oldest first, by ref."""
    ranked = (
        select(
            StatusEvent.ref,
            StatusEvent.score,
            func.row_number()
            .over(
                partition_by=col(StatusEvent.service_id),
                order_by=(col(StatusEvent.at).desc(), col(StatusEvent.id).desc()),
            )
            .label("rank"),
        )
        .where(
            col(StatusEvent.service_id).in_(select(Service.id).where(col(Service.ref).in_(refs))),
            col(StatusEvent.at) > ctx.now - timedelta(days=days),
        )
        .subquery()
    )
    found: dict[str, list[float | None]] = {ref: [] for ref in refs}
    with _reading(ctx, refresh=False) as session:
        for ref, score, _rank in session.exec(
            select(ranked.c.ref, ranked.c.score, ranked.c.rank)
            .where(ranked.c.rank <= points)
            .order_by(ranked.c.rank.desc())
        ):
            found[ref].append(score)
    return found


def regressions(ctx: ReadContext, since: datetime | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Services whose served verdict is worse now than at ``since`` (default a week ago; for a
    service first scanned since, than its first verdict): a lower level, no longer ready, or
    checks unmet now that were not then; whatever caused it (a scan, a waiver revoked or expired).
    Worst first (stopped ready, then level drops), then by tier and ref; at most ``limit``.

    Only services with a worsening change since are compared, a batch at a time, so the cost
    follows the regressions found, not the fleet.

    Item: ``{"ref", "name", "owner", "tier", "previous_level", "level", "level_dropped",
    "was_ready", "ready", "stopped_ready", "newly_unmet", "scan_id", "at", "causes"}`` (``at``: the
    newest change; ``causes``: the changes since, oldest first, as ``{"at", "cause", "cause_id"}``).
    """
    since = since or ctx.now - REGRESSION_WINDOW
    found: list[dict[str, Any]] = []
    with _reading(ctx) as session:
        candidates = session.exec(
            select(StatusEvent.service_id)
            .where(col(StatusEvent.worsened), col(StatusEvent.at) > since)
            .group_by(col(StatusEvent.service_id))
            .order_by(func.max(StatusEvent.tier), func.max(StatusEvent.ref))
        ).all()
        for start in range(0, len(candidates), REGRESSION_BATCH):
            batch = list(candidates[start : start + REGRESSION_BATCH])
            found += _regressed(session, batch, since)
            if len(found) >= limit:
                break
    found.sort(key=lambda c: (not c["stopped_ready"], not c["level_dropped"], c["tier"], c["ref"]))
    return found[:limit]


def _regressed(session: Session, service_ids: list[int], since: datetime) -> list[dict[str, Any]]:
    """Of these services, the ones worse now than at ``since``."""
    moved: dict[int, list[StatusEvent]] = {}
    for change in session.exec(
        select(StatusEvent)
        .where(col(StatusEvent.service_id).in_(service_ids), col(StatusEvent.at) > since)
        .order_by(col(StatusEvent.id))
    ):
        moved.setdefault(change.service_id, []).append(change)
    last_before = (
        select(func.max(StatusEvent.id))
        .where(col(StatusEvent.service_id).in_(service_ids), col(StatusEvent.at) <= since)
        .group_by(col(StatusEvent.service_id))
    )
    baselines = {e.service_id: e for e in session.exec(select(StatusEvent).where(col(StatusEvent.id).in_(last_before)))}
    found = []
    for service_id, changes in moved.items():
        item = _compare(baselines.get(service_id, changes[0]), changes[-1])  # new since then: its first verdict
        if item:
            item["causes"] = [{"at": iso(m.at), "cause": m.cause, "cause_id": m.cause_id} for m in changes[-5:]]
            found.append(item)
    return found


def _compare(before: StatusEvent, now: StatusEvent) -> dict[str, Any] | None:
    level_dropped = now.level_rank < before.level_rank
    stopped_ready = before.ready and not now.ready
    newly_unmet = [c for c in now.unmet if c not in set(before.unmet)]
    if not (level_dropped or stopped_ready or newly_unmet):
        return None
    return {
        "ref": now.ref,
        "name": split_ref(now.ref)[2],
        "owner": now.owner,
        "tier": now.tier,
        "previous_level": before.level,
        "level": now.level,
        "level_dropped": level_dropped,
        "was_ready": before.ready,
        "ready": now.ready,
        "stopped_ready": stopped_ready,
        "newly_unmet": newly_unmet,
        "previous_scan_id": before.scan_id,
        "scan_id": now.scan_id,
        "at": iso(now.at),
    }


# --------------------------------------------------------------------------- checks


MAX_CHECK_ITEMS = 200  # failing / waived services listed on a check's view


def check_view(ctx: ReadContext, check_id: str) -> dict[str, Any]:
    """How the fleet does on one check (served results): ``{"check": check_info or None,
    "failing": [...], "waived": [...], "met": n, "not_applicable": n, "unmet": n}``; each failing
    / waived item is ``{"ref", "name", "owner", "tier", "status", "summary", "evidence", "waiver",
    "scan_id", "repo", "commit"}``, failing sorted by tier then ref (at most 200 of each).
    """
    refresh_due(ctx)
    counts = check_tally(ctx, check_id).get(check_id, {})
    view: dict[str, Any] = {
        "check": check_info(ctx, check_id),
        "failing": [],
        "waived": [],
        "met": counts.get("met", 0),
        "unmet": counts.get("unmet", 0),
        "not_applicable": counts.get("not_applicable", 0),
    }
    with _reading(ctx, refresh=False) as session:
        for state, key in (("unmet", "failing"), ("waived", "waived")):
            found = session.execute(
                sa_select(ServiceCheck, col(ServiceStatus.ref), col(ServiceStatus.name), col(ServiceStatus.owner))
                .add_columns(col(ServiceStatus.tier), col(ServiceStatus.scan_id), col(ServiceStatus.repo))
                .add_columns(col(ServiceStatus.commit))
                .join(ServiceStatus, col(ServiceStatus.service_id) == col(ServiceCheck.service_id))
                .where(col(ServiceCheck.check_id) == check_id, col(ServiceCheck.state) == state)
                .order_by(col(ServiceStatus.tier), col(ServiceStatus.ref))
                .limit(MAX_CHECK_ITEMS)
            ).all()
            view[key] = [
                {
                    "ref": ref,
                    "name": name,
                    "owner": owner,
                    "tier": tier,
                    "status": entry.status,
                    "summary": entry.summary,
                    "evidence": entry.evidence,
                    "waiver": entry.waiver,
                    "scan_id": scan_id,
                    "repo": repo,
                    "commit": commit,
                }
                for entry, ref, name, owner, tier, scan_id, repo, commit in found
            ]
    return view


def check_tally(ctx: ReadContext, check_id: str | None = None) -> dict[str, dict[str, int]]:
    """Per check id: how many services meet it, fail it, have it waived, or where it does not apply."""
    query = select(ServiceCheck.check_id, ServiceCheck.state, func.count()).group_by(
        col(ServiceCheck.check_id), col(ServiceCheck.state)
    )
    if check_id is not None:
        query = query.where(ServiceCheck.check_id == check_id)
    tally: dict[str, dict[str, int]] = {}
    with _reading(ctx, refresh=False) as session:
        for found_id, state, count in session.exec(query):
            tally.setdefault(found_id, {"met": 0, "unmet": 0, "waived": 0, "not_applicable": 0})[state] = count
    return tally


def checks(ctx: ReadContext) -> list[dict[str, Any]]:
    """Installed checks (metadata) with their place in the configured scorecard (``scorecard``:
    ``{"level", "weight", "blocking", "tiers"}`` or None when the scorecard does not use the check)."""
    return [info for c in ctx.registry if (info := check_info(ctx, c.id)) is not None]


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
    return {**ctx.registry.get(check_id).metadata(ctx.now), "scorecard": placement}


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
    ctx: ReadContext, *, ref: str | None = None, owner: str | None = None, state: str = "all", within_days: int = 30
) -> list[dict[str, Any]]:
    """Waivers (stored and config) of one service, one owner's services or all, newest expiry
    first. ``state``: ``active`` (in force now),
    ``expiring`` (in force, expiring within ``within_days``), ``expired``, ``revoked`` or ``all``.

    Item: ``{"id" (None for config waivers), "service", "check", "reason", "approver", "created_at",
    "expires_at", "revoked_at", "revoked_by", "source": "portal"|"config", "state":
    "active"|"expired"|"revoked", "expires_in_days"}``.
    """
    if state not in WAIVER_STATES:
        raise ValueError(f"state must be one of {', '.join(WAIVER_STATES)}")
    items = []
    with _reading(ctx, refresh=False) as session:
        refs = (
            None if owner is None else set(session.exec(select(ServiceStatus.ref).where(ServiceStatus.owner == owner)))
        )
        query = select(WaiverRecord)
        if ref is not None:
            query = query.where(WaiverRecord.service_ref == ref)
        if refs is not None:
            query = query.where(col(WaiverRecord.service_ref).in_(refs))
        for r in session.exec(query):
            items.append(_stored_waiver_item(ctx, r))
    for service_ref, w in ctx.config.waivers:
        if (ref is None or service_ref == ref) and (refs is None or service_ref in refs):
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


def _stored_waiver_item(ctx: ReadContext, r: WaiverRecord) -> dict[str, Any]:
    return _waiver_item(
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


def waiver(ctx: ReadContext, waiver_id: int) -> dict[str, Any] | None:
    """One stored waiver (as in :func:`waivers`), or None."""
    with _reading(ctx, refresh=False) as session:
        r = session.get(WaiverRecord, waiver_id)
        if r is None:
            return None
        item = _stored_waiver_item(ctx, r)
    item.pop("_expires")
    return item


def attestations(ctx: ReadContext, ref: str) -> list[dict[str, Any]]:
    """Every answer given for the service's manual checks, newest first:
    ``{"id", "service", "check", "answer", "evidence_url", "attested_by", "created_at", "expires_at",
    "state": "valid"|"expired"|"superseded"}`` (superseded: a newer answer exists for the check)."""
    with _reading(ctx, refresh=False) as session:
        records = session.exec(
            select(AttestationRecord)
            .where(AttestationRecord.service_ref == ref)
            .order_by(col(AttestationRecord.created_at).desc(), col(AttestationRecord.id).desc())
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
    "go"|"no-go", "decided_by", "decided_at", "notes", "commit", "level", "ready", "score",
    "status_version", "waivers"}`` (the served verdict the approver saw, and the waivers it counted)."""
    with _reading(ctx, refresh=False) as session:
        rows = session.exec(
            select(SignOff, Scan)
            .join(Scan, col(Scan.id) == col(SignOff.scan_id))
            .where(SignOff.service_ref == ref)
            .order_by(col(SignOff.decided_at).desc(), col(SignOff.id).desc())
        ).all()
        return [signoff_item(s, scan) for s, scan in rows]


def signoff_item(s: SignOff, scan: Scan) -> dict[str, Any]:
    """One decision as :func:`signoffs` lists it (recorded before verdicts were kept: the scan's)."""
    kept = s.status_version is not None
    return {
        "id": s.id,
        "service": s.service_ref,
        "scan_id": s.scan_id,
        "decision": s.decision,
        "decided_by": s.decided_by,
        "decided_at": iso(s.decided_at),
        "notes": s.notes,
        "commit": scan.commit,
        "level": s.level if kept else scan.level,
        "ready": s.ready if kept else scan.ready,
        "score": s.score if kept else scan.score,
        "status_version": s.status_version,
        "waivers": list(s.waivers or []),
    }


def audit_log(ctx: ReadContext, limit: int = 100, target: str | None = None) -> list[dict[str, Any]]:
    """The newest audited writes: ``{"id", "at", "actor", "action", "target", "details"}``."""
    with _reading(ctx, refresh=False) as session:
        query = select(AuditEntry).order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).limit(limit)
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


# --------------------------------------------------------------------------- what a repo cannot change alone


def custody_notices(ctx: ReadContext, ref: str, repo: str) -> dict[str, list[dict[str, Any]]]:
    """What the pages of the service ``ref`` (scanned from ``repo``) say about its custody
    (:mod:`prr.custody`): owner and tier changes waiting for an approver (``changes``), and open
    conflicts over its ref or its source (``conflicts``)."""
    with _reading(ctx, refresh=False) as session:
        service_id = select(Service.id).where(Service.ref == ref).scalar_subquery()
        return {
            "changes": custody.changes(session, service_id),
            "conflicts": custody.conflicts(session, ref=ref, repo=repo),
        }


def service_changes(ctx: ReadContext, ref: str, pending_only: bool) -> list[dict[str, Any]] | None:
    """The owner and tier changes read from the service's repo; None for an unknown service."""
    with _reading(ctx, refresh=False) as session:
        service_id = session.exec(select(Service.id).where(Service.ref == ref)).first()
        return custody.changes(session, service_id, pending_only) if service_id is not None else None


def ref_conflicts(ctx: ReadContext, open_only: bool) -> list[dict[str, Any]]:
    """Sources refused because they declare a ref another source holds (newest first)."""
    with _reading(ctx, refresh=False) as session:
        return custody.conflicts(session, open_only=open_only)
