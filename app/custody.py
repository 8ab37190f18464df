"""What a scanned repository cannot change about its service on its own.

**Its ref.** A service's ref belongs to the fleet source that registered it first. A scan of
another source whose catalog declares the same ref is refused: a :class:`RefConflict` is kept (on
both services' pages, in the audit log and in the scan's error) until an admin resolves it, keeping
the ref with its holder or moving it to the claimant.

**Its owner and a less critical tier.** Who owns a service decides who may approve its waivers and
sign-offs, and its tier decides the bar it is held to, so neither follows the repo by itself: a
different owner, or a tier less critical than the one in force (Tier-0 → Tier-2, or no tier where
one was declared), is a :class:`PendingChange` an approver accepts in the portal. Until then the
owner and tier in force stay, for permissions and for the bar: the portal scans the service at the
tier in force (:func:`tier_hold`) and says why in the report's ``tier_source``. A more critical tier
applies at once. ``prr gate`` has no portal: it reports the repo as declared.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, or_
from sqlmodel import Session, col, select

from prr.errors import Conflict
from prr.moments import iso
from prr.storage.models import AuditEntry, PendingChange, RefConflict, Scan, Service

SCANNER = "prr (scanner)"  # the audit log's actor for what a scan does on its own
OWNER_DECLARED_IN = "spec.owner in the repo's catalog descriptor"


class RefClaimed(Conflict):
    """A scan of a source whose repo declares a service ref that another source holds."""


# --------------------------------------------------------------------------- refs


def refuse_claim(session: Session, now: datetime, report: dict[str, Any]) -> RefClaimed | None:
    """The refusal of ``report`` when another source holds its service's ref, else None.

    A refusal is recorded (the conflict, how often it was refused, an audit entry) in ``session``'s
    transaction, which the caller commits before raising it.
    """
    ref, claimant = report["service"]["ref"], report["source"]["repo"]
    holder = session.exec(select(Service.repo).where(Service.ref == ref)).first()
    if holder is None or holder == claimant:
        return None
    commit = report["source"]["commit"]
    conflict = session.exec(
        select(RefConflict).where(RefConflict.ref == ref, RefConflict.claimant_repo == claimant)
    ).first()
    if conflict is None or conflict.resolution == "moved":  # moved away and back: a new conflict
        if conflict is not None:
            session.delete(conflict)
            session.flush()
        conflict = RefConflict(
            ref=ref,
            holder_repo=holder,
            claimant_repo=claimant,
            claimant_commit=commit,
            first_seen_at=now,
            last_seen_at=now,
        )
        session.add(conflict)
    else:
        conflict.holder_repo, conflict.claimant_commit, conflict.last_seen_at = holder, commit, now
        conflict.refused_scans += 1
    session.flush()
    refusal = RefClaimed(_refusal_text(conflict), conflict_id=conflict.id, ref=ref, holder=holder)
    session.add(
        AuditEntry(
            at=now,
            actor=SCANNER,
            action="scan.refused",
            target=ref,
            details={"conflict_id": conflict.id, "claimant": claimant, "holder": holder, "commit": commit},
        )
    )
    return refusal


def _refusal_text(conflict: RefConflict) -> str:
    said = f"{conflict.claimant_repo} declares {conflict.ref}, which {conflict.holder_repo} holds"
    if conflict.resolution == "kept":
        return (
            f"{said}: the scan was not stored. An admin ({conflict.resolved_by}) kept {conflict.ref} with "
            f"{conflict.holder_repo} on {conflict.resolved_at:%Y-%m-%d}: give this repo's service its own "
            "name (metadata.name in its catalog descriptor), or take it out of the fleet"
        )
    return (
        f"{said} (it registered the service first): the scan was not stored. An admin resolves this "
        f"conflict (#{conflict.id}) on {conflict.ref}'s page: keep the service with its source, or move it "
        "to this repo"
    )


def conflict_item(conflict: RefConflict) -> dict[str, Any]:
    return {
        "id": conflict.id,
        "ref": conflict.ref,
        "holder": conflict.holder_repo,
        "claimant": conflict.claimant_repo,
        "claimant_commit": conflict.claimant_commit,
        "first_seen_at": iso(conflict.first_seen_at),
        "last_seen_at": iso(conflict.last_seen_at),
        "refused_scans": conflict.refused_scans,
        "state": conflict.resolution or "open",
        "resolved_by": conflict.resolved_by,
        "resolved_at": iso(conflict.resolved_at),
        "detail": _refusal_text(conflict),
    }


def conflicts(
    session: Session, *, ref: str | None = None, repo: str | None = None, open_only: bool = True
) -> list[dict[str, Any]]:
    """Ref conflicts, newest first: over ``ref`` (held or claimed), or involving ``repo`` as
    holder or claimant; open ones only unless ``open_only`` is false."""
    query = select(RefConflict).order_by(col(RefConflict.last_seen_at).desc(), col(RefConflict.id).desc())
    involved: list[Any] = []
    if ref is not None:
        involved.append(col(RefConflict.ref) == ref)
    if repo is not None:
        involved += [col(RefConflict.claimant_repo) == repo, col(RefConflict.holder_repo) == repo]
    if involved:
        query = query.where(or_(*involved))
    if open_only:
        query = query.where(col(RefConflict.resolution).is_(None))
    return [conflict_item(c) for c in session.exec(query.limit(100))]


# --------------------------------------------------------------------------- owner and tier


def more_critical(tier: str, than: str) -> bool:
    """Whether ``tier`` holds a service to more than ``than`` does (Tier-0 is the most critical)."""
    return tier.isdigit() and than.isdigit() and int(tier) < int(than)


def needs_approval(in_force: str, declared: str) -> bool:
    """A declared tier other than the one in force waits for an approver unless it is more critical."""
    return declared != in_force and not more_critical(declared, in_force)


def tier_hold(engine: Engine) -> Callable[[str, str], str | None]:
    """For :class:`prr.engine.ScanRequest`: by (service ref, declared tier), the tier in force when
    the declared one waits for an approver, else None (the declared tier applies)."""

    def hold(ref: str, declared: str) -> str | None:
        with Session(engine) as session:
            in_force = session.exec(select(Service.tier).where(Service.ref == ref)).first()
        return in_force if in_force is not None and needs_approval(in_force, declared) else None

    return hold


def settle(session: Session, now: datetime, service: Service, scan: Scan, report: dict[str, Any]) -> None:
    """After a scan of an existing service is added: keep what its repo declares that differs from
    what is in force as a pending change (or withdraw the one it no longer declares). The tier the
    scan was made at is in force: it is the declared one unless that waits (then it was held)."""
    declared = report["service"]
    waiting = declared.get("tier_pending") or {}
    service.tier = declared["tier"]
    _track(session, now, service, scan, "owner", service.owner, declared["owner"], OWNER_DECLARED_IN)
    _track(
        session, now, service, scan, "tier", service.tier, waiting.get("tier", service.tier), waiting.get("source", "")
    )


def _track(
    session: Session,
    now: datetime,
    service: Service,
    scan: Scan,
    field: str,
    in_force: str | None,
    declared: str | None,
    declared_in: str,
) -> None:
    pending = session.exec(
        select(PendingChange).where(
            PendingChange.service_id == service.id, PendingChange.field == field, PendingChange.state == "pending"
        )
    ).first()
    if pending is not None and pending.declared == declared and pending.in_force == in_force:
        return
    if pending is not None:  # the repo went back, or declares something else again
        pending.state, pending.decided_at = "withdrawn", now
    if declared != in_force:
        assert service.id is not None and scan.id is not None
        session.add(
            PendingChange(
                service_id=service.id,
                field=field,
                in_force=in_force,
                declared=declared,
                declared_in=declared_in,
                scan_id=scan.id,
                commit=scan.commit,
                seen_at=now,
            )
        )


def change_item(change: PendingChange) -> dict[str, Any]:
    return {
        "id": change.id,
        "field": change.field,
        "in_force": change.in_force,
        "declared": change.declared,
        "declared_in": change.declared_in,
        "scan_id": change.scan_id,
        "commit": change.commit,
        "seen_at": iso(change.seen_at),
        "state": change.state,
        "decided_by": change.decided_by,
        "decided_at": iso(change.decided_at),
    }


def changes(session: Session, service_id: Any, pending_only: bool = True) -> list[dict[str, Any]]:
    """The service's owner and tier changes read from its repo, newest first (``service_id``: an id
    or a scalar subquery giving it)."""
    query = select(PendingChange).where(PendingChange.service_id == service_id)
    if pending_only:
        query = query.where(PendingChange.state == "pending")
    return [change_item(c) for c in session.exec(query.order_by(col(PendingChange.id).desc()).limit(100))]
