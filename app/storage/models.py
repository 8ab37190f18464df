"""The tables. A scan is stored whole with every result, so history and trends come from stored scans."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


def _utc_column(**kw: Any) -> Any:
    return Field(sa_column=Column(DateTime(timezone=True), **kw))


class Service(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(index=True, unique=True, max_length=255)
    name: str = Field(max_length=255)
    owner: str | None = Field(default=None, index=True, max_length=255)
    tier: str = Field(max_length=16)
    lifecycle: str | None = Field(default=None, max_length=64)
    repo: str = Field(max_length=1024)
    updated_at: datetime = _utc_column(nullable=False)


class Scan(SQLModel, table=True):
    __table_args__ = (Index("ix_scan_service_latest", "service_id", "scanned_at", "id"),)  # a service's newest scan

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key="service.id", index=True)
    commit: str = Field(max_length=40)
    repo: str = Field(max_length=1024)
    scanned_at: datetime = _utc_column(nullable=False, index=True)
    scorecard_id: str = Field(max_length=128)
    scorecard_version: str = Field(max_length=64)
    tier: str = Field(max_length=16)
    score: float | None = None
    level: str | None = Field(default=None, max_length=64)
    ready: bool = False
    duration_seconds: float | None = None
    task_key: str | None = Field(default=None, unique=True, max_length=64)  # the queued task it answers, if any
    report: dict = Field(sa_column=Column(JSON, nullable=False))


class CheckResult(SQLModel, table=True):
    __tablename__ = "check_result"
    __table_args__ = (UniqueConstraint("scan_id", "check_id"),)

    id: int | None = Field(default=None, primary_key=True)
    scan_id: int = Field(foreign_key="scan.id", index=True)
    check_id: str = Field(index=True, max_length=128)
    level: str = Field(max_length=64)
    status: str = Field(max_length=16, index=True)
    met: bool | None = None
    waived: bool = False
    summary: str = Field(sa_column=Column(Text, nullable=False))
    evidence: list = Field(sa_column=Column(JSON, nullable=False))
    details: dict = Field(sa_column=Column(JSON, nullable=False))


class WaiverRecord(SQLModel, table=True):
    """An exemption of one check for one service until it expires; revoking keeps the record."""

    __tablename__ = "waiver"
    id: int | None = Field(default=None, primary_key=True)
    service_ref: str = Field(index=True, max_length=255)
    check_id: str = Field(max_length=128)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    approver: str = Field(max_length=255)
    created_at: datetime = _utc_column(nullable=False)
    expires_at: datetime = _utc_column(nullable=False)
    revoked_at: datetime | None = _utc_column(nullable=True)
    revoked_by: str | None = Field(default=None, max_length=255)
    source: str = Field(default="portal", max_length=32)  # portal | config


class AttestationRecord(SQLModel, table=True):
    """A person's answer to a manual check."""

    __tablename__ = "attestation"
    id: int | None = Field(default=None, primary_key=True)
    service_ref: str = Field(index=True, max_length=255)
    check_id: str = Field(max_length=128)
    answer: bool
    evidence_url: str | None = Field(default=None, max_length=2048)
    attested_by: str = Field(max_length=255)
    created_at: datetime = _utc_column(nullable=False)
    expires_at: datetime = _utc_column(nullable=False)


class SignOff(SQLModel, table=True):
    """A launch review decision, with the served verdict the approver saw when making it."""

    __tablename__ = "signoff"
    id: int | None = Field(default=None, primary_key=True)
    service_ref: str = Field(index=True, max_length=255)
    scan_id: int = Field(foreign_key="scan.id")
    decision: str = Field(max_length=8)  # go | no-go
    decided_by: str = Field(max_length=255)
    decided_at: datetime = _utc_column(nullable=False)
    notes: str = Field(default="", sa_column=Column(Text, nullable=False))
    level: str | None = Field(default=None, max_length=64)
    ready: bool | None = None
    score: float | None = None
    status_version: int | None = None
    waivers: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))  # waivers in force then
    idempotency_key: str | None = Field(default=None, unique=True, max_length=64)  # a resent form finds its record


class ApiToken(SQLModel, table=True):
    """An API token, stored hashed (sha256); the secret is shown once at creation."""

    __tablename__ = "api_token"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=255)
    user: str = Field(max_length=255)
    token_hash: str = Field(index=True, unique=True, max_length=64)
    created_at: datetime = _utc_column(nullable=False)
    revoked_at: datetime | None = _utc_column(nullable=True)


