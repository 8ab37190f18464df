"""ownership.tier: the service declares a tier the scorecard knows."""

from __future__ import annotations

from prr.checks.formats.catalog import Catalog, metadata_spot, try_catalog
from prr.checks.formats.tier import declared_tiers
from prr.plugin import CheckContext, Evidence, Result, check, failed, passed


@check(
    id="ownership.tier",
    title="Service declares its tier",
    category="ownership",
    description="The service declares how critical it is (Tier-0 strictest, Tier-2 least), read in "
    "order from the portal config, the catalog annotation `prr/tier`, the label `tier`, a tag "
    "`tier-N`, `readiness.yaml` `tier`, `opslevel.yml` `service.tier`, `service.datadog.yaml` `tier`.",
    remediation="Declare the tier in `catalog-info.yaml`:\n\n```yaml\nmetadata:\n  annotations:\n"
    '    prr/tier: "1"   # 0 = critical, 1 = important, 2 = best effort\n```\n\n'
    "Pick the tier with your SRE team: it sets the bar the service is held to.",
    docs_url="https://sre.google/sre-book/service-level-objectives/",
    reads=("catalog-info.yaml", "readiness.yaml", "opslevel.yml", "service.datadog.yaml"),
)
def ownership_tier(ctx: CheckContext) -> Result:
    service = ctx.service
    catalog, _ = try_catalog(ctx.repo)
    declarations = declared_tiers(ctx.repo, catalog.component)
    if service.declared_tier is not None:
        first = declarations[0]
        known = ", ".join(sorted(ctx.settings.get("tiers", []))) or "the scorecard's tiers"
        return failed(
            f"declared tier {service.declared_tier!r} ({first.source}) is not one of {known}; "
            f"held to Tier-{service.tier}",
            [Evidence(path=first.path, line=first.line, value=first.raw)],
        )
    if not service.tier_declared:
        return failed(f"no tier declared; held to the default Tier-{service.tier}", [_where_to_declare(catalog)])
    evidence = [Evidence(path=d.path, line=d.line, value=d.raw) for d in declarations[:1]]
    return passed(f"Tier-{service.tier} ({service.tier_source})", evidence)


def _where_to_declare(catalog: Catalog) -> Evidence:
    """Point at the catalog's annotations (or metadata), where ``prr/tier`` belongs."""
    if catalog.component is None:
        return Evidence(value="add catalog-info.yaml with the annotation prr/tier")
    return metadata_spot(catalog.component, "annotations", "add the annotation prr/tier")
