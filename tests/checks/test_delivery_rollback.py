"""delivery.rollback judges a runbook's rollback section by substance, not by its word count."""

from __future__ import annotations

import pytest

from tests.checks.cases import NOW
from tests.conftest import run_check

RUNBOOK = """\
# Order service runbook

## What it is

Order service takes paid carts from Kafka and writes orders to Postgres. Owner: team-orders.

{section}"""

SECTIONS = [
    # (name, rollback section, status, summary fragment only that reason produces)
    (
        "one-line argocd command",
        "## Rollback\n\nRoll back with `argocd app rollback order-service` to the previous healthy revision.\n",
        "pass",
        "Rollback: command `argocd app rollback order-service`",
    ),
    (
        "helm in a code block",
        "## Rolling back\n\n```sh\nhelm rollback order-service 0 -n orders --wait\n```\n",
        "pass",
        "Rolling back: command `helm rollback order-service 0 -n orders --wait`",
    ),
    (
        "kubectl rollout undo",
        "## Rollback\n\n`kubectl rollout undo deploy/order-service -n orders`\n",
        "pass",
        "command `kubectl rollout undo deploy/order-service -n orders`",
    ),
    (
        "argo rollouts undo in a subsection",
        "## Rollback\n\n### Canary\n\nAbort first: `kubectl argo rollouts undo order-service -n orders`.\n",
        "pass",
        "command `kubectl argo rollouts undo order-service -n orders`",
    ),
    (
        "numbered steps",
        "## Revert a release\n\n1. Find the last good tag on the Deployments page.\n2. Re-run its deploy job.\n"
        "3. Watch the error rate.\n",
        "pass",
        "Revert a release: 3 numbered steps",
    ),
    (
        "link to the automation",
        "## Rollback\n\nUse the [rollback workflow](../.github/workflows/rollback.yml).\n",
        "pass",
        "Rollback: link to ../.github/workflows/rollback.yml",
    ),
    (
        "long prose",
        "## Rollback\n\nRedeploy the previous image tag from the deploy pipeline: pick the last green build, "
        "press deploy, and watch the order rate come back on the dashboard.\n",
        "pass",
        "Rollback: 26 words of steps",
    ),
    ("TBD", "## Rollback\n\nTBD\n", "fail", "(Rollback: placeholder text only)"),
    ("fill me in", "## Rollback\n\nTODO: fill me in after the first release.\n", "fail", "placeholder text only"),
    ("coming soon", "## Rollback procedure\n\nComing soon.\n", "fail", "(Rollback procedure: placeholder text only)"),
    (
        "a sentence with nothing actionable",
        "## Rollback\n\nWe roll back when needed.\n",
        "fail",
        "(Rollback: 5 words, no rollback command, numbered steps or link)",
    ),
    (
        "a command that does not roll back",
        "## Rollback\n\nCheck `kubectl get pods -n orders` first.\n",
        "fail",
        "no rollback command, numbered steps or link",
    ),
    ("heading only", "## Rollback\n", "fail", "(Rollback: 0 words, no rollback command"),
]


@pytest.mark.parametrize("name, section, status, summary", SECTIONS, ids=[c[0] for c in SECTIONS])
def test_rollback_section(make_repo, name, section, status, summary) -> None:
    result = run_check("delivery.rollback", make_repo({"RUNBOOK.md": RUNBOOK.format(section=section)}), now=NOW)
    assert (result.status.value, summary in result.summary) == (status, True), result.summary
