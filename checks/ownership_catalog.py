"""ownership.catalog: a valid Backstage Component descriptor with an owner and a lifecycle."""

from __future__ import annotations

from prr.checks.formats.catalog import CATALOG_FILES, owner_of, try_catalog
from prr.plugin import CheckContext, Evidence, Result, check, errored, failed, passed

EXAMPLE = """\
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout
  annotations:
    prr/tier: "1"
spec:
  type: service
  owner: group:default/team-payments
  lifecycle: production"""


@check(
    id="ownership.catalog",
    title="Service is in the software catalog",
    category="ownership",
    description="The repo has a valid Backstage catalog descriptor for a Component that names "
    "its owning team (spec.owner) and its lifecycle (spec.lifecycle).",
    remediation=f"Add `catalog-info.yaml` at the repo root:\n\n```yaml\n{EXAMPLE}\n```",
    docs_url="https://backstage.io/docs/features/software-catalog/descriptor-format",
    reads=CATALOG_FILES,
)
def ownership_catalog(ctx: CheckContext) -> Result:
    catalog, error = try_catalog(ctx.repo)
    if error is not None:
        return errored(f"{error}", [Evidence(path=error.path, line=error.line)])
    if catalog.path is None:
        return failed(
            "no catalog-info.yaml at the repo root", [Evidence(value="add catalog-info.yaml at the repo root")]
        )
    entity = catalog.component
    if entity is None or entity.kind != "component":
        problems = [Evidence(path=catalog.path, line=line, value=msg) for line, msg in catalog.problems]
        what = f"a {entity.kind} entity" if entity else "no valid entity"
        return failed(
            f"{catalog.path} holds {what}, not a Component", problems or [Evidence(path=catalog.path, line=1)]
        )
    missing = [
        f for f, ok in (("spec.owner", owner_of(entity)), ("spec.lifecycle", entity.spec.get("lifecycle"))) if not ok
    ]
    spec_line = entity.doc.line_of("spec") if "spec" in entity.doc else entity.doc.line
    if missing:
        return failed(f"{entity.ref} has no {' and no '.join(missing)}", [Evidence(path=entity.path, line=spec_line)])
    return passed(
        f"{entity.ref} owned by {owner_of(entity)}, lifecycle {entity.spec['lifecycle']}",
        [Evidence(path=entity.path, line=entity.doc.line, value=entity.ref)],
    )
