"""The scan engine: evaluate one service at one commit against one scorecard."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from prr import isolation
from prr.escaping import as_unicode, each_string
from prr.plugin import Check, CheckContext, Registry, Result, ServiceInfo, Status, errored, not_applicable
from prr.repo import RepoSnapshot
from prr.scorecard import Scorecard, ScorecardCheck
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
    # By (service ref, declared tier): the tier the portal holds the service to instead, while the
    # declared one waits for an approver (prr.custody.tier_hold); None: no portal, as declared.
    tier_hold: Callable[[str, str], str | None] | None = None
    # By service ref (known only once the repo is read): the waivers and attestations that apply.
    waivers: Callable[[str], Iterable[Waiver]] = lambda ref: ()
    attestations: Callable[[str], dict[str, Attestation]] | None = None  # None: no database
    live_clients: Any = None  # None: no live systems configured, live checks are not applicable
    # An earlier report of this service: its results stand for checks whose inputs are unchanged.
    reuse_from: dict[str, Any] | None = None
    now: datetime | None = None


@dataclass
class _Outcome:
    """The results of one scan, before waivers and scoring."""

    service: dict[str, Any]  # the report's ``service``
    results: dict[str, Result]
    fingerprints: dict[str, str]
    reused: dict[str, dict[str, Any]]  # where each reused result was run


def evaluate(request: ScanRequest) -> dict[str, Any]:
    """Run the scorecard's checks on the snapshot and return the scan report (``scan_id`` null).

    With ``reuse_from``, a result of that earlier report is reused, not run again, when the
    report is of the same commit and scorecard (id and version), the check's fingerprint (see
    :func:`fingerprint`) is unchanged and the result still holds (see :func:`carried_over`).
    Each reused entry says where it comes from.

    When every result of that report can stand (see :func:`_restamped`), nothing is run and the
    repository is not read: the report is its results re-stamped at ``now``, with the manual
    answers, waivers and remediation dates of ``now`` applied as a full scan applies them.
    """
    now = request.now or datetime.now(UTC)
    started = time.monotonic()
    inputs = inputs_digest(request)
    outcome = _restamped(request, inputs, now) or _scanned(request, now)
    card, checks = request.scorecard, {entry.id: request.registry.get(entry.id) for entry in request.scorecard.checks}
    waivers = list(request.waivers(outcome.service["ref"]))
    entries = [
        {
            **check_entry(entry, checks[entry.id], outcome.results[entry.id], pick_waiver(waivers, entry.id, now), now),
            "fingerprint": outcome.fingerprints[entry.id],
            "reused_from": outcome.reused.get(entry.id),
        }
        for entry in card.checks
    ]
    tier = outcome.service["tier"]
    report = {
        "schema": REPORT_SCHEMA,
        "service": outcome.service,
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
            "required_level": card.required_levels[tier],
        },
        **verdict(card, tier, entries),
        "links": {"portal": None},
        "checks": entries,
        "inputs": inputs,
        "duration_seconds": round(time.monotonic() - started, 3),
    }
    return each_string(report, as_unicode)  # a file name that is not UTF-8 is shown with U+FFFD


def _scanned(request: ScanRequest, now: datetime) -> _Outcome:
    """Read the repository and run the checks whose earlier results cannot be reused."""
    card, registry = request.scorecard, request.registry
    service = resolve_service(
        request.snapshot,
        tier_override=request.tier_override,
        known_tiers=set(card.required_levels),
        default_tier=card.default_tier,
        override_source=request.tier_override_source,
    )
    service = _held(request, service)
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
    seen = seen_by_checks(context)
    fingerprints = {check_id: fingerprint(checks[check_id], params[check_id], seen) for check_id in checks}
    reusable = _reusable_entries(request, fingerprints, now)

    results: dict[str, Result] = {}
    reused: dict[str, dict[str, Any]] = {}
    jobs: list[isolation.Job] = []
    for entry in card.checks:
        check = checks[entry.id]
        fixed = _result_without_running(request, entry, check, service.ref, service.tier, now)
        if fixed is not None:
            results[entry.id] = fixed
        elif entry.id in reusable:
            results[entry.id], reused[entry.id] = reusable[entry.id]
        else:
            jobs.append(isolation.Job(check, params[entry.id]))
    results.update(isolation.run_checks(jobs, context, _limits(request.config, card)))
    if request.snapshot.truncated:
        for job in jobs:
            results[job.check.id] = _partly_listed(results[job.check.id], request.snapshot.limits.max_files)
    return _Outcome(service.to_report(), results, fingerprints, reused)


def _held(request: ScanRequest, service: ServiceInfo) -> ServiceInfo:
    """The service at the tier in force, when the tier its repo declares waits for an approver."""
    held = request.tier_hold(service.ref, service.tier) if request.tier_hold and request.tier_override is None else None
    if held is None:
        return service
    return replace(
        service,
        tier=held,
        tier_source=f"held at Tier-{held} by the portal until an approver accepts the Tier-{service.tier} "
        f"the repo declares ({service.tier_source})",
        tier_pending={"tier": service.tier, "source": service.tier_source},
    )


def _still_held(request: ScanRequest, service: dict[str, Any]) -> bool:
    """Whether an earlier report's service is at the tier the portal would hold it to now."""
    if request.tier_hold is None or request.tier_override is not None:
        return True
    declared = (service.get("tier_pending") or {}).get("tier", service["tier"])
    return (request.tier_hold(service["ref"], declared) or declared) == service["tier"]


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


