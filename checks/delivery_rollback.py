"""delivery.rollback: a rollback path is documented in a runbook or automated."""

from __future__ import annotations

import re

from prr.checks.formats.ci import find_pipelines
from prr.checks.formats.files import all_yaml, non_production_dirs
from prr.checks.formats.kubernetes import manifests_for
from prr.checks.formats.markdown import RUNBOOK_GLOBS, Heading, MarkdownDoc, find_runbooks
from prr.checks.formats.yamlfile import YMap, get
from prr.plugin import CheckContext, Evidence, Result, check, failed, passed
from prr.repo import FileReadError

ROLLBACK_HEADING = re.compile(r"\broll(?:ing|ed)?[\s-]?backs?\b|\brevert(?:ing)?\b", re.I)
ROLLBACK_NAME = re.compile(r"roll[\s_-]?back|revert", re.I)
# A command that undoes a release: `helm rollback`, `argocd app rollback`, `kubectl rollout undo`,
# `kubectl argo rollouts undo|abort`, `git revert`, a deploy tool's rollback or traffic shift back.
ROLLBACK_COMMAND = re.compile(
    r"roll[\s_:-]?back|rollouts?\s+(?:undo|abort)|\bundo\b|\brevert\b|update-traffic|--to-revisions?\b", re.I
)
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
    description="A bad release can be undone: a section of the runbook (the file runbook.present "
    "finds) whose heading mentions rollback, roll back or revert and says how, or an automated "
    "path: an Argo Rollouts `Rollout`, a Flagger `Canary`, or a CI workflow made for rolling back. "
    "A section says how when it holds a rollback command (a code span or block: `helm rollback`, "
    "`argocd app rollback`, `kubectl rollout undo`, `kubectl argo rollouts undo`, a deploy tool's "
    "rollback), numbered steps or a link to the procedure or automation, at any length; or else "
    "`min_words` words of prose. A heading with nothing actionable or placeholder text (TODO, "
    'TBD, "coming soon") is not a procedure.',
    remediation="Document the rollback in the runbook (the file runbook.present names, or "
    "`RUNBOOK.md`):\n\n"
    f"```markdown\n{EXAMPLE}\n```\n\nOr automate it with progressive delivery (Argo Rollouts or "
    "Flagger abort and roll back a canary whose analysis fails).",
    docs_url="https://argoproj.github.io/argo-rollouts/",
    params={
        "properties": {
            "min_words": {
                "type": "integer",
                "minimum": 1,
                "default": 15,
                "description": "Words of prose a rollback section with no command, numbered steps "
                "or link needs (placeholder text such as 'TBD' is not counted).",
            }
        }
    },
    reads=RUNBOOK_GLOBS + ("Kubernetes manifests", "CI workflows"),
)
def delivery_rollback(ctx: CheckContext) -> Result:
    automated = _controllers(ctx) + _rollback_workflows(ctx)
    documented: list[Evidence] = []
    thin: list[Evidence] = []
    runbooks = find_runbooks(ctx.repo, non_production_dirs(ctx.config))
    for doc in runbooks.docs:
        for heading in doc.headings_matching(ROLLBACK_HEADING):
            how = _procedure(doc, heading, ctx.params["min_words"])
            target = documented if how else thin
            target.append(
                Evidence(path=doc.path, line=heading.line, value=f"{heading.text}: {how or _why_thin(doc, heading)}")
            )
    found = documented + automated
    if found:
        what = " and ".join(w for w, ok in (("documented", documented), ("automated", automated)) if ok)
        return passed(f"rollback {what}: {found[0].value} ({found[0].path}:{found[0].line})", found)
    if thin:
        return failed(
            f"the rollback section {thin[0].path}:{thin[0].line} does not say how to roll back "
            f"({thin[0].value}): give the command, numbered steps or a link to the procedure",
            thin,
        )
    main = runbooks.main()
    if main is not None:
        last = main.headings[-1].line if main.headings else 1
        return failed(
            f"no rollback path: {main.path} has no section about rollback, and there is no Argo Rollout "
            f"or Flagger Canary; add a '## Rollback' section to {main.path}",
            [Evidence(path=main.path, line=last, value="add a '## Rollback' section")],
        )
    return failed(
        "no rollback path: no runbook section about rollback, no Argo Rollout or Flagger Canary",
        [Evidence(value="add RUNBOOK.md with a '## Rollback' section")],
    )


def _procedure(doc: MarkdownDoc, heading: Heading, min_words: int) -> str | None:
    """How a rollback section says to roll back, or None when it does not."""
    section = doc.section(heading)
    command = next((c for h in section for c in h.commands if ROLLBACK_COMMAND.search(c)), None)
    if command:
        return f"command `{command.splitlines()[0].strip()}`"
    steps = sum(h.steps for h in section)
    if steps >= 2:
        return f"{steps} numbered steps"
    link = next((link for h in section for link in h.links), None)
    if link:
        return f"link to {link}"
    words = sum(h.words for h in section)
    return f"{words} words of steps" if words >= min_words else None


def _why_thin(doc: MarkdownDoc, heading: Heading) -> str:
    section = doc.section(heading)
    if any(h.placeholder for h in section):
        return "placeholder text only"
    words = sum(h.words for h in section)
    return f"{words} words, no rollback command, numbered steps or link"


def _controllers(ctx: CheckContext) -> list[Evidence]:
    manifests = manifests_for(ctx.repo, ctx.config)
    found = [
        Evidence(path=w.path, line=w.line, value=f"Argo Rollouts {w.ref}")
        for w in manifests.workloads
        if w.kind == "Rollout"
    ]
    for path, docs in all_yaml(ctx.repo, dirs=non_production_dirs(ctx.config)).documents.items():
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
        for p in find_pipelines(ctx.repo, non_production_dirs(ctx.config))
        if ROLLBACK_NAME.search(p.path.rsplit("/", 1)[-1])
    ]
