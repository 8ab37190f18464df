"""Who a repository's service is: entity ref, owner, tier, read from the repo's catalog and tier files.

The layers: the plugin API (:mod:`prr.plugin`, which defines :class:`~prr.plugin.ServiceInfo`)
knows nothing of the checks; the format parsers under :mod:`prr.checks.formats` build on it; this
module resolves a service with those parsers; the engine builds on all three.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from prr.checks.formats.catalog import owner_of, try_catalog
from prr.checks.formats.tier import declared_tiers, normalise_tier
from prr.plugin import ServiceInfo
from prr.repo import RepoSnapshot, is_url


def resolve_service(
    repo: RepoSnapshot,
    *,
    tier_override: str | None,
    known_tiers: set[str],
    default_tier: str,
    override_source: str = "portal config",
) -> ServiceInfo:
    """Read identity and tier from the repo; ``tier_override`` (config or ``--tier``) wins."""
    catalog, _error = try_catalog(repo)  # ownership.catalog reports a broken descriptor
    entity = catalog.component
    fallback_name = _repo_name(repo.location).lower()
    ref = entity.ref if entity else f"component:default/{fallback_name}"
    service = ServiceInfo(
        ref=ref,
        name=entity.name if entity else fallback_name,
        owner=owner_of(entity) if entity else None,
        tier=default_tier,
        tier_declared=False,
        tier_source="scorecard default_tier (the service declares no tier)",
        lifecycle=_str(entity.spec.get("lifecycle")) if entity else None,
        repo=repo.location,
        system=_str(entity.spec.get("system")) if entity else None,
        links=[dict(l) for l in entity.links] if entity else [],
        annotations={str(k): v for k, v in entity.annotations.items()} if entity else {},
        labels={str(k): v for k, v in entity.labels.items()} if entity else {},
    )
    if tier_override is not None:
        service.tier = normalise_tier(tier_override) or str(tier_override)
        service.tier_declared, service.tier_source = True, override_source
        return service
    declarations = declared_tiers(repo, entity)
    if declarations:
        first = declarations[0]
        if first.tier in known_tiers:
            service.tier, service.tier_declared, service.tier_source = first.tier, True, first.source
        else:
            service.declared_tier = first.raw
            service.tier_source = (
                f"scorecard default_tier ({first.source} says {first.raw!r}, which the scorecard does not define)"
            )
    return service


def _repo_name(location: str) -> str:
    name = location.rstrip("/").rsplit("/", 1)[-1] if is_url(location) else PurePosixPath(location.rstrip("/")).name
    return name.removesuffix(".git") or "unnamed"


def _str(value: Any) -> str | None:
    return str(value) if value is not None else None
