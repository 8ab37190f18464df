"""The scan engine: evaluate one service at one commit against one scorecard."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prr import isolation
from prr.escaping import as_unicode, each_string
from prr.plugin import Check, CheckContext, Registry, Result, Status, errored, not_applicable
from prr.repo import RepoSnapshot
from prr.scorecard import Scorecard
from prr.scoring import Waiver, check_entry, pick_waiver, verdict
from prr.service import resolve_service

REPORT_SCHEMA = "prr/scan-report/v1"
NO_LIVE_SYSTEMS = "no live systems configured: set `live:` in the portal config"


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
    live_clients: Any = None  # None: no live systems configured, live checks are not applicable
    # An earlier report of this service: its results stand for checks whose inputs are unchanged.
    reuse_from: dict[str, Any] | None = None
    now: datetime | None = None


def evaluate(request: ScanRequest) -> dict[str, Any]:
    """Run the scorecard's checks on the snapshot and return the scan report (``scan_id`` null).

    With ``reuse_from``, a result of that earlier report is reused, not run again, when the
    report is of the same commit and scorecard (id and version), the check's fingerprint (see
    :func:`fingerprint`) is unchanged, its result there was not an ``error``, and the check is
    a repo check that does not depend on the time. Each reused entry says where it comes from.
    """
    now = request.now or datetime.now(UTC)
    card, registry = request.scorecard, request.registry
    started = time.monotonic()
    service = resolve_service(
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

    checks = {entry.id: registry.get(entry.id) for entry in card.checks}
    params = {entry.id: checks[entry.id].resolve_params(entry.params_for(service.tier)) for entry in card.checks}
    fingerprints = {check_id: fingerprint(checks[check_id], params[check_id], context) for check_id in checks}
    reusable = _reusable_entries(request, fingerprints)

    results: dict[str, Result] = {}
    reused: dict[str, dict[str, Any]] = {}
    jobs: list[isolation.Job] = []
    for entry in card.checks:
        check = checks[entry.id]
        if not entry.applies_to(service.tier):
            results[entry.id] = not_applicable(f"not required at Tier-{service.tier}")
        elif check.kind == "live" and request.live_clients is None:
            results[entry.id] = not_applicable(NO_LIVE_SYSTEMS)
        elif check.kind == "manual":
            answers = request.attestations(service.ref) if request.attestations else None
            results[entry.id] = manual_result(entry.id, answers, now)
        elif check.reusable and entry.id in reusable:
            results[entry.id], reused[entry.id] = reusable[entry.id]
        else:
            jobs.append(isolation.Job(check, params[entry.id]))
    results.update(isolation.run_checks(jobs, context, _limits(request.config, card)))
    if request.snapshot.truncated:
        max_files = request.snapshot.limits.max_files
        for job in jobs:
            results[job.check.id] = _partly_listed(results[job.check.id], max_files)

    waivers = list(request.waivers(service.ref))
    entries = [
        {
            **check_entry(entry, checks[entry.id], results[entry.id], pick_waiver(waivers, entry.id, now), now),
            "fingerprint": fingerprints[entry.id],
            "reused_from": reused.get(entry.id),
        }
        for entry in card.checks
    ]
    report = {
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
    return each_string(report, as_unicode)  # a file name that is not UTF-8 is shown with U+FFFD


def _partly_listed(result: Result, max_files: int) -> Result:
    """A check's result when only the first ``max_files`` files of the repository were listed.

    A pass stands (it found what it needed); any other verdict may rest on a file that was never
    seen, so it becomes an ``error`` that says so.
    """
    if result.status in (Status.PASS, Status.ERROR):
        return result
    return errored(
        f"the repository holds more than {max_files} files (scan.max_files); only the first {max_files} "
        f"were read, so this cannot be decided: {result.summary}",
        result.evidence,
        **result.details,
    )


def fingerprint(check: Check, params: dict[str, Any], context: CheckContext) -> str:
    """A digest of what a check's result depends on besides the repo at its commit.

    That is the check's id, version and resolved parameters, and what it sees of the scan: the
    service (identity and tier), the scorecard's settings and the portal config given to checks.
    """
    inputs = {
        "check": check.id,
        "version": check.version,
        "params": params,
        "service": context.service.to_dict(),
        "settings": context.settings,
        "config": context.config,
    }
    return "sha256:" + hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()


def _reusable_entries(request: ScanRequest, fingerprints: dict[str, str]) -> dict[str, tuple[Result, dict[str, Any]]]:
    """The results of ``request.reuse_from`` that may stand for this scan's, with where each was run."""
    previous = request.reuse_from
    if not previous or previous.get("schema") != REPORT_SCHEMA:
        return {}
    card = request.scorecard
    same_scan = previous["source"]["commit"] == request.snapshot.commit and (
        previous["scorecard"]["id"],
        previous["scorecard"]["version"],
    ) == (card.id, card.version)
    if not same_scan:
        return {}
    ran_in = {"scan_id": previous.get("scan_id"), "scanned_at": previous["source"]["scanned_at"]}
    return {
        item["id"]: (Result.from_dict(item), item.get("reused_from") or ran_in)
        for item in previous.get("checks", [])
        if item.get("fingerprint") == fingerprints.get(item["id"]) and item["status"] != Status.ERROR.value
    }


def manual_result(check_id: str, attestations: dict[str, Attestation] | None, now: datetime) -> Result:
    """A manual check answered from the newest attestation (not_applicable without a database)."""
    if attestations is None:
        return not_applicable("answered in the portal; no answer can be read here (no database)")
    answer = attestations.get(check_id)
    if answer is None:
        return Result(Status.FAIL, "not attested yet: answer it on the service's review page")
    if answer.expires <= now:
        return Result(Status.FAIL, f"attestation by {answer.attested_by} expired on {answer.expires:%Y-%m-%d}")
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
