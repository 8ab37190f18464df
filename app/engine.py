"""The scan engine: evaluate one service at one commit against one scorecard."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prr import isolation
from prr.plugin import CheckContext, Registry, Result, not_applicable
from prr.repo import RepoSnapshot
from prr.scorecard import Scorecard
from prr.scoring import Waiver, check_entry, pick_waiver, verdict
from prr.service import ServiceInfo

REPORT_SCHEMA = "prr/scan-report/v1"


@dataclass
class Attestation:
    """A person's answer to a manual check."""

    check: str
    answer: bool
    attested_by: str
    expires: datetime
    evidence_url: str | None = None


@dataclass
class ScanRequest:
    snapshot: RepoSnapshot
    scorecard: Scorecard
    registry: Registry
    config: dict[str, Any] = field(default_factory=dict)
    tier_override: str | None = None
    tier_override_source: str = "portal config"
    # By service ref (known only once the repo is read): the waivers and attestations that apply.
    waivers: Callable[[str], Iterable[Waiver]] = lambda ref: ()
    attestations: Callable[[str], dict[str, Attestation]] | None = None  # None: no database
    live_clients: Any = None  # None: no live systems configured, live checks are left out
    now: datetime | None = None


def evaluate(request: ScanRequest) -> dict[str, Any]:
    """Run the scorecard's checks on the snapshot and return the §7 report (``scan_id`` null)."""
    now = request.now or datetime.now(UTC)
    card, registry = request.scorecard, request.registry
    started = time.monotonic()
    service = ServiceInfo.resolve(
        request.snapshot,
        tier_override=request.tier_override,
        known_tiers=set(card.required_levels),
        default_tier=card.default_tier,
        override_source=request.tier_override_source,
    )
    context = CheckContext(
        repo=request.snapshot,
        service=service,
        params={},
        now=now,
        settings=card.check_settings(),
        config=request.config,
        live=request.live_clients,
    )

    results: dict[str, Result] = {}
    jobs: list[isolation.Job] = []
    for entry in card.checks:
        check = registry.get(entry.id)
        if check.kind == "live" and request.live_clients is None:
            continue  # §9: live checks run only where the config names live systems
        if not entry.applies_to(service.tier):
            results[entry.id] = not_applicable(f"not required at Tier-{service.tier}")
        elif check.kind == "manual":
            answers = request.attestations(service.ref) if request.attestations else None
            results[entry.id] = manual_result(entry.id, answers, now)
        else:
            jobs.append(isolation.Job(entry.id, check.resolve_params(entry.params_for(service.tier))))
    results.update(isolation.run_checks(jobs, context, _limits(request.config, card)))

    waivers = list(request.waivers(service.ref))
    entries = [
        check_entry(entry, registry.get(entry.id), results[entry.id], pick_waiver(waivers, entry.id, now), now)
        for entry in card.checks
        if entry.id in results
    ]
    return {
        "schema": REPORT_SCHEMA,
        "service": service.to_report(),
        "source": {
            "repo": request.snapshot.location,
            "commit": request.snapshot.commit,
            "scanned_at": now.isoformat().replace("+00:00", "Z"),
        },
        "scan_id": None,
        "scorecard": {
            "id": card.id,
            "version": card.version,
            "levels": list(card.levels),
            "required_level": card.required_levels[service.tier],
        },
        **verdict(card, service.tier, entries),
        "links": {"portal": None},
        "checks": entries,
        "duration_seconds": round(time.monotonic() - started, 3),
    }


def manual_result(check_id: str, attestations: dict[str, Attestation] | None, now: datetime) -> Result:
    """A manual check answered from the newest attestation (not_applicable without a database)."""
    if attestations is None:
        return not_applicable("answered in the portal; no answer can be read here (no database)")
    answer = attestations.get(check_id)
    if answer is None:
        return Result("fail", "not attested yet: answer it on the service's review page")
    if answer.expires <= now:
        return Result("fail", f"attestation by {answer.attested_by} expired on {answer.expires:%Y-%m-%d}")
    status = "pass" if answer.answer else "fail"
    evidence = [{"url": answer.evidence_url}] if answer.evidence_url else []
    return Result.from_dict(
        {
            "status": status,
            "evidence": evidence,
            "summary": f"attested {'yes' if answer.answer else 'no'} by {answer.attested_by}, "
            f"valid until {answer.expires:%Y-%m-%d}",
        }
    )


def _limits(config: dict[str, Any], card: Scorecard) -> isolation.Limits:
    scan = config.get("scan") or {}
    return isolation.Limits(
        timeout_seconds=float(scan.get("check_timeout_seconds", card.settings.get("check_timeout_seconds", 60))),
        memory_mb=int(scan.get("check_memory_mb", 2048)),
    )
