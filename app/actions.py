"""The portal's writes: waivers, attestations, sign-offs, rescans — each one audited.

Shared by the JSON API, the HTML forms and ``prr scan``. Every function takes a
:class:`prr.context.ReadContext` and the :class:`prr.identity.Identity` making the change, checks
what that identity may do (the table is in :mod:`prr.identity`), and raises a
:class:`prr.errors.PortalError` when it may not or the input is bad.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from prr import custody, reads, schemas
from prr.context import ReadContext
from prr.errors import Conflict, Forbidden, Invalid, NotFound, StaleVerdict, Unavailable
from prr.fleet import FleetEntry, entry_scanned_as, latest_report, scan_entry
from prr.identity import Identity, may_attest, may_rescan, require_approver
from prr.jobs import ScanJob, ScanJobs
from prr.moments import iso, parse_iso
from prr.served import scan_sources
from prr.status import notify_events, recompute_ref, record_scan
from prr.storage.models import (
    AttestationRecord,
    AuditEntry,
    PendingChange,
    RefConflict,
    Scan,
    ServedReport,
    Service,
    ServiceStatus,
    SignOff,
    WaiverRecord,
)

DEFAULT_MAX_WAIVER_DAYS = 180
DEFAULT_ATTESTATION_DAYS = 365
DECISIONS = ("go", "no-go")
MAX_REASON_CHARS = 2000  # a waiver's reason, through the API and the form alike


# --------------------------------------------------------------------------- waivers


def grant_waiver(
    ctx: ReadContext, who: Identity, ref: str, check_id: str, reason: str, expires: datetime | str
) -> tuple[dict[str, Any], bool]:
    """Waive ``check_id`` for the service until ``expires`` (≤ ``portal.max_waiver_days`` ahead);
    returns ``(waiver, created)``. The same waiver granted again while it is in force (same check,
    approver, reason and expiry) is not stored twice: the one in force comes back, not created."""
    row = _service_row(ctx, ref)
    require_approver(who, row["owner"], "grant a waiver")
    expires_at = _moment(expires, "expires")
    reason = reason.strip()
    _validate(
        "waiver",
        {"service": ref, "check": check_id, "reason": reason, "approver": who.user, "expires": iso(expires_at)},
    )
    if check_id not in _check_ids(ctx, ref):
        raise Invalid(f"the scorecard of {ref} has no check {check_id!r}", field="check")
    limit = int(ctx.portal_settings.get("max_waiver_days", DEFAULT_MAX_WAIVER_DAYS))
    if expires_at <= ctx.now:
        raise Invalid("expires must be in the future", field="expires")
    if expires_at > ctx.now + timedelta(days=limit):
        raise Invalid(f"a waiver may last at most {limit} days (portal.max_waiver_days)", field="expires")
    with Session(ctx.engine) as session, session.begin():
        same = session.exec(
            select(WaiverRecord.id).where(
                WaiverRecord.service_ref == ref,
                WaiverRecord.check_id == check_id,
                WaiverRecord.approver == who.user,
                WaiverRecord.reason == reason,
                WaiverRecord.expires_at == expires_at,
                WaiverRecord.revoked_at.is_(None),  # type: ignore[union-attr]
            )
        ).first()
        if same is not None:
            return _found(reads.waiver(ctx, same)), False
        record = WaiverRecord(
            service_ref=ref,
            check_id=check_id,
            reason=reason,
            approver=who.user,
            created_at=ctx.now,
            expires_at=expires_at,
            source="portal",
        )
        session.add(record)
        session.flush()
        _audit(
            session,
            ctx,
            who,
            "waiver.grant",
            f"{ref}#{check_id}",
            {"waiver_id": record.id, "reason": record.reason, "expires": iso(expires_at)},
        )
        waiver_id = _id(record.id)
        events = recompute_ref(session, ctx, ref, "waiver.granted", waiver_id)
    notify_events(ctx, events)
    return _found(reads.waiver(ctx, waiver_id)), True


def revoke_waiver(ctx: ReadContext, who: Identity, waiver_id: int, reason: str = "") -> dict[str, Any]:
    """Revoke a stored waiver: it stops applying now, and its record stays (with who revoked it)."""
    with Session(ctx.engine) as session, session.begin():
        record = session.get(WaiverRecord, waiver_id)
        if record is None:
            raise NotFound(f"no waiver {waiver_id}")
        owner = session.exec(select(Service.owner).where(Service.ref == record.service_ref)).first()
        require_approver(who, owner, "revoke a waiver")
        if record.revoked_at is not None:
            raise Conflict(f"waiver {waiver_id} was already revoked by {record.revoked_by}")
        record.revoked_at, record.revoked_by = ctx.now, who.user
        _audit(
            session,
            ctx,
            who,
            "waiver.revoke",
            f"{record.service_ref}#{record.check_id}",
            {"waiver_id": waiver_id, "reason": reason},
        )
        events = recompute_ref(session, ctx, record.service_ref, "waiver.revoked", waiver_id)
    notify_events(ctx, events)
    return _found(reads.waiver(ctx, waiver_id))


# --------------------------------------------------------------------------- attestations


def attest(
    ctx: ReadContext,
    who: Identity,
    ref: str,
    check_id: str,
    answer: bool,
    evidence_url: str | None = None,
    expires: datetime | str | None = None,
) -> dict[str, Any]:
    """Answer a manual check for the service. A "yes" needs an http(s) evidence URL. It is valid
    until ``expires``, at most the check's ``validity_days`` parameter (else
    ``portal.attestation_validity_days``, default 365) from now, which is also the default."""
    row = _service_row(ctx, ref)
    if not may_attest(who, row["owner"]):
        raise Forbidden(
            f"only members of {row['owner'] or 'the owning team'} (or an admin) may answer "
            f"its manual checks; {who.user} is not one"
        )
    entry = next((c for c in _served_checks(ctx, ref) if c["id"] == check_id), None)
    if entry is None or entry.get("kind") != "manual":
        raise Invalid(f"{check_id!r} is not a manual check of {ref}'s scorecard", field="check")
    if not isinstance(answer, bool):
        raise Invalid("answer must be true or false", field="answer")
    if evidence_url and not evidence_url.lower().startswith(("https://", "http://")):
        raise Invalid("evidence_url must be an http(s) URL", field="evidence_url")
    if answer and not evidence_url:
        raise Invalid("a yes needs evidence: link the review, ticket or report (evidence_url)", field="evidence_url")
    validity = _validity_days(ctx, check_id, row["tier"])
    latest = ctx.now + timedelta(days=validity)
    expires_at = latest if expires is None else _moment(expires, "expires")
    if not ctx.now < expires_at <= latest:
        raise Invalid(f"expires must be in the future and within {validity} days", field="expires")
    with Session(ctx.engine) as session, session.begin():
        record = AttestationRecord(
            service_ref=ref,
            check_id=check_id,
            answer=answer,
            evidence_url=evidence_url,
            attested_by=who.user,
            created_at=ctx.now,
            expires_at=expires_at,
        )
        session.add(record)
        session.flush()
        _audit(
            session,
            ctx,
            who,
            "attestation.create",
            f"{ref}#{check_id}",
            {
                "attestation_id": record.id,
                "answer": answer,
                "evidence_url": evidence_url,
                "expires": iso(expires_at),
            },
        )
        attestation_id = _id(record.id)
        events = recompute_ref(session, ctx, ref, "attestation", attestation_id)
    notify_events(ctx, events)
    return next(a for a in reads.attestations(ctx, ref) if a["id"] == attestation_id)


def _validity_days(ctx: ReadContext, check_id: str, tier: str) -> int:
    entry = next((c for c in ctx.scorecard.checks if c.id == check_id), None) if ctx.scorecard else None
    params = entry.params_for(tier) if entry else {}
    if "validity_days" not in params and check_id in ctx.registry:
        params = ctx.registry.get(check_id).resolve_params(params)
    default = ctx.portal_settings.get("attestation_validity_days", DEFAULT_ATTESTATION_DAYS)
    return int(params.get("validity_days", default))


# --------------------------------------------------------------------------- sign-offs


def sign_off(
    ctx: ReadContext,
    who: Identity,
    ref: str,
    decision: str,
    notes: str = "",
    *,
    status_version: int | None = None,
    scan_id: int | None = None,
    idempotency_key: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """Record a launch review decision (``go`` / ``no-go``) on the service's served verdict, keeping
    the verdict (level, ready, score, scan, waivers in force) with it. Returns (sign-off, created).

    ``status_version`` / ``scan_id``: the status the approver was shown; when the served verdict has
    changed since, the decision is refused with :class:`StaleVerdict` carrying the current one.
    ``idempotency_key``: a resent request with the same key returns the first one's sign-off.
    """
    row = _service_row(ctx, ref)
    require_approver(who, row["owner"], "record a launch review sign-off")
    if decision not in DECISIONS:
        raise Invalid("decision must be go or no-go", field="decision")
    if len(notes) > 10_000:
        raise Invalid("notes are limited to 10000 characters", field="notes")
    if scan_id is not None and not 0 < scan_id < 2**63:  # no row has such an id (and the database could not look it up)
        raise Invalid(f"scan {scan_id} is not a scan of {ref}", field="scan_id")
    if idempotency_key is not None and not 8 <= len(idempotency_key) <= 64:
        raise Invalid("the idempotency key must be 8 to 64 characters", field="idempotency_key")
    earlier = _signoff_by_key(ctx, idempotency_key)
    if earlier is not None:
        return earlier, False
    try:
        with Session(ctx.engine) as session, session.begin():
            status = session.exec(select(ServiceStatus).where(ServiceStatus.ref == ref).with_for_update()).one()
            if (status_version is not None and status_version != status.version) or (
                scan_id is not None and scan_id != status.scan_id
            ):
                raise StaleVerdict(
                    f"the verdict of {ref} changed since the page was shown: it is now "
                    f"{status.level or 'no level'}, {'ready' if status.ready else 'not ready'} "
                    f"(score {status.score}); review it again before deciding",
                    current=_verdict(status),
                )
            record = SignOff(
                service_ref=ref,
                scan_id=status.scan_id,
                decision=decision,
                decided_by=who.user,
                decided_at=ctx.now,
                notes=notes.strip(),
                level=status.level,
                ready=status.ready,
                score=status.score,
                status_version=status.version,
                waivers=[
                    {"check": c["id"], **(c["waiver"] or {})} for c in _served_checks_of(session, status) if c["waived"]
                ],
                idempotency_key=idempotency_key,
            )
            session.add(record)
            session.flush()
            _audit(
                session,
                ctx,
                who,
                "signoff.create",
                ref,
                {"signoff_id": record.id, "decision": decision, "scan_id": status.scan_id, "version": status.version},
            )
            signoff_id = record.id
    except IntegrityError:  # the same key sent twice at once: the other request recorded it
        earlier = _signoff_by_key(ctx, idempotency_key)
        if earlier is None:
            raise
        return earlier, False
    return next(s for s in reads.signoffs(ctx, ref) if s["id"] == signoff_id), True


def _served_checks_of(session: Session, status: ServiceStatus) -> list[dict[str, Any]]:
    kept = session.get(ServedReport, status.service_id)
    return list(kept.report["checks"]) if kept else []


def _verdict(status: ServiceStatus) -> dict[str, Any]:
    return {
        "level": status.level,
        "ready": status.ready,
        "score": status.score,
        "scan_id": status.scan_id,
        "status_version": status.version,
    }


def _signoff_by_key(ctx: ReadContext, key: str | None) -> dict[str, Any] | None:
    if key is None:
        return None
    with Session(ctx.engine) as session:
        found = session.exec(
            select(SignOff, Scan).join(Scan, col(Scan.id) == col(SignOff.scan_id)).where(SignOff.idempotency_key == key)
        ).first()
        return reads.signoff_item(*found) if found else None


# --------------------------------------------------------------------------- rescans


def request_rescan(ctx: ReadContext, jobs: ScanJobs, who: Identity, ref: str) -> tuple[ScanJob, bool]:
    """Queue a rescan of the fleet entry the service was scanned from on ``jobs``; returns (job, created)."""
    row = _service_row(ctx, ref)
    if not may_rescan(who, row["owner"]):
        raise Forbidden(
            f"only the owners of {ref} ({row['owner'] or 'no owner'}), approvers or admins may "
            f"rescan it; {who.user} is none of these"
        )
    if ctx.scorecard is None:
        raise Unavailable(f"the configured scorecard cannot be loaded: {ctx.scorecard_error}")
    fleet_entry(ctx, ref)
    job, created = jobs.submit(ref, who.user, ctx.now)
    if created:
        with Session(ctx.engine) as session, session.begin():
            _audit(session, ctx, who, "scan.request", ref, {"job_id": job.id})
    return job, created


def fleet_entry(ctx: ReadContext, ref: str) -> FleetEntry:
    """The configured fleet entry the service was scanned from (Conflict when it left the fleet)."""
    with Session(ctx.engine) as session:
        location = session.exec(select(Service.repo).where(Service.ref == ref)).first()
    entry = entry_scanned_as(ctx.config, location) if location is not None else None
    if entry is None:
        raise Conflict(f"{ref} was scanned from {location}, which the configured fleet no longer lists")
    return entry


def rescan_now(ctx: ReadContext, ref: str) -> int | None:
    """Scan and store the fleet entry ``ref`` was scanned from (what a rescan job runs); the scan id."""
    scan_id: int | None = scan_and_store(ctx, fleet_entry(ctx, ref))["scan_id"]
    return scan_id


def scan_and_store(ctx: ReadContext, entry: FleetEntry, task_key: str | None = None) -> dict[str, Any]:
    """Scan one fleet entry at ``ctx.now`` with the portal's waivers and attestations, store it with
    its service's new served status, and notify the webhooks when that got worse. Returns the
    stored report (with its ``scan_id``). ``task_key``: the queued task this scan answers (stored once)."""
    if ctx.scorecard is None:
        raise Unavailable(f"the configured scorecard cannot be loaded: {ctx.scorecard_error}")
    config, answers = scan_sources(ctx)
    previous = latest_report(ctx.engine, entry)  # results of an unchanged commit and check are reused
    report = scan_entry(
        entry,
        config,
        ctx.scorecard,
        ctx.registry,
        now=ctx.now,
        attestations=answers,
        reuse_from=previous,
        tier_hold=custody.tier_hold(ctx.engine),
    )
    scan_id, events = record_scan(ctx, report, task_key=task_key)
    notify_events(ctx, events)
    return {**report, "scan_id": scan_id}


# --------------------------------------------------------------------------- what a repo cannot change alone


def accept_change(ctx: ReadContext, jobs: ScanJobs | None, who: Identity, ref: str, change_id: int) -> dict[str, Any]:
    """Accept an owner or tier change read from the service's repo (see :mod:`prr.custody`).

    An approver from neither the owning team nor the declared one (or an admin) accepts it. An
    owner applies at once; a tier applies from the next scan, which is queued on ``jobs``.
    """
    with Session(ctx.engine) as session, session.begin():
        change = session.get(PendingChange, change_id)
        service = session.get(Service, change.service_id) if change is not None else None
        if change is None or service is None or service.ref != ref:
            raise NotFound(f"no owner or tier change {change_id} of {ref}")
        require_approver(who, service.owner, f"accept a change of {ref}'s {change.field}")
        if change.field == "owner":
            require_approver(who, change.declared, f"accept a change of {ref}'s owner")
        if change.state != "pending":
            raise Conflict(f"change {change_id} is {change.state}, not pending")
        change.state, change.decided_by, change.decided_at = "accepted", who.user, ctx.now
        if change.field == "owner":
            service.owner = change.declared
        else:
            service.tier = change.declared or service.tier
        _audit(
            session,
            ctx,
            who,
            f"{change.field}.accept",
            ref,
            {"change_id": change_id, "from": change.in_force, "to": change.declared, "scan_id": change.scan_id},
        )
        session.flush()
        events = recompute_ref(session, ctx, ref, f"{change.field}.accepted", change_id)
        item = custody.change_item(change)
    notify_events(ctx, events)
    if item["field"] == "tier" and jobs is not None and ctx.scorecard is not None:
        with contextlib.suppress(Conflict):  # left the fleet: the next scan wherever it comes from applies it
            fleet_entry(ctx, ref)
            jobs.submit(ref, who.user, ctx.now)
    return item


CONFLICT_CHOICES = ("holder", "claimant")


def resolve_conflict(ctx: ReadContext, who: Identity, conflict_id: int, keep: str) -> dict[str, Any]:
    """An admin resolves a ref conflict: ``keep="holder"`` leaves the service with the source that
    holds it (the claimant's scans stay refused); ``"claimant"`` moves it to the claimant's source
    (its next scan is stored under the service; the former holder's scans are refused)."""
    if not who.is_admin:
        raise Forbidden(f"only an admin may resolve a conflict over a service's ref; {who.user} is not one")
    if keep not in CONFLICT_CHOICES:
        raise Invalid("keep must be holder or claimant", field="keep")
    with Session(ctx.engine) as session, session.begin():
        conflict = session.get(RefConflict, conflict_id)
        if conflict is None:
            raise NotFound(f"no ref conflict {conflict_id}")
        if conflict.resolution is not None:
            raise Conflict(f"conflict {conflict_id} was already resolved by {conflict.resolved_by}")
        service = session.exec(select(Service).where(Service.ref == conflict.ref)).one()
        if keep == "claimant":
            service.repo = conflict.claimant_repo
        conflict.resolution = "kept" if keep == "holder" else "moved"
        conflict.resolved_by, conflict.resolved_at = who.user, ctx.now
        _audit(
            session,
            ctx,
            who,
            "conflict.resolve",
            conflict.ref,
            {
                "conflict_id": conflict_id,
                "kept_with": conflict.holder_repo if keep == "holder" else conflict.claimant_repo,
            },
        )
        session.flush()
        recompute_ref(session, ctx, conflict.ref, "conflict.resolved", conflict_id)  # its row shows its source
        return custody.conflict_item(conflict)


# --------------------------------------------------------------------------- helpers


def _id(value: int | None) -> int:
    assert value is not None  # flushed: the database gave it one
    return value


def _found(item: dict[str, Any] | None) -> dict[str, Any]:
    assert item is not None  # written in this request
    return item


def _service_row(ctx: ReadContext, ref: str) -> dict[str, Any]:
    row = reads.service(ctx, ref)
    if row is None:
        raise NotFound(f"no scanned service {ref}")
    return row


def _served_checks(ctx: ReadContext, ref: str) -> list[dict[str, Any]]:
    report = reads.service_scorecard(ctx, ref)
    return report["checks"] if report else []


def _check_ids(ctx: ReadContext, ref: str) -> set[str]:
    return {c["id"] for c in _served_checks(ctx, ref)}


def _moment(value: datetime | str, name: str) -> datetime:
    if isinstance(value, str):
        try:
            value = parse_iso(value)
        except ValueError:
            raise Invalid(f"{name} must be an ISO 8601 date-time, e.g. 2027-01-31T00:00:00Z", field=name) from None
    if value.tzinfo is None:
        raise Invalid(f"{name} needs a timezone (e.g. 2027-01-31T00:00:00Z)", field=name)
    return value.astimezone(UTC)  # compared and stored in UTC: an offset cannot stretch a limit


def _validate(schema: str, document: dict[str, Any]) -> None:
    found = schemas.problems(schema, document)
    if found:
        where, _line, message = found[0]
        raise Invalid(f"{where}: {message}", field=where)


def _audit(
    session: Session, ctx: ReadContext, who: Identity, action: str, target: str, details: dict[str, Any]
) -> None:
    session.add(
        AuditEntry(at=ctx.now, actor=who.user, action=action, target=target, details={**details, "via": who.via})
    )
