"""resilience.probes: every container of a long-running workload has readiness and liveness probes."""

from __future__ import annotations

from prr.checks.formats.kubernetes import (
    all_containers,
    count,
    judge_containers,
    lack_summary,
    manifests_for,
    verdict,
)
from prr.plugin import CheckContext, Result, check

PROBES = ("readinessProbe", "livenessProbe")
EXAMPLE = """\
spec:
  template:
    spec:
      containers:
        - name: checkout
          image: registry.example.com/checkout:1.4.2
          readinessProbe:
            httpGet: {path: /ready, port: 8080}
            periodSeconds: 5
          livenessProbe:
            httpGet: {path: /healthz, port: 8080}
            initialDelaySeconds: 10
            periodSeconds: 10"""


@check(
    id="resilience.probes",
    title="Containers have readiness and liveness probes",
    category="resilience",
    description="Every container (init containers aside) of every production Deployment, "
    "StatefulSet, DaemonSet and Argo Rollout declares a readinessProbe and a livenessProbe, so "
    "traffic only reaches ready pods and hung ones are restarted.",
    remediation="Add a `readinessProbe` and a `livenessProbe` to each container of the pod "
    f"template:\n\n```yaml\n{EXAMPLE}\n```\n\n"
    "See https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/",
    docs_url="https://kubernetes.io/docs/tasks/configure-pod-container/configure-liveness-readiness-startup-probes/",
    reads=("**/*.yaml", "**/*.yml"),
)
def resilience_probes(ctx: CheckContext) -> Result:
    manifests = manifests_for(ctx.repo, ctx.config)
    containers, undecided = all_containers(manifests)
    found = judge_containers(
        containers,
        [f"a {probe}" for probe in PROBES],
        lambda c: [f"a {p}" for p in PROBES if not isinstance(c.spec.get(p), dict) or not c.spec[p]],
        lambda missing: "no " + " and no ".join(m.removeprefix("a ") for m in missing),
    )
    total = len(containers)
    return verdict(
        manifests,
        len(manifests.workloads),
        failures=found.failures,
        undecided=undecided,
        evidence=found.passing,
        fail_summary=lack_summary(found.lacking, total),
        pass_summary=f"every container has readiness and liveness probes ({count(total, 'container')})",
        containers=total,
        lacking={k.split()[-1]: v for k, v in found.lacking.items()},
    )
