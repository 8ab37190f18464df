"""runbook.present: a real runbook is kept in the repo (an external link alone is a warning)."""

from __future__ import annotations

from prr.checks.formats.files import non_production_dirs
from prr.checks.formats.markdown import RUNBOOK_GLOBS, RUNBOOK_MIN_WORDS, MarkdownDoc, find_runbooks
from prr.plugin import CheckContext, Evidence, Result, check, errored, failed, passed, warned

DOCS_URL = "https://sre.google/workbook/on-call/"
EXAMPLE = """\
# Checkout runbook

## What it is
Checkout turns a cart into an order. It calls payments-api and writes to the
`orders` Postgres database. Owner: team-payments (#payments-oncall).

## Alerts
### CheckoutHighErrorRate
Users see failed checkouts. Check the Checkout dashboard for the failing
route, then payments-api health. If payments-api is down, page its on-call.

## Rollback
Undo the last release: `kubectl argo rollouts undo checkout -n shop`,
then watch the error rate return under 1% within 10 minutes."""


@check(
    id="runbook.present",
    title="Service has a runbook",
    category="runbook",
    description="A real runbook is kept in the repo: `RUNBOOK.md`, `runbooks/**.md`, "
    "`docs/runbook*`, a Markdown file an alert's `runbook_url` points to, or one a catalog link "
    "titled or typed runbook points to. It is judged by substance, not length: a concrete command "
    "(in a code span or block), numbered steps or a link to a procedure makes it a runbook at any "
    "length; without any, it needs at least `min_words` words of body under more than one heading. "
    'A stub (a heading and a sentence, or placeholder text such as TODO, TBD, "coming soon") is '
    "not a runbook, and is named so its owner can expand that file. HTML comments such as a "
    "licence header, and front matter, are not counted. A runbook only linked outside the repo "
    "is a warning.",
    remediation="Write the runbook (expand the stub the check names, or add `RUNBOOK.md` at the "
    "repo root) with what on-call needs at 3 a.m.: what the service is, what each alert means and "
    "what to do, how to roll back:\n\n"
    f"```markdown\n{EXAMPLE}\n```\n\nKeeping it in the repo lets alerts link to its headings "
    "(`runbook_url: RUNBOOK.md#checkouthigherrorrate`) and keeps it reviewed with the code.",
    docs_url=DOCS_URL,
    params={
        "properties": {
            "min_words": {
                "type": "integer",
                "minimum": 1,
                "default": RUNBOOK_MIN_WORDS,
                "description": "Words of body text a runbook with nothing actionable (no command, "
                "numbered steps or link) needs to count as more than a stub.",
            }
        }
    },
    reads=RUNBOOK_GLOBS + ("alert rules' runbook_url", "catalog-info.yaml links"),
)
def runbook_present(ctx: CheckContext) -> Result:
    min_words = ctx.params["min_words"]
    runbooks = find_runbooks(ctx.repo, non_production_dirs(ctx.config))
    real = runbooks.real(min_words)
    if real:
        return passed(
            f"runbook {real[0].path} ({real[0].describe()})" + (f" and {len(real) - 1} more" if len(real) > 1 else ""),
            [_evidence(d, f"{d.describe()}, {runbooks.why[d.path]}") for d in real],
            runbook=real[0].path,
            runbooks=[d.path for d in real],
        )
    stubs = [_evidence(d, f"stub: {d.describe()}") for d in runbooks.docs]
    stub = runbooks.main(min_words)
    if runbooks.external:
        link = runbooks.external[0]
        stub_note = f"; {stub.path} is only a stub: expand it" if stub else ""
        return warned(
            f"external only: the runbook is {link.url} (linked from {link.path}); none is kept in the repo{stub_note}",
            [Evidence(path=l.path, line=l.line, url=l.url) for l in runbooks.external] + stubs,
        )
    problems = runbooks.unreadable + runbooks.link_errors
    if problems:
        return errored(f"cannot tell whether there is a runbook: {problems[0]}", [e.evidence() for e in problems])
    if stub is not None:
        return failed(
            f"{stub.path} is a stub ({stub.describe()}): expand {stub.path} with a command, numbered "
            f"steps or a link to the procedure for each alert, or {min_words} words under more than one heading",
            stubs,
            runbook=stub.path,
        )
    return failed(
        "no runbook: none at RUNBOOK.md, runbooks/, docs/runbook*, nor linked from an "
        "alert's runbook_url or a catalog-info link",
        [Evidence(value="add RUNBOOK.md at the repo root")],
    )


def _evidence(doc: MarkdownDoc, value: str) -> Evidence:
    return Evidence(path=doc.path, line=doc.headings[0].line if doc.headings else 1, value=value)