class AuditEntry(SQLModel, table=True):
    """Every write: who did what to which object."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _utc_column(nullable=False, index=True)
    actor: str = Field(max_length=255)
    action: str = Field(max_length=64)
    target: str = Field(max_length=512)
    details: dict = Field(sa_column=Column(JSON, nullable=False))


class ScanJobRecord(SQLModel, table=True):
    """A rescan requested in the portal. Kept in the database so that every worker process sees
    every job; ``active_ref`` holds the service ref while the job is queued or running (unique, so
    a service has at most one unfinished job) and is cleared when it ends or is found abandoned."""

    __tablename__ = "scan_job"
    id: str = Field(primary_key=True, max_length=32)
    service_ref: str = Field(index=True, max_length=255)
    active_ref: str | None = Field(default=None, index=True, unique=True, max_length=255)
    state: str = Field(max_length=16)  # queued | running | succeeded | failed
    requested_by: str = Field(max_length=255)
    requested_at: datetime = _utc_column(nullable=False)
    worker: str = Field(max_length=255)  # host:pid of the process running it
    heartbeat_at: datetime = _utc_column(nullable=False)  # refreshed while that process holds the job
    scan_id: int | None = Field(default=None, foreign_key="scan.id")
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    finished_at: datetime | None = _utc_column(nullable=True)


class ServiceStatus(SQLModel, table=True):
    """The served verdict of one service: its latest scan with the waivers and attestations in force.

    Rewritten in the same transaction as whatever changes it (:mod:`prr.status`); ``changes_at`` is
    when it next changes by itself (the earliest expiry in force), ``version`` counts its changes
    (a form rendered from version n is stale once it is n + 1), ``inputs`` fingerprints the
    scorecard and config waivers it was computed with. Lists, filters and counts read these narrow
    rows; the served document is kept apart (:class:`ServedReport`) and read one service at a time.
    """

    __tablename__ = "service_status"
    __table_args__ = (
        Index("ix_service_status_tier_level", "tier", "level_rank"),
        Index("ix_service_status_owner_ref", "owner", "ref"),
        # The list's sort by score (unscored last, ties by ref), each way, read in index order.
        Index("ix_service_status_score_sort", text("(score IS NULL)"), "score", "ref"),
        Index("ix_service_status_score_sort_desc", text("(score IS NULL)"), text("score DESC"), "ref"),
        Index("ix_service_status_summary", "tier", "level", "ready"),  # the fleet's counts, from the index alone
    )

    service_id: int = Field(foreign_key="service.id", primary_key=True)
    ref: str = Field(unique=True, max_length=255)
    name: str = Field(index=True, max_length=255)
    owner: str | None = Field(default=None, max_length=255)
    tier: str = Field(max_length=16)
    lifecycle: str | None = Field(default=None, max_length=64)
    repo: str = Field(max_length=1024)
    level: str | None = Field(default=None, max_length=64)
    level_rank: int = -1  # index of level in levels; -1 for no level (sorting and filtering)
    required_level: str = Field(max_length=64)
    levels: list = Field(sa_column=Column(JSON, nullable=False))
    score: float | None = Field(default=None, index=True)
    ready: bool = Field(default=False, index=True)
    unmet: int = 0
    blocking_unmet: int = 0
    waived: int = 0
    waiver_carried: bool = False  # without the waivers in force, level or readiness would be lower
    scan_id: int = Field(foreign_key="scan.id")
    commit: str = Field(max_length=40)
    scanned_at: datetime = _utc_column(nullable=False, index=True)
    scorecard_id: str = Field(max_length=128)
    scorecard_version: str = Field(max_length=64)
    changes_at: datetime | None = _utc_column(nullable=True, index=True)
    version: int = 1
    inputs: str = Field(max_length=64)
    updated_at: datetime = _utc_column(nullable=False)


class ServedReport(SQLModel, table=True):
    """The served document of a service's status: its latest scan report with the waivers and
    attestations in force applied."""

    __tablename__ = "served_report"
    service_id: int = Field(foreign_key="service_status.service_id", primary_key=True)
    report: dict = Field(sa_column=Column(JSON, nullable=False))


class ServiceCheck(SQLModel, table=True):
    """One check of a service's served verdict (for per-check views across the fleet)."""

    __tablename__ = "service_check"
    __table_args__ = (Index("ix_service_check_check_state", "check_id", "state"),)

    service_id: int = Field(foreign_key="service_status.service_id", primary_key=True)
    check_id: str = Field(primary_key=True, max_length=128)
    state: str = Field(max_length=16)  # met | unmet | waived | not_applicable
    status: str = Field(max_length=16)
    summary: str = Field(sa_column=Column(Text, nullable=False))
    evidence: list = Field(sa_column=Column(JSON, nullable=False))
    waiver: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class StatusEvent(SQLModel, table=True):
    """A change of a service's served verdict (level, readiness, a check's met state, or its scan),
    with its cause; appended, never rewritten. ``unmet`` and ``waived`` list the check ids as they
    stood after the change, so the verdict at any moment is the service's last event before it."""

    __tablename__ = "status_event"
    __table_args__ = (
        Index("ix_status_event_service_at", "service_id", "at", "id"),
        Index("ix_status_event_worsened_at", "worsened", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key="service.id")
    ref: str = Field(max_length=255)
    at: datetime = _utc_column(nullable=False, index=True)
    cause: str = Field(max_length=32)  # scan | waiver.granted | waiver.revoked | waiver.expired | attestation | ...
    cause_id: int | None = None  # the scan, waiver or attestation
    tier: str = Field(max_length=16)
    owner: str | None = Field(default=None, max_length=255)
    scan_id: int = Field(foreign_key="scan.id")
    commit: str = Field(max_length=40)
    previous_level: str | None = Field(default=None, max_length=64)
    level: str | None = Field(default=None, max_length=64)
    level_rank: int = -1  # index of level in the scorecard's levels; -1 for no level
    previous_ready: bool | None = None
    ready: bool = False
    score: float | None = None
    required_level: str = Field(max_length=64)
    waiver_carried: bool = False
    level_dropped: bool = False
    stopped_ready: bool = False
    worsened: bool = False  # level dropped, readiness lost or a check newly unmet
    newly_unmet: list = Field(sa_column=Column(JSON, nullable=False))
    newly_met: list = Field(sa_column=Column(JSON, nullable=False))
    unmet: list = Field(sa_column=Column(JSON, nullable=False))
    waived: list = Field(sa_column=Column(JSON, nullable=False))


class RefConflict(SQLModel, table=True):
    """A fleet source whose repo declares a service ref that another source holds (registered it
    first). Its scans are refused until an admin resolves the conflict: ``kept`` leaves the ref with
    its holder (the claimant stays refused), ``moved`` gives the ref to the claimant."""

    __tablename__ = "ref_conflict"
    __table_args__ = (UniqueConstraint("ref", "claimant_repo"),)

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(index=True, max_length=255)
    holder_repo: str = Field(max_length=1024)
    claimant_repo: str = Field(index=True, max_length=1024)
    claimant_commit: str = Field(max_length=40)
    first_seen_at: datetime = _utc_column(nullable=False)
    last_seen_at: datetime = _utc_column(nullable=False)
    refused_scans: int = 1
    resolution: str | None = Field(default=None, max_length=16)  # None (open) | kept | moved
    resolved_by: str | None = Field(default=None, max_length=255)
    resolved_at: datetime | None = _utc_column(nullable=True)


class PendingChange(SQLModel, table=True):
    """An owner, or a less critical tier, that a service's repo declares and no approver has
    accepted yet: the value ``in_force`` stays for permissions and bars until one does."""

    __tablename__ = "pending_change"
    __table_args__ = (Index("ix_pending_change_service_state", "service_id", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key="service.id")
    field: str = Field(max_length=16)  # owner | tier
    in_force: str | None = Field(default=None, max_length=255)
    declared: str | None = Field(default=None, max_length=255)
    declared_in: str = Field(sa_column=Column(Text, nullable=False))  # where the repo says so
    scan_id: int = Field(foreign_key="scan.id")  # the scan that first read it
    commit: str = Field(max_length=40)
    seen_at: datetime = _utc_column(nullable=False)
    state: str = Field(default="pending", max_length=16)  # pending | accepted | withdrawn
    decided_by: str | None = Field(default=None, max_length=255)
    decided_at: datetime | None = _utc_column(nullable=True)
