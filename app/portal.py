"""The portal's write side: waivers, attestations, sign-offs, rescans — each one audited.

Shared by the JSON API and the HTML forms. Every function takes a :class:`prr.queries.ReadContext`
and the :class:`prr.web.auth.Identity` making the change, checks what that identity may do, and
raises a :class:`PortalError` (with the HTTP status it maps to) when it may not or the input is bad.

Who may do what:

=================  ==========================================================================
write              allowed for
=================  ==========================================================================
waiver grant/revoke approver not in the service's owning team; admin
attestation        owner (member of the service's ``spec.owner`` group); admin
sign-off           approver not in the service's owning team; admin
rescan             owner, approver, admin
=================  ==========================================================================
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, select

from prr import notify, queries, schemas
from prr.fleet import FleetEntry, expand_fleet, scan_entry
from prr.plugin import ConfigError
from prr.queries import ReadContext
from prr.repo import RepoError, redact_url
from prr.storage.db import store_report
from prr.storage.models import AttestationRecord, AuditEntry, Scan, ScanJobRecord, Service, SignOff, WaiverRecord
from prr.web.auth import Identity

log = logging.getLogger(__name__)
DEFAULT_MAX_WAIVER_DAYS = 180
DEFAULT_ATTESTATION_DAYS = 365
DECISIONS = ("go", "no-go")


class PortalError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any):
        super().__init__(detail)
        self.detail, self.extra = detail, extra


class Invalid(PortalError):
    status, title = 422, "Invalid request"


class NotFound(PortalError):
    status, title = 404, "Not found"


class Forbidden(PortalError):
    status, title = 403, "Forbidden"


class Conflict(PortalError):
    status, title = 409, "Conflict"


class Unavailable(PortalError):
    status, title = 503, "Service unavailable"


# --------------------------------------------------------------------------- permissions


def may_approve(who: Identity, owner: str | None) -> bool:
    """Waivers and sign-offs: an admin, or an approver outside the owning team."""
    return who.is_admin or ("approver" in who.roles and not who.member_of(owner))


def may_attest(who: Identity, owner: str | None) -> bool:
    return who.is_admin or who.member_of(owner)


def may_rescan(who: Identity, owner: str | None) -> bool:
    return may_attest(who, owner) or "approver" in who.roles


def _require_approver(who: Identity, owner: str | None, what: str) -> None:
    if may_approve(who, owner):
        return
    if "approver" in who.roles:
        raise Forbidden(
            f"{who.user} belongs to {owner}, which owns this service; "
            f"an approver from another team (or an admin) must {what}"
        )
    raise Forbidden(f"only an approver or an admin may {what}; {who.user} has neither role")


# --------------------------------------------------------------------------- waivers


def grant_waiver(
    ctx: ReadContext, who: Identity, ref: str, check_id: str, reason: str, expires: datetime | str
) -> dict[str, Any]:
    """Waive ``check_id`` for the service until ``expires`` (≤ ``portal.max_waiver_days`` ahead)."""
    row = _service_row(ctx, ref)
    _require_approver(who, row["owner"], "grant a waiver")
    expires_at = _moment(expires, "expires")
    _validate(
        "waiver",
        {"service": ref, "check": check_id, "reason": reason, "approver": who.user, "expires": queries.iso(expires_at)},
    )
    if check_id not in _check_ids(ctx, ref):
        raise Invalid(f"the scorecard of {ref} has no check {check_id!r}", field="check")
    limit = int(_portal(ctx).get("max_waiver_days", DEFAULT_MAX_WAIVER_DAYS))
    if expires_at <= ctx.now:
        raise Invalid("expires must be in the future", field="expires")
    if expires_at > ctx.now + timedelta(days=limit):
        raise Invalid(f"a waiver may last at most {limit} days (portal.max_waiver_days)", field="expires")
    with Session(ctx.engine) as session, session.begin():
        record = WaiverRecord(
            service_ref=ref,
            check_id=check_id,
            reason=reason.strip(),
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
            {"waiver_id": record.id, "reason": record.reason, "expires": queries.iso(expires_at)},
        )
        waiver_id = record.id
    return queries.waiver(ctx, waiver_id)


def revoke_waiver(ctx: ReadContext, who: Identity, waiver_id: int, reason: str = "") -> dict[str, Any]:
    """Revoke a stored waiver: it stops applying now, and its record stays (with who revoked it)."""
    with Session(ctx.engine) as session, session.begin():
        record = session.get(WaiverRecord, waiver_id)
        if record is None:
            raise NotFound(f"no waiver {waiver_id}")
        owner = session.exec(select(Service.owner).where(Service.ref == record.service_ref)).first()
        _require_approver(who, owner, "revoke a waiver")
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
    return queries.waiver(ctx, waiver_id)


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
                "expires": queries.iso(expires_at),
            },
        )
        attestation_id = record.id
    return next(a for a in queries.attestations(ctx, ref) if a["id"] == attestation_id)


def _validity_days(ctx: ReadContext, check_id: str, tier: str) -> int:
    entry = next((c for c in ctx.scorecard.checks if c.id == check_id), None) if ctx.scorecard else None
    params = entry.params_for(tier) if entry else {}
    if "validity_days" not in params and check_id in ctx.registry:
        params = ctx.registry.get(check_id).resolve_params(params)
    default = _portal(ctx).get("attestation_validity_days", DEFAULT_ATTESTATION_DAYS)
    return int(params.get("validity_days", default))


# --------------------------------------------------------------------------- sign-offs


def sign_off(
    ctx: ReadContext, who: Identity, ref: str, decision: str, notes: str = "", scan_id: int | None = None
) -> dict[str, Any]:
    """Record a launch review decision (``go`` / ``no-go``) against a scan of the service (default:
    its latest)."""
    row = _service_row(ctx, ref)
    _require_approver(who, row["owner"], "record a launch review sign-off")
    if decision not in DECISIONS:
        raise Invalid("decision must be go or no-go", field="decision")
    if len(notes) > 10_000:
        raise Invalid("notes are limited to 10000 characters", field="notes")
    scan_id = row["scan_id"] if scan_id is None else scan_id
    with Session(ctx.engine) as session, session.begin():
        scan = session.get(Scan, scan_id)
        service_id = session.exec(select(Service.id).where(Service.ref == ref)).first()
        if scan is None or scan.service_id != service_id:
            raise Invalid(f"scan {scan_id} is not a scan of {ref}", field="scan_id")
        record = SignOff(
            service_ref=ref,
            scan_id=scan_id,
            decision=decision,
            decided_by=who.user,
            decided_at=ctx.now,
            notes=notes.strip(),
        )
        session.add(record)
        session.flush()
        _audit(
            session,
            ctx,
            who,
            "signoff.create",
            ref,
            {"signoff_id": record.id, "decision": decision, "scan_id": scan_id},
        )
        signoff_id = record.id
    return next(s for s in queries.signoffs(ctx, ref) if s["id"] == signoff_id)


# --------------------------------------------------------------------------- rescans

STALE_AFTER = timedelta(minutes=2)  # no heartbeat for this long: the process running the job is gone
_JOBS_LOCK = threading.Lock()


@dataclass
class ScanJob:
    id: str
    service: str
    requested_by: str
    requested_at: str
    state: str = "queued"  # queued | running | succeeded | failed
    scan_id: int | None = None
    error: str | None = None
    finished_at: str | None = None

    @classmethod
    def from_record(cls, record: ScanJobRecord) -> ScanJob:
        return cls(
            id=record.id,
            service=record.service_ref,
            requested_by=record.requested_by,
            requested_at=queries.iso(record.requested_at),
            state=record.state,
            scan_id=record.scan_id,
            error=record.error,
            finished_at=queries.iso(record.finished_at),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class ScanJobs:
    """Rescans, shared by all the portal's worker processes through the ``scan_job`` table.

    Any process answers for any job, and a request for a service that has an unfinished job joins
    it, whichever process runs it (the table's unique ``active_ref`` decides races). Each process
    runs the jobs it accepted in a small thread pool and refreshes their heartbeat every
    ``stale_after / 4``; a job whose heartbeat is older than ``stale_after`` was left by a process
    that died: it is marked failed when next looked at, and a new request starts a fresh job.
    """

    def __init__(self, app: Flask, workers: int = 2, stale_after: timedelta = STALE_AFTER):
        self._app, self._engine, self._stale_after = app, app.extensions["prr.db"], stale_after
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="prr-rescan")
        self._held: set[str] = set()  # ids of the jobs this process runs
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._heartbeat = threading.Thread(target=self._beat_until_stopped, name="prr-rescan-heartbeat", daemon=True)
        self.worker = f"{socket.gethostname()}:{os.getpid()}"

    def get(self, job_id: str) -> ScanJob | None:
        """The job (from any process); an abandoned one is marked failed first."""
        with Session(self._engine) as session:
            record = session.get(ScanJobRecord, job_id)
        if record is not None and record.active_ref is not None and self._abandon(record):
            with Session(self._engine) as session:
                record = session.get(ScanJobRecord, job_id)
        return None if record is None else ScanJob.from_record(record)

    def submit(self, ref: str, who: Identity, requested_at: datetime) -> tuple[ScanJob, bool]:
        """Queue a rescan of ``ref``; its unfinished job (in any process) is returned instead
        (created False)."""
        for _attempt in range(3):
            job_id = uuid.uuid4().hex
            try:
                with Session(self._engine) as session, session.begin():
                    session.add(
                        ScanJobRecord(
                            id=job_id,
                            service_ref=ref,
                            active_ref=ref,
                            state="queued",
                            requested_by=who.user,
                            requested_at=requested_at,
                            worker=self.worker,
                            heartbeat_at=queries.clock(self._app),
                        )
                    )
            except IntegrityError:  # the service has an unfinished job: join it unless it was abandoned
                with Session(self._engine) as session:
                    running = session.exec(select(ScanJobRecord).where(ScanJobRecord.active_ref == ref)).first()
                if running is not None and not self._abandon(running):
                    return ScanJob.from_record(running), False
                continue
            with self._lock:
                self._held.add(job_id)
                if not self._heartbeat.is_alive():
                    self._heartbeat.start()
            self._pool.submit(self._run, job_id, ref)
            return self.get(job_id), True
        raise Unavailable(f"could not queue a rescan of {ref}: other requests kept racing it; try again")

    def beat(self) -> None:
        """Refresh the heartbeat of the jobs this process holds."""
        with self._lock:
            held = list(self._held)
        if held:
            with Session(self._engine) as session, session.begin():
                session.exec(
                    update(ScanJobRecord)
                    .where(ScanJobRecord.id.in_(held))
                    .values(heartbeat_at=queries.clock(self._app))
                )

    def _beat_until_stopped(self) -> None:
        while not self._stopping.wait(self._stale_after.total_seconds() / 4):
            try:
                self.beat()
            except SQLAlchemyError:  # a database hiccup; the next beat tries again
                log.warning("could not refresh the rescan heartbeat", exc_info=True)

    def _abandon(self, record: ScanJobRecord) -> bool:
        """Mark an unfinished job failed when its heartbeat is stale; True when it is (now) over."""
        now = queries.clock(self._app)
        if queries.aware(record.heartbeat_at) > now - self._stale_after:
            return False
        with Session(self._engine) as session, session.begin():
            session.exec(
                update(ScanJobRecord)
                .where(
                    ScanJobRecord.id == record.id,
                    ScanJobRecord.active_ref.is_not(None),
                    ScanJobRecord.heartbeat_at <= now - self._stale_after,
                )
                .values(
                    state="failed",
                    active_ref=None,
                    finished_at=now,
                    error=f"abandoned: the portal process running it ({record.worker}) stopped "
                    f"answering at {queries.iso(record.heartbeat_at)}; request a new rescan",
                )
            )
        return True

    def _run(self, job_id: str, ref: str) -> None:
        try:
            with Session(self._engine) as session, session.begin():
                started = session.exec(
                    update(ScanJobRecord)
                    .where(ScanJobRecord.id == job_id, ScanJobRecord.active_ref.is_not(None))
                    .values(state="running")
                ).rowcount
            if started:
                self._finish(job_id, *self._scan(ref))
        finally:
            with self._lock:
                self._held.discard(job_id)

    def _scan(self, ref: str) -> tuple[str, int | None, str | None]:
        """Scan and store ``ref``: (state, scan_id, error)."""
        try:
            ctx = queries.context(self._app)
            return "succeeded", scan_and_store(ctx, _fleet_entry(ctx, ref))["scan_id"], None
        except (PortalError, RepoError, ConfigError) as exc:
            return "failed", None, str(exc)
        except Exception as exc:  # the job reports it; the portal keeps serving
            log.exception("rescan of %s failed", ref)
            return "failed", None, f"{type(exc).__name__}: {exc}"

    def _finish(self, job_id: str, state: str, scan_id: int | None, error: str | None) -> None:
        with Session(self._engine) as session, session.begin():
            session.exec(
                update(ScanJobRecord)
                .where(ScanJobRecord.id == job_id)
                .values(
                    state=state, scan_id=scan_id, error=error, active_ref=None, finished_at=queries.clock(self._app)
                )
            )

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
        self._stopping.set()
        if self._heartbeat.is_alive():
            self._heartbeat.join()


def jobs(app: Flask) -> ScanJobs:
    """The app's rescan jobs (created on first use; ``portal.rescan_workers``, default 2)."""
    with _JOBS_LOCK:  # request threads may ask at the same time
        if "prr.jobs" not in app.extensions:
            workers = int((app.config["PRR"].data.get("portal") or {}).get("rescan_workers", 2))
            app.extensions["prr.jobs"] = ScanJobs(app, workers)
        return app.extensions["prr.jobs"]


def request_rescan(app: Flask, ctx: ReadContext, who: Identity, ref: str) -> tuple[ScanJob, bool]:
    """Queue a rescan of the fleet entry the service was scanned from; returns (job, created)."""
    row = _service_row(ctx, ref)
    if not may_rescan(who, row["owner"]):
        raise Forbidden(
            f"only the owners of {ref} ({row['owner'] or 'no owner'}), approvers or admins may "
            f"rescan it; {who.user} is none of these"
        )
    if ctx.scorecard is None:
        raise Unavailable(f"the configured scorecard cannot be loaded: {ctx.scorecard_error}")
    _fleet_entry(ctx, ref)
    job, created = jobs(app).submit(ref, who, ctx.now)
    if created:
        with Session(ctx.engine) as session, session.begin():
            _audit(session, ctx, who, "scan.request", ref, {"job_id": job.id})
    return job, created


def _fleet_entry(ctx: ReadContext, ref: str) -> FleetEntry:
    with Session(ctx.engine) as session:
        location = session.exec(select(Service.repo).where(Service.ref == ref)).first()
    entry = next((e for e in expand_fleet(ctx.config) if redact_url(e.location) == location), None)
    if entry is None:
        raise Conflict(f"{ref} was scanned from {location}, which the configured fleet no longer lists")
    return entry


def scan_and_store(ctx: ReadContext, entry: FleetEntry) -> dict[str, Any]:
    """Scan one fleet entry at ``ctx.now`` with the portal's waivers and attestations, store it,
    and notify the webhooks when it is worse than the service's previous scan. Returns the stored
    report (with its ``scan_id``)."""
    if ctx.scorecard is None:
        raise Unavailable(f"the configured scorecard cannot be loaded: {ctx.scorecard_error}")
    config, answers = queries.scan_sources(ctx)
    report = scan_entry(entry, config, ctx.scorecard, ctx.registry, now=ctx.now, attestations=answers)
    report = {**report, "scan_id": store_report(ctx.engine, report)}
    notify.after_scan(ctx.engine, ctx.config, report, queries.portal_link(ctx, report["service"]["ref"]))
    return report


# --------------------------------------------------------------------------- helpers


def _service_row(ctx: ReadContext, ref: str) -> dict[str, Any]:
    row = queries.service(ctx, ref)
    if row is None:
        raise NotFound(f"no scanned service {ref}")
    return row


def _served_checks(ctx: ReadContext, ref: str) -> list[dict[str, Any]]:
    report = queries.service_scorecard(ctx, ref)
    return report["checks"] if report else []


def _check_ids(ctx: ReadContext, ref: str) -> set[str]:
    return {c["id"] for c in _served_checks(ctx, ref)}


def _portal(ctx: ReadContext) -> dict[str, Any]:
    return ctx.config.data.get("portal") or {}


def _moment(value: datetime | str, name: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise Invalid(f"{name} must be an ISO 8601 date-time, e.g. 2027-01-31T00:00:00Z", field=name) from None
    if value.tzinfo is None:
        raise Invalid(f"{name} needs a timezone (e.g. 2027-01-31T00:00:00Z)", field=name)
    return value


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


def shutdown(app: Flask) -> None:
    """Wait for the app's queued rescans to finish (tests, and a clean process exit)."""
    running = app.extensions.pop("prr.jobs", None)
    if running is not None:
        running.shutdown()
