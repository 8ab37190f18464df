"""ownership.oncall: an on-call integration is declared for the service."""

from __future__ import annotations

from prr.checks.formats.catalog import CATALOG_FILES, metadata_spot, try_catalog
from prr.checks.formats.portals import PORTAL_FILES, Fact, load_portals
from prr.checks.formats.readiness import READINESS_FILES, try_readiness
from prr.checks.formats.yamlfile import FormatError, YMap
from prr.plugin import CheckContext, Evidence, Result, check, errored, failed, passed

# Backstage plugin annotations: PagerDuty, Opsgenie, Splunk On-Call (VictorOps), iLert.
ONCALL_ANNOTATION_PREFIXES = ("pagerduty.com/", "opsgenie.com/", "splunk.com/on-call", "ilert.com/")
EXAMPLE = """\
# catalog-info.yaml
metadata:
  annotations:
    pagerduty.com/service-id: PABC123        # or pagerduty.com/integration-key
    # opsgenie.com/team: payments            # with Opsgenie"""


@check(
    id="ownership.oncall",
    title="On-call is set up",
    category="ownership",
    description="Someone is paged when the service breaks: a PagerDuty, Opsgenie, Splunk On-Call or "
    "iLert annotation in catalog-info.yaml (`pagerduty.com/service-id`, `pagerduty.com/integration-key`, "
    "`opsgenie.com/team`, `opsgenie.com/component-selector`...), `oncall` in readiness.yaml, "
    "`x-cortex-oncall` in cortex.yaml, a PagerDuty/Opsgenie tool in opslevel.yml, or "
    "`integrations.pagerduty`/`opsgenie` in service.datadog.yaml.",
    remediation="Connect the service to its on-call rotation in `catalog-info.yaml`:\n\n"
    f"```yaml\n{EXAMPLE}\n```\n\nWithout a catalog, declare it in `readiness.yaml`: "
    "`oncall: {pagerduty: PABC123}`.",
    docs_url="https://backstage.io/docs/features/software-catalog/well-known-annotations/",
    reads=CATALOG_FILES + READINESS_FILES + PORTAL_FILES,
)
def ownership_oncall(ctx: CheckContext) -> Result:
    found, errors = _declarations(ctx)
    if found:
        first = found[0]
        return passed(
            f"on-call: {first.label} ({first.shown()})",
            [Evidence(path=f.path, line=f.line, value=f"{f.label}: {f.shown()}") for f in found],
        )
    if errors:
        return errored(f"cannot tell whether on-call is set up: {errors[0]}", [e.evidence() for e in errors])
    catalog, _ = try_catalog(ctx.repo)
    entity = catalog.component
    if entity is None:
        return failed(
            "no on-call integration declared (no catalog-info.yaml, no readiness.yaml oncall)",
            [Evidence(value=f"add {CATALOG_FILES[0]} at the repo root")],
        )
    return failed(
        f"no on-call integration declared: {entity.path} has no pagerduty.com/ or opsgenie.com/ annotation",
        [metadata_spot(entity, "annotations", "add pagerduty.com/service-id")],
    )


def _declarations(ctx: CheckContext) -> tuple[list[Fact], list[FormatError]]:
    found: list[Fact] = []
    errors: list[FormatError] = []
    catalog, error = try_catalog(ctx.repo)
    errors += [error] if error else []
    entity = catalog.component
    annotations = entity.annotations if entity is not None else None
    if entity is not None and isinstance(annotations, YMap):
        found += [
            Fact(f"{entity.path} annotation {key}", value, entity.path, annotations.line_of(key))
            for key, value in annotations.items()
            if str(key).startswith(ONCALL_ANNOTATION_PREFIXES) and str(value or "").strip()
        ]
    readiness, error = try_readiness(ctx.repo)
    errors += [error] if error else []
    if readiness is not None and readiness.value("oncall") is not None:
        problems = readiness.problems_under("oncall")
        if problems:
            errors += [FormatError(readiness.path, p.line, str(p)) for p in problems]
        else:
            found.append(
                Fact(f"{readiness.path} oncall", readiness.value("oncall"), readiness.path, readiness.line_of("oncall"))
            )
    portals, portal_errors = load_portals(ctx.repo)
    errors += portal_errors
    for portal in portals:
        found += portal.oncall()
    return found, errors
