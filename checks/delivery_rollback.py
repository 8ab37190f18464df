"""delivery.rollback: a rollback path is documented in a runbook or automated."""

from __future__ import annotations

import re

from prr.checks.formats.ci import find_pipelines
from prr.checks.formats.files import all_yaml
from prr.checks.formats.kubernetes import manifests_for
from prr.checks.formats.markdown import RUNBOOK_GLOBS, find_runbooks
from prr.checks.formats.yamlfile import YMap, get
from prr.plugin import CheckContext, Evidence, Result, check, failed, passed
from prr.repo import FileReadError

ROLLBACK_HEADING = re.compile(r"\broll(?:ing|ed)?[\s-]?backs?\b|\brevert(?:ing)?\b", re.I)
ROLLBACK_NAME = re.compile(r"roll[\s_-]?back|revert", re.I)
# In templates Helm could not render, the kind of a progressive delivery object is still literal.
TEMPLATE_KIND = re.compile(r"^\s*kind:\s*[\"']?(Rollout|Canary)[\"']?\s*$", re.M)
TEMPLATE_API = {"Rollout": ("argoproj.io/", "Argo Rollouts"), "Canary": ("flagger.app/", "Flagger")}
EXAMPLE = """\
## Rollback

1. Find the last good release: `helm history checkout -n shop`.
2. Roll back to it: `helm rollback checkout <REVISION> -n shop --wait`.
3. Confirm the error rate on the Checkout dashboard is back under 1%.
4. Post in #incidents which release was rolled back and why."""


@check(
    id="delivery.rollback",
    title="Rollback path exists",
    category="delivery",
    description="A bad release can be undone: a runbook section whose heading mentions rollback, "
    "roll back or revert (with at least `min_words` words of steps), or an automated path: an Argo "
    "Rollouts `Rollout`, a Flagger `Canary`, or a CI workflow made for rolling back.",
    remediation="Document the rollback in the runbook (`RUNBOOK.md`):\n\n"
    f"```markdown\n{EXAMPLE}\n```\n\nOr automate it with progressive delivery (Argo Rollouts or "
    "Flagger abort and roll back a canary whose analysis fails).",
    docs_url="https://argoproj.github.io/argo-rollouts/",
    params={
        "properties": {
            "min_words": {
                "type": "integer",
                "minimum": 1,
                "default": 15,
                "description": "Words of steps a rollback section needs (a heading with 'TBD' is not a procedure).",
            }
        }
    },
    reads=RUNBOOK_GLOBS + ("Kubernetes manifests", "CI workflows"),
)
def delivery_rollback(ctx: CheckContext) -> Result:
    automated = _controllers(ctx) + _rollback_workflows(ctx)
    documented, thin = [], []
    runbooks = find_runbooks(ctx.repo).docs
    for doc in runbooks:
        for heading in doc.headings_matching(ROLLBACK_HEADING):
            words = doc.section_words(heading)
            target = documented if words >= ctx.params["min_words"] else thin
            target.append(Evidence(path=doc.path, line=heading.line, value=f"{heading.text} ({words} words)"))
    found = documented + automated
    if found:
        what = " and ".join(w for w, ok in (("documented", documented), ("automated", automated)) if ok)
        return passed(f"rollback {what}: {found[0].value} ({found[0].path}:{found[0].line})", found)
    if thin:
        return failed(
            f"the rollback section {thin[0].path}:{thin[0].line} has too few steps "
            f"({thin[0].value}; needs {ctx.params['min_words']} words)",
            thin,
        )
    if runbooks:
        last = runbooks[0].headings[-1].line if runbooks[0].headings else 1
        where = Evidence(path=runbooks[0].path, line=last, value="add a '## Rollback' section")
    else:
        where = Evidence(value="add RUNBOOK.md with a '## Rollback' section")
    return failed("no rollback path: no runbook section about rollback, no Argo Rollout or Flagger Canary", [where])


def _controllers(ctx: CheckContext) -> list[Evidence]:
    manifests = manifests_for(ctx.repo, ctx.config)
    found = [
        Evidence(path=w.path, line=w.line, value=f"Argo Rollouts {w.ref}")
        for w in manifests.workloads
        if w.kind == "Rollout"
    ]
    for path, docs in all_yaml(ctx.repo).documents.items():
        found += [
            Evidence(path=path, line=doc.line, value=f"Flagger Canary/{get(doc, 'metadata', 'name')}")
            for doc in docs
            if isinstance(doc, YMap)
            and doc.get("kind") == "Canary"
            and str(doc.get("apiVersion", "")).startswith("flagger.app/")
        ]
    # Helm templates and other files that are not plain YAML.
    charts = [chart.path + "/templates/**" if chart.path else "templates/**" for chart in manifests.unrendered_charts]
    unread = [e.path for e in manifests.errors] + (ctx.repo.glob(*charts) if charts else [])
    for path in dict.fromkeys(unread):
        try:
            text = ctx.repo.read_text(path)
        except FileReadError:  # unreadable files are the resilience checks' to report
            continue
        match = TEMPLATE_KIND.search(text)
        if match and TEMPLATE_API[match[1]][0] in text:
            found.append(
                Evidence(
                    path=path,
                    line=text[: match.start()].count("\n") + 1,
                    value=f"{TEMPLATE_API[match[1]][1]} {match[1]} (template)",
                )
            )
    return found


def _rollback_workflows(ctx: CheckContext) -> list[Evidence]:
    return [
        Evidence(path=p.path, line=1, value=f"{p.system} rollback pipeline")
        for p in find_pipelines(ctx.repo)
        if ROLLBACK_NAME.search(p.path.rsplit("/", 1)[-1])
    ]
