"""The served status of each service, kept current, and the events that record its changes.

One row of ``service_status`` per service holds what the portal serves for it: its latest scan with
the waivers and attestations in force applied (:func:`prr.served.reapply`), the counts lists and
filters need, and ``changes_at``, the moment it next changes by itself (the earliest expiry of a
waiver or answer in force). :func:`recompute` rewrites the row inside the transaction of whatever
changed it — a scan stored, a waiver granted or revoked, an answer recorded — and appends a
``status_event`` when the service's level, readiness, a check's met state or its scan changed.

Time moves verdicts too: :func:`refresh_due` recomputes the rows whose ``changes_at`` has passed
(at that moment, so each expiry is an event at the time it happened). Every read of the status
calls it first, and the portal ticks it periodically, so no read serves an expired waiver.
:func:`sync` brings rows up to date at start (scans stored by other paths, a changed scorecard or
config waivers).

Events are what history, regressions, webhooks and reports read: :func:`verdicts_as_of` gives the
served verdict of every service at any moment.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, delete, select

from prr import custody, notify
from prr.context import ReadContext
from prr.moments import aware, iso
from prr.refs import portal_link
from prr.served import answers_as_of, reapply, waivers_in_force
from prr.storage.db import add_report
from prr.storage.models import (
    AttestationRecord,
    Scan,
    ServedReport,
    Service,
    ServiceCheck,
    ServiceStatus,
    StatusEvent,
    WaiverRecord,
)

EVENT_FIELDS = (
    "id",
    "ref",
    "at",
    "cause",
    "cause_id",
    "tier",
    "owner",
    "scan_id",
    "commit",
    "previous_level",
    "level",
    "previous_ready",
    "ready",
    "score",
    "required_level",
    "waiver_carried",
    "level_dropped",
    "stopped_ready",
    "newly_unmet",
    "newly_met",
)


def inputs_fingerprint(ctx: ReadContext) -> str:
    """What served rows depend on besides the database: the scorecard, the config's waivers, the
    portal's address. A row computed with other inputs is recomputed at start."""
    card = ctx.scorecard
    document = {
        "scorecard": [card.id, card.version] if card else None,
        "waivers": sorted([ref, w.check, iso(w.expires), w.reason, w.approver] for ref, w in ctx.config.waivers),
        "base_url": ctx.portal_settings.get("base_url"),
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


# --------------------------------------------------------------------------- recomputing one service


def latest_scan(session: Session, service_id: int) -> Scan | None:
    return session.exec(
        select(Scan)
        .where(Scan.service_id == service_id)
        .order_by(col(Scan.scanned_at).desc(), col(Scan.id).desc())
        .limit(1)
    ).first()


def recompute(
    session: Session,
    ctx: ReadContext,
    service_id: int,
    cause: str,
    cause_id: int | None = None,
    scan: Scan | None = None,
) -> dict[str, Any] | None:
    """Rewrite the service's status at ``ctx.now`` in ``session``'s transaction, serving ``scan``
    (default: its latest); append an event (returned as a dict) when its level, readiness, a
    check's met state or its scan changed."""
    row = session.exec(
        select(ServiceStatus).where(ServiceStatus.service_id == service_id).with_for_update()
    ).first()  # PostgreSQL: one writer per service at a time
    service, scan = session.get(Service, service_id), scan or latest_scan(session, service_id)
    if service is None or scan is None:
        return None
    waivers = waivers_in_force(session, ctx.config, ctx.now, service.ref).get(service.ref, [])
    answers = answers_as_of(session, ctx.now, service.ref).get(service.ref, {})
    served = reapply(ctx, scan.report, waivers, answers)
    served["service"] = {**served["service"], "owner": service.owner}  # the owner in force (prr.custody)
    bare = reapply(ctx, scan.report, [], answers) if waivers else served
    kept = session.get(ServedReport, service_id)
    before = kept.report if kept is not None else None
    levels = list(served["scorecard"]["levels"])
    applicable = [c for c in served["checks"] if c["met"] is not None]
    values = {
        "ref": service.ref,
        "name": service.name,
        "owner": service.owner,
        "tier": scan.tier,
        "lifecycle": service.lifecycle,
        "repo": service.repo,
        "level": served["level"],
        "level_rank": levels.index(served["level"]) if served["level"] in levels else -1,
        "required_level": served["scorecard"]["required_level"],
        "levels": levels,
        "score": served["score"],
        "ready": served["ready"],
        "unmet": sum(1 for c in applicable if not c["met"]),
        "blocking_unmet": sum(1 for c in applicable if c["blocking"] and not c["met"]),
        "waived": sum(1 for c in served["checks"] if c["waived"]),
        "waiver_carried": _rank(levels, served["level"]) > _rank(levels, bare["level"])
        or (served["ready"] and not bare["ready"]),
        "scan_id": scan.id,
        "commit": scan.commit,
        "scanned_at": scan.scanned_at,
        "scorecard_id": scan.scorecard_id,
        "scorecard_version": scan.scorecard_version,
        "changes_at": _next_change(ctx.now, waivers, answers),
        "inputs": inputs_fingerprint(ctx),
        "updated_at": ctx.now,
    }
    event = _event(before, served, values, service_id, ctx.now, cause, cause_id)
    if row is None:
        row = ServiceStatus(service_id=service_id, version=1, **values)
        session.add(row)
    else:
        for key, value in values.items():
            setattr(row, key, value)
        row.version += event is not None
    session.flush()
    if kept is None:
        session.add(ServedReport(service_id=service_id, report=served))
    else:
        kept.report = served
    _write_checks(session, service_id, served["checks"])
    if event is None:
        return None
    session.add(event)
    session.flush()
    return event_dict(event)


def _rank(levels: list[str], level: str | None) -> int:
    return levels.index(level) if level in levels else -1


def _met(report: dict[str, Any] | None) -> dict[str, bool | None]:
    return {c["id"]: c["met"] for c in report["checks"]} if report else {}


def _event(
    before: dict[str, Any] | None,
    served: dict[str, Any],
    values: dict[str, Any],
    service_id: int,
    at: datetime,
    cause: str,
    cause_id: int | None,
) -> StatusEvent | None:
    was, now = _met(before), _met(served)
    levels = values["levels"]
    previous_level = before["level"] if before else None
    previous_ready = before["ready"] if before else None
    unchanged = (
        before is not None
        and before.get("scan_id") == served.get("scan_id")
        and previous_level == served["level"]
        and previous_ready == served["ready"]
        and was == now
    )
    if unchanged:
        return None
    level_dropped = before is not None and _rank(levels, served["level"]) < _rank(levels, previous_level)
    stopped_ready = bool(previous_ready) and not served["ready"]
    newly_unmet = [c for c, met in now.items() if met is False and was.get(c) is True]
    return StatusEvent(
        service_id=service_id,
        ref=values["ref"],
        at=at,
        cause=cause,
        cause_id=cause_id,
        tier=values["tier"],
        owner=values["owner"],
        scan_id=values["scan_id"],
        commit=values["commit"],
        previous_level=previous_level,
        level=served["level"],
        level_rank=_rank(levels, served["level"]),
        previous_ready=previous_ready,
        ready=served["ready"],
        score=served["score"],
        required_level=values["required_level"],
        waiver_carried=values["waiver_carried"],
        level_dropped=level_dropped,
        stopped_ready=stopped_ready,
        worsened=level_dropped or stopped_ready or bool(newly_unmet),
        newly_unmet=newly_unmet,
        newly_met=[c for c, met in now.items() if met is True and was.get(c) is False],
        unmet=[c for c, met in now.items() if met is False],
        waived=[c["id"] for c in served["checks"] if c["waived"]],
    )


def _next_change(now: datetime, waivers: list[Any], answers: dict[str, Any]) -> datetime | None:
    """The earliest expiry, after ``now``, of a waiver or answer in force."""
    moments = [w.expires for w in waivers] + [a.expires for a in answers.values() if a.expires > now]
    return min(moments) if moments else None


def _write_checks(session: Session, service_id: int, entries: list[dict[str, Any]]) -> None:
    session.execute(delete(ServiceCheck).where(col(ServiceCheck.service_id) == service_id))
    for entry in entries:
        state = (
            "not_applicable"
            if entry["met"] is None
            else "waived"
            if entry["waived"]
            else "met"
            if entry["met"]
            else "unmet"
        )
        session.add(
            ServiceCheck(
                service_id=service_id,
                check_id=entry["id"],
                state=state,
                status=entry["status"],
                summary=entry["summary"],
                evidence=entry["evidence"],
                waiver=entry["waiver"],
            )
        )


def event_dict(event: StatusEvent) -> dict[str, Any]:
    """An event as the API shows it."""
    item = {name: getattr(event, name) for name in EVENT_FIELDS}
    item["at"] = iso(event.at)
    return item


# --------------------------------------------------------------------------- causes


def service_id_of(session: Session, ref: str) -> int | None:
    return session.exec(select(Service.id).where(Service.ref == ref)).first()


def record_scan(
    ctx: ReadContext, report: dict[str, Any], task_key: str | None = None
) -> tuple[int, list[dict[str, Any]]]:
    """Store a scan and recompute its service's status in one transaction, as of the scan's time
    (or the status's last change, when that is later); returns (scan id, events). Webhooks are
    the caller's (:func:`notify_events`). ``task_key``: the queued task the scan answers (stored once).

    Raises :class:`prr.custody.RefClaimed` when another source holds the scanned service's ref."""
    try:
        return _claim_and_store(ctx, report, task_key)
    except IntegrityError:  # another source registered the same new ref at the same moment: claim it again
        return _claim_and_store(ctx, report, task_key)


def _claim_and_store(
    ctx: ReadContext, report: dict[str, Any], task_key: str | None
) -> tuple[int, list[dict[str, Any]]]:
    with Session(ctx.engine) as session, session.begin():
        refusal = custody.refuse_claim(session, ctx.now, report)
        if refusal is None:
            return _store_scan(session, ctx, report, task_key)
    raise refusal  # its conflict and audit entry are committed


def _store_scan(
    session: Session, ctx: ReadContext, report: dict[str, Any], task_key: str | None
) -> tuple[int, list[dict[str, Any]]]:
    scan_id = add_report(session, report, task_key)
    scan = session.get(Scan, scan_id)
    assert scan is not None
    service = session.get(Service, scan.service_id)  # loaded by add_report: no query
    assert service is not None
    latest = latest_scan(session, scan.service_id)
    if latest is None or latest.id != scan_id:  # an older scan stored late: the served verdict stands
        return scan_id, []
    custody.settle(session, ctx.now, service, scan, report)
    last_change = session.exec(
        select(ServiceStatus.updated_at).where(ServiceStatus.service_id == scan.service_id)
    ).first()
    at = max(aware(scan.scanned_at), aware(last_change or scan.scanned_at))
    event = recompute(session, replace(ctx, now=at), scan.service_id, "scan", scan_id)
    return scan_id, [event] if event else []


def recompute_ref(session: Session, ctx: ReadContext, ref: str, cause: str, cause_id: int | None) -> list[dict]:
    """:func:`recompute` for a service by ref (in the caller's transaction); its events."""
    service_id = service_id_of(session, ref)
    event = recompute(session, ctx, service_id, cause, cause_id) if service_id is not None else None
    return [event] if event else []


def refresh_due(ctx: ReadContext) -> list[dict[str, Any]]:
    """Recompute every status whose ``changes_at`` has passed, each at that moment (so an expiry is
    an event at the time it happened), and notify the webhooks; the events."""
    events: list[dict[str, Any]] = []
    for _ in range(10_000):  # each pass moves one row's changes_at strictly forward
        try:
            with Session(ctx.engine) as session, session.begin():
                due = session.exec(
                    select(ServiceStatus.service_id, ServiceStatus.ref, ServiceStatus.changes_at)
                    .where(col(ServiceStatus.changes_at) <= ctx.now)
                    .order_by(col(ServiceStatus.changes_at))
                    .limit(1)
                ).first()
                if due is None:
                    break
                service_id, ref, changes_at = due
                moment = aware(changes_at or ctx.now)
                cause, cause_id = _what_expired(session, ref, moment)
                event = recompute(session, replace(ctx, now=moment), service_id, cause, cause_id)
        except (IntegrityError, OperationalError):  # another process got there first: look again
            continue
        if event:
            events.append(event)
    notify_events(ctx, events)
    return events


def _what_expired(session: Session, ref: str, moment: datetime) -> tuple[str, int | None]:
    waiver = session.exec(
        select(WaiverRecord.id).where(WaiverRecord.service_ref == ref, WaiverRecord.expires_at == moment)
    ).first()
    if waiver is not None:
        return "waiver.expired", waiver
    answer = session.exec(
        select(AttestationRecord.id).where(AttestationRecord.service_ref == ref, AttestationRecord.expires_at == moment)
    ).first()
    if answer is not None:
        return "attestation.expired", answer
    return "waiver.expired", None  # a config waiver


def sync(ctx: ReadContext) -> int:
    """Bring every status up to date at start: services never given one (their stored scans are
    replayed, oldest first, so their history has events), scans stored since by another path, and
    rows computed with another scorecard or other config waivers. Returns how many were recomputed."""
    fingerprint = inputs_fingerprint(ctx)
    with Session(ctx.engine) as session:
        missing = session.exec(
            select(Service.id).where(
                ~select(ServiceStatus.service_id).where(ServiceStatus.service_id == Service.id).exists()
            )
        ).all()
        newer = session.exec(
            select(ServiceStatus.service_id).where(
                select(Scan.id)
                .where(Scan.service_id == ServiceStatus.service_id, col(Scan.scanned_at) > ServiceStatus.scanned_at)
                .exists()
            )
        ).all()
        changed = session.exec(select(ServiceStatus.service_id).where(ServiceStatus.inputs != fingerprint)).all()
    done = 0
    for service_id in missing:
        done += _replay(ctx, service_id) if service_id is not None else 0
    for service_id, cause in [(s, "scan") for s in newer] + [(s, "start") for s in changed if s not in newer]:
        try:
            with Session(ctx.engine) as session, session.begin():
                recompute(session, ctx, service_id, cause)
            done += 1
        except (IntegrityError, OperationalError):  # another portal process is doing the same
            continue
    return done


def _replay(ctx: ReadContext, service_id: int) -> int:
    """Give a service its status by replaying its stored scans, oldest first, each at its time."""
    try:
        with Session(ctx.engine) as session, session.begin():
            scans = session.exec(
                select(Scan).where(Scan.service_id == service_id).order_by(col(Scan.scanned_at), col(Scan.id))
            ).all()
            for scan in scans:
                recompute(session, replace(ctx, now=aware(scan.scanned_at)), service_id, "scan", scan.id, scan)
            recompute(session, ctx, service_id, "start")  # and as of now
    except (IntegrityError, OperationalError):  # another portal process is doing the same
        return 0
    return 1


def notify_events(ctx: ReadContext, events: list[dict[str, Any]]) -> None:
    """Deliver the webhooks the events raise (a level drop, a service no longer ready)."""
    if events and ctx.config.data.get("webhooks"):
        notify.deliver_events(ctx.config, events, lambda ref: portal_link(ctx.config, ref))


# --------------------------------------------------------------------------- reads


def verdicts_as_of(session: Session, at: datetime) -> list[StatusEvent]:
    """The served verdict of every service as it stood at ``at``: each service's last event by
    then (services with none yet are left out), ordered by ref."""
    last = (
        select(StatusEvent.service_id, func.max(StatusEvent.id).label("id"))
        .where(col(StatusEvent.at) <= at)
        .group_by(col(StatusEvent.service_id))
        .subquery()
    )
    return list(
        session.exec(select(StatusEvent).join(last, last.c.id == StatusEvent.id).order_by(col(StatusEvent.ref))).all()
    )