def _result_without_running(
    request: ScanRequest, entry: ScorecardCheck, check: Check, ref: str, tier: str, now: datetime
) -> Result | None:
    """The result of a check that is not run: not required at the tier, live without live
    systems, or manual (answered from the attestations). None for a check to run (or reuse)."""
    if not entry.applies_to(tier):
        return not_applicable(f"not required at Tier-{tier}")
    if check.kind == "live" and request.live_clients is None:
        return not_applicable(NO_LIVE_SYSTEMS)
    if check.kind == "manual":
        return manual_result(entry.id, request.attestations(ref) if request.attestations else None, now)
    return None


def _restamped(request: ScanRequest, inputs: str, now: datetime) -> _Outcome | None:
    """The earlier report's outcome, when all of it stands for a scan at ``now``; else None.

    It stands when that report is of the same commit, made no later than ``now`` from the same
    inputs (:func:`inputs_digest`), no live check is to be asked, and the result of every check that
    would run still holds at ``now`` (:func:`carried_over`). Checks that are not run are answered
    afresh.
    """
    previous = request.reuse_from
    if (
        not previous
        or previous.get("schema") != REPORT_SCHEMA
        or previous.get("inputs") != inputs
        or previous["source"]["commit"] != request.snapshot.commit
        or _moment(previous["source"]["scanned_at"]) > now
    ):
        return None
    earlier = {item["id"]: item for item in previous.get("checks", [])}
    service = previous["service"]
    if not _still_held(request, service):  # an approver accepted its tier since, or it now waits
        return None
    ran_in = {"scan_id": previous.get("scan_id"), "scanned_at": previous["source"]["scanned_at"]}
    outcome = _Outcome(dict(service), {}, {}, {})
    for entry in request.scorecard.checks:
        check, item = request.registry.get(entry.id), earlier.get(entry.id)
        if item is None:
            return None
        fixed = _result_without_running(request, entry, check, service["ref"], service["tier"], now)
        if fixed is not None:
            outcome.results[entry.id] = fixed
        elif not carried_over(check, item, previous, now):
            return None
        else:
            outcome.results[entry.id] = Result.from_dict(item)
            outcome.reused[entry.id] = item.get("reused_from") or ran_in
        outcome.fingerprints[entry.id] = item["fingerprint"]
    return outcome


def carried_over(check: Check, item: dict[str, Any], report: dict[str, Any], now: datetime) -> bool:
    """Whether ``check``'s result ``item`` in an earlier ``report`` of the same inputs is still its
    result at ``now``.

    Only a repo check's result can be. One that says until when it holds, in
    ``details.valid_until`` (see :func:`prr.plugin.holds_until`: an ISO 8601 time, or null for
    whatever the time), holds until then if that report was made no later than ``now``. One that
    does not say holds if it is not an ``error`` (which may have been a timeout or a crash, worth
    trying again) and the check does not depend on the time.
    """
    details = item.get("details") or {}
    if check.kind != "repo":
        return False
    if "valid_until" not in details:
        return check.reusable and item["status"] != Status.ERROR.value
    until = details["valid_until"]
    return _moment(report["source"]["scanned_at"]) <= now and (until is None or _moment(until) > now)


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def inputs_digest(request: ScanRequest) -> str:
    """A digest of what a scan's results depend on besides the repo at its commit.

    That is the scorecard (all of it), its checks' ids, versions and kinds, the portal config
    given to checks, the tier override, whether live systems are configured, the repo's location
    and the snapshot's read limits. Waivers and manual answers are not in it: they are applied
    afresh to every report.
    """
    card = request.scorecard
    checks = [request.registry.get(entry.id) for entry in card.checks]
    inputs = {
        "scorecard": _scorecard_digest(card),
        "checks": [(c.id, c.version, c.kind, c.time_dependent) for c in checks],
        "config": request.config,
        "tier_override": [request.tier_override, request.tier_override_source],
        "live": request.live_clients is not None,
        "location": request.snapshot.location,
        "limits": asdict(request.snapshot.limits),
    }
    return _digest(inputs)


_scorecard_digests: dict[int, tuple[Scorecard, str]] = {}  # by id(): a scorecard holds dicts, so is unhashable


def _scorecard_digest(card: Scorecard) -> str:
    known = _scorecard_digests.get(id(card))
    if known is None or known[0] is not card:
        known = _scorecard_digests[id(card)] = (card, _digest(asdict(card)))
    return known[1]


def fingerprint(check: Check, params: dict[str, Any], seen: str) -> str:
    """A digest of what a check's result depends on besides the repo at its commit.

    That is the check's id, version and resolved parameters, and what it sees of the scan
    (``seen``, from :func:`seen_by_checks`).
    """
    return _digest({"check": check.id, "version": check.version, "params": params, "seen": seen})


def seen_by_checks(context: CheckContext) -> str:
    """A digest of what every check sees of the scan: the service (identity and tier), the
    scorecard's settings and the portal config given to checks."""
    return _digest({"service": context.service.to_dict(), "settings": context.settings, "config": context.config})


def _digest(inputs: dict[str, Any]) -> str:
    return "sha256:" + hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()


def _reusable_entries(
    request: ScanRequest, fingerprints: dict[str, str], now: datetime
) -> dict[str, tuple[Result, dict[str, Any]]]:
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
    checks = {entry.id: request.registry.get(entry.id) for entry in card.checks}
    return {
        item["id"]: (Result.from_dict(item), item.get("reused_from") or ran_in)
        for item in previous.get("checks", [])
        if item["id"] in checks
        and item.get("fingerprint") == fingerprints.get(item["id"])
        and carried_over(checks[item["id"]], item, previous, now)
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
