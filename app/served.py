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
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from prr.config import Config
from prr.context import ReadContext
from prr.engine import Attestation, manual_result
from prr.moments import aware
from prr.plugin import Check, Result
from prr.refs import portal_link
from prr.scorecard import Scorecard, ScorecardCheck
from prr.scoring import Waiver, check_entry, pick_waiver, verdict
from prr.storage.models import AttestationRecord, WaiverRecord


def active_waivers(ctx: ReadContext, ref: str | None = None) -> dict[str, list[Waiver]]:
    """Waivers not revoked and not expired at ``ctx.now`` (stored and config), by service ref."""
    found = stored_waivers(ctx, ref)
    for service_ref, waiver in ctx.config.waivers:
        if (ref is None or service_ref == ref) and waiver.in_force(ctx.now):
            found[service_ref].append(waiver)
    return found


def stored_waivers(ctx: ReadContext, ref: str | None = None) -> dict[str, list[Waiver]]:
    """The waivers granted in the portal that are in force at ``ctx.now``, by service ref."""
    found: dict[str, list[Waiver]] = defaultdict(list)
    with Session(ctx.engine) as session:
        query = select(WaiverRecord).where(WaiverRecord.revoked_at.is_(None))
        if ref is not None:
            query = query.where(WaiverRecord.service_ref == ref)
        for record in session.exec(query):
            waiver = Waiver(
                check=record.check_id,
                reason=record.reason,
                approver=record.approver,
                expires=aware(record.expires_at),
                id=record.id,
            )
            if waiver.in_force(ctx.now):
                found[record.service_ref].append(waiver)
    return found


def latest_attestations(engine: Engine, ref: str | None = None) -> dict[str, dict[str, Attestation]]:
    """The newest answer to each manual check, by service ref then check id (expired ones too)."""
    found: dict[str, dict[str, Attestation]] = defaultdict(dict)
    with Session(engine) as session:
        query = select(AttestationRecord).order_by(AttestationRecord.created_at, AttestationRecord.id)
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
    stored = [(ref, w) for ref, granted in stored_waivers(ctx).items() for w in granted]
    config = replace(ctx.config, waivers=list(ctx.config.waivers) + stored)
    return config, lambda ref: latest_attestations(ctx.engine, ref).get(ref, {})


# --------------------------------------------------------------------------- the served report


def reapply(
    ctx: ReadContext,
    report: dict[str, Any],
    waivers: Iterable[Waiver] | None = None,
    answers: dict[str, Attestation] | None = None,
) -> dict[str, Any]:
    """A stored §7 report with the waivers and attestations in force at ``ctx.now`` applied.

    ``waivers`` / ``answers`` default to those stored for the report's service. Manual checks are
    answered afresh from the newest attestation (unless the scorecard does not require them at the
    service's tier); every entry's ``met`` / ``waived`` / ``waiver`` is recomputed exactly as the
    engine computes it, then score, level, ready and next steps.
    """
    ref, tier = report["service"]["ref"], report["service"]["tier"]
    if waivers is None:
        waivers = active_waivers(ctx, ref).get(ref, [])
    if answers is None:
        answers = latest_attestations(ctx.engine, ref).get(ref, {})
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
