"""resilience.replicas: production workloads run more than one pod (Tier-0: at least three)."""

from __future__ import annotations

from prr.checks.formats.kubernetes import (
    NO_REPLICATED_WORKLOADS,
    REPLICATED_KINDS,
    Replicas,
    count,
    evidence_at,
    manifests_for,
    verdict,
)
from prr.plugin import CheckContext, Evidence, Result, check

EXAMPLE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
spec:
  replicas: 3
  # ...
---
# or let an autoscaler own the count (it overrides spec.replicas):
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: checkout
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: checkout}
  minReplicas: 3
  maxReplicas: 10
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}"""


@check(
    id="resilience.replicas",
    title="Workloads run more than one replica",
    category="resilience",
    description="Every production Deployment, StatefulSet and Argo Rollout runs at least "
    "`min_replicas` pods (Tier-0: `min_replicas_tier0`), set by `spec.replicas` or by the "
    "minReplicas of an autoscaler that targets it. A workload without `replicas` runs one pod. "
    "DaemonSets, Jobs and CronJobs are left out.",
    remediation="Set `spec.replicas` (or an HPA's `minReplicas`) to at least 2, and 3 for Tier-0 "
    f"services:\n\n```yaml\n{EXAMPLE}\n```\n\n"
    "See https://kubernetes.io/docs/concepts/workloads/controllers/deployment/ and "
    "https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/",
    docs_url="https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/",
    params={
        "properties": {
            "min_replicas": {
                "type": "integer",
                "minimum": 1,
                "default": 2,
                "description": "Fewest replicas for a production workload.",
            },
            "min_replicas_tier0": {
                "type": "integer",
                "minimum": 1,
                "default": 3,
                "description": "Fewest replicas (or HPA minReplicas) at Tier-0.",
            },
        }
    },
    reads=("**/*.yaml", "**/*.yml"),
)
def resilience_replicas(ctx: CheckContext) -> Result:
    manifests = manifests_for(ctx.repo, ctx.config)
    tier0 = ctx.service.tier == "0"
    need = ctx.params["min_replicas_tier0"] if tier0 else ctx.params["min_replicas"]
    workloads = [w for w in manifests.workloads if w.kind in REPLICATED_KINDS]
    failures: list[Evidence] = []
    undecided: list[Evidence] = []
    evidence: list[Evidence] = []
    short: set[str] = set()
    for workload in workloads:
        scaler = manifests.autoscaler_for(workload)
        if scaler is not None:
            settings = [Replicas(scaler.min_replicas, scaler.path, scaler.min_line)]
            source = f"{scaler.kind} {scaler.name} minReplicas"
        else:
            settings, source = workload.replicas, "replicas"
        for setting in settings:
            pods = 1 if setting.value is None else setting.value
            if not isinstance(pods, int) or isinstance(pods, bool):
                undecided.append(evidence_at(setting, f"{workload.ref}: {source} {setting.value!r} is not a number"))
            elif pods < need:
                short.add(workload.ref)
                said = "sets no replicas (Kubernetes runs 1)" if setting.value is None else f"{source}: {pods}"
                failures.append(evidence_at(setting, f"{workload.ref} {said}; needs at least {need}"))
            else:
                evidence.append(evidence_at(setting, f"{workload.ref} {source}: {pods}"))
    bar = f"{need} replicas" + (" (Tier-0)" if tier0 else "")
    return verdict(
        manifests,
        len(workloads),
        failures=failures,
        undecided=undecided,
        evidence=evidence,
        fail_summary=f"{len(short)} of {count(len(workloads), 'workload')} below {bar}: " + ", ".join(sorted(short)),
        pass_summary=f"every workload runs at least {bar} ({count(len(workloads), 'workload')})",
        none_summary=NO_REPLICATED_WORKLOADS,
        unreadable_may_decide=True,
        min_replicas=need,
        workloads=len(workloads),
    )
