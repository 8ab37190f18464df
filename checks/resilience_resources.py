"""resilience.resources: every container requests CPU and memory and caps its memory."""

from __future__ import annotations

from prr.checks.formats.kubernetes import (
    Container,
    all_containers,
    count,
    judge_containers,
    lack_summary,
    manifests_for,
    verdict,
)
from prr.checks.formats.yamlfile import get
from prr.plugin import CheckContext, Result, check

EXAMPLE = """\
spec:
  template:
    spec:
      containers:
        - name: checkout
          image: registry.example.com/checkout:1.4.2
          resources:
            requests: {cpu: 250m, memory: 256Mi}
            limits: {memory: 512Mi}"""
NEEDS = {
    "a CPU request": ("requests", "cpu"),
    "a memory request": ("requests", "memory"),
    "a memory limit": ("limits", "memory"),
}


@check(
    id="resilience.resources",
    title="Containers set resource requests and a memory limit",
    category="resilience",
    description="Every container (init containers aside) of every production Deployment, "
    "StatefulSet, DaemonSet and Argo Rollout sets CPU and memory requests and a memory limit. "
    "A limit without a request counts as the request, as Kubernetes applies it.",
    remediation="Set `resources.requests.cpu`, `resources.requests.memory` and "
    f"`resources.limits.memory` on each container:\n\n```yaml\n{EXAMPLE}\n```\n\n"
    "See https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/",
    docs_url="https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/",
    reads=("**/*.yaml", "**/*.yml"),
)
def resilience_resources(ctx: CheckContext) -> Result:
    manifests = manifests_for(ctx.repo, ctx.config)
    containers, undecided = all_containers(manifests)
    found = judge_containers(
        containers,
        NEEDS,
        lambda c: [what for what, (section, resource) in NEEDS.items() if not _set(c, section, resource)],
        lambda missing: "no " + ", no ".join(m.removeprefix("a ") for m in missing),
    )
    total = len(containers)
    return verdict(
        manifests,
        len(manifests.workloads),
        failures=found.failures,
        undecided=undecided,
        evidence=found.passing,
        fail_summary=lack_summary(found.lacking, total),
        pass_summary=f"every container sets CPU/memory requests and a memory limit ({count(total, 'container')})",
        containers=total,
        lacking=found.lacking,
    )


def _set(container: Container, section: str, resource: str) -> bool:
    """Whether the container sets ``resources.<section>.<resource>``; a request defaults to the limit."""
    resources = container.spec.get("resources")
    value = get(resources, section, resource)
    if section == "requests" and value in (None, ""):
        value = get(resources, "limits", resource)
    return value not in (None, "")
