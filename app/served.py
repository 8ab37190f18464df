"""The served scorecard: a stored scan with the waivers and attestations in force at a moment applied.

A stored scan keeps the verdict it had when it was made. What the portal *serves* is that scan's
check entries with the waivers and attestations in force **now** re-applied and re-run through
:func:`prr.scoring.verdict`: a waiver granted after the scan turns a failing check met at once,
and stops doing so when it expires.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from prr.config import Config
from prr.context import ReadContext
from prr.engine import Attestation, manual_result
from prr.moments import aware
from prr.plugin import Check, Result
from prr.refs import portal_link
from prr.scorecard import Scorecard, ScorecardCheck
from prr.scoring import Waiver, check_entry, pick_waiver, verdict
from prr.storage.models import AttestationRecord, WaiverRecord


def waivers_in_force(session: Session, config: Config, at: datetime, ref: str | None = None) -> dict[str, list[Waiver]]:
    """The waivers in force at ``at`` (granted by then, not revoked by then, not expired; stored and
    config), by service ref."""
    found: dict[str, list[Waiver]] = defaultdict(list)
    query = select(WaiverRecord).where(
        col(WaiverRecord.created_at) <= at,
        col(WaiverRecord.expires_at) > at,
        or_(col(WaiverRecord.revoked_at).is_(None), col(WaiverRecord.revoked_at) > at),
    )
    if ref is not None:
        query = query.where(WaiverRecord.service_ref == ref)
    for record in session.exec(query):
        found[record.service_ref].append(
            Waiver(
                check=record.check_id,
                reason=record.reason,
                approver=record.approver,
                expires=aware(record.expires_at),
                id=record.id,
            )
        )
    for service_ref, waiver in config.waivers:
        if (ref is None or service_ref == ref) and waiver.in_force(at):
            found[service_ref].append(waiver)
    return found


def answers_as_of(session: Session, at: datetime, ref: str | None = None) -> dict[str, dict[str, Attestation]]:
    """The newest answer given by ``at`` to each manual check (expired ones too), by service ref
    then check id."""
    found: dict[str, dict[str, Attestation]] = defaultdict(dict)
    query = (
        select(AttestationRecord)
        .where(col(AttestationRecord.created_at) <= at)
        .order_by(col(AttestationRecord.created_at), col(AttestationRecord.id))
    )
    if ref is not None:
        query = query.where(AttestationRecord.service_ref == ref)
    for record in session.exec(query):
        found[record.service_ref][record.check_id] = Attestation(
            check=record.check_id,
            answer=record.answer,
            attested_by=record.attested_by,
            expires=aware(record.expires_at),
            evidence_url=record.evidence_url,
        )
    return found


def scan_sources(ctx: ReadContext) -> tuple[Config, Callable[[str], dict[str, Attestation]]]:
    """What a scan made by the portal applies: the config plus stored waivers, and stored answers.

    ``fleet.scan_entry(entry, config, ..., attestations=answers)`` with the returned pair stores a
    report whose verdict already counts the portal's waivers and attestations.
    """
    with Session(ctx.engine) as session:
        granted = waivers_in_force(session, replace(ctx.config, waivers=[]), ctx.now)
    config = replace(ctx.config, waivers=list(ctx.config.waivers) + [(r, w) for r, ws in granted.items() for w in ws])

    def answers(ref: str) -> dict[str, Attestation]:
        with Session(ctx.engine) as session:
            return answers_as_of(session, ctx.now, ref).get(ref, {})

    return config, answers


# --------------------------------------------------------------------------- the served report


def reapply(
    ctx: ReadContext, report: dict[str, Any], waivers: Iterable[Waiver], answers: dict[str, Attestation]
) -> dict[str, Any]:
    """A stored scan report with ``waivers`` and ``answers`` (those in force at ``ctx.now``) applied.

    Manual checks are answered afresh from the newest attestation (unless the scorecard does not
    require them at the service's tier); every entry's ``met`` / ``waived`` / ``waiver`` is
    recomputed exactly as the engine computes it, then score, level, ready and next steps.
    """
    ref, tier = report["service"]["ref"], report["service"]["tier"]
    waivers = list(waivers)
    entries = [_reapply_entry(ctx, entry, tier, waivers, answers) for entry in report["checks"]]
    card = _stored_scorecard(report)
    served = {**report, **verdict(card, tier, entries), "checks": entries}
    served["links"] = {**report.get("links", {}), "portal": portal_link(ctx.config, ref)}
    return served


def _reapply_entry(
    ctx: ReadContext, entry: dict[str, Any], tier: str, waivers: list[Waiver], answers: dict[str, Attestation]
) -> dict[str, Any]:
    result = Result.from_dict(entry)
    if entry.get("kind") == "manual" and _manual_required(ctx.scorecard, entry["id"], tier):
        result = manual_result(entry["id"], answers, ctx.now)
    scorecard_entry = ScorecardCheck(
        id=entry["id"], level=entry["level"], weight=entry["weight"], blocking=entry["blocking"]
    )
    check = Check(
        id=entry["id"],
        title=entry["title"],
        category=entry["category"],
        description="",
        remediation=entry["remediation"],
        run=_never_run,
        kind=entry.get("kind", "repo"),
        docs_url=entry.get("docs_url"),
    )
    return check_entry(scorecard_entry, check, result, pick_waiver(waivers, entry["id"], ctx.now))


def _never_run(_ctx: Any) -> Result:  # a stored entry is re-scored, never re-run
    raise RuntimeError("stored check entries are not run")


def _manual_required(card: Scorecard | None, check_id: str, tier: str) -> bool:
    entry = next((c for c in card.checks if c.id == check_id), None) if card else None
    return entry is not None and entry.applies_to(tier)


def _stored_scorecard(report: dict[str, Any]) -> Scorecard:
    """The scorecard the scan was made with, as far as ``verdict`` needs it (levels, required level)."""
    meta, tier = report["scorecard"], report["service"]["tier"]
    return Scorecard(
        id=meta["id"],
        title=meta["id"],
        version=meta["version"],
        levels=tuple(meta["levels"]),
        required_levels={tier: meta["required_level"]},
        default_tier=tier,
        settings={},
        checks=(),
        source="stored scan",
    )
