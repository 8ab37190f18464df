from prr.plugin import CheckContext, Evidence, Result, check, failed, passed


@check(
    id="example.readme",
    title="Repository has a README",
    category="documentation",
    description="A README.md at the repo root with at least `min_lines` lines.",
    remediation="Add a README.md that says what the service does and how to run it.",
    params={"properties": {"min_lines": {"type": "integer", "minimum": 1, "default": 3}}},
)
def readme(ctx: CheckContext) -> Result:
    if not ctx.repo.exists("README.md"):
        return failed("no README.md at the repo root")
    lines = ctx.repo.read_text("README.md").count("\n")
    if lines < ctx.params["min_lines"]:
        return failed(
            f"README.md has {lines} lines, fewer than {ctx.params['min_lines']}", [Evidence(path="README.md", line=1)]
        )
    return passed(f"README.md has {lines} lines", [Evidence(path="README.md", line=1)])
