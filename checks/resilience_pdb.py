"""resilience.pdb: a PodDisruptionBudget covers each production workload."""

from __future__ import annotations

from prr.checks.formats.kubernetes import (
    NO_REPLICATED_WORKLOADS,
    REPLICATED_KINDS,
    count,
    evidence_at,
    manifests_for,
    verdict,
)
from prr.plugin import CheckContext, Evidence, Result, check

EXAMPLE = """\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: checkout
spec:
  minAvailable: 1          # or maxUnavailable: 1
  selector:
    matchLabels:
      app: checkout        # the labels of the workload's pod template"""


@check(
    id="resilience.pdb",
    title="Workloads are covered by a PodDisruptionBudget",
    category="resilience",
    description="Each production Deployment, StatefulSet and Argo Rollout has a "
    "PodDisruptionBudget in its namespace whose selector matches the labels of its pod "
    "template, so node drains and cluster upgrades cannot take all its pods down at once.",
    remediation="Add a PodDisruptionBudget whose selector matches the pod template labels:"
    f"\n\n```yaml\n{EXAMPLE}\n```\n\nSee https://kubernetes.io/docs/tasks/run-application/configure-pdb/",
    docs_url="https://kubernetes.io/docs/tasks/run-application/configure-pdb/",
    reads=("**/*.yaml", "**/*.yml"),
)
def resilience_pdb(ctx: CheckContext) -> Result:
    manifests = manifests_for(ctx.repo, ctx.config)
    workloads = [w for w in manifests.workloads if w.kind in REPLICATED_KINDS]
    failures: list[Evidence] = []
    undecided: list[Evidence] = []
    evidence: list[Evidence] = []
    uncovered: list[str] = []
    for workload in workloads:
        if workload.containers is None:
            undecided.append(evidence_at(workload, f"{workload.ref}: {workload.unresolved}"))
        elif pdbs := manifests.pdbs_for(workload):
            evidence += [
                Evidence(path=p.path, line=p.line, value=f"PodDisruptionBudget {p.name} covers {workload.ref}")
                for p in pdbs
            ]
        else:
            uncovered.append(workload.ref)
            labels = ", ".join(f"{k}={v}" for k, v in workload.pod_labels.items()) or "none"
            failures.append(
                evidence_at(workload, f"{workload.ref} (pod labels: {labels}): no PodDisruptionBudget selects its pods")
            )
    return verdict(
        manifests,
        len(workloads),
        failures=failures,
        undecided=undecided,
        evidence=evidence,
        fail_summary=f"{len(uncovered)} of {count(len(workloads), 'workload')} without a "
        "PodDisruptionBudget: " + ", ".join(uncovered),
        pass_summary=f"a PodDisruptionBudget covers every workload ({count(len(workloads), 'workload')})",
        none_summary=NO_REPLICATED_WORKLOADS,
        unreadable_may_decide=True,
        workloads=len(workloads),
        pdbs=len(manifests.pdbs),
    )
