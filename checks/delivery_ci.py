"""delivery.ci: a CI pipeline exists and runs the tests."""

from __future__ import annotations

from prr.checks.formats.ci import CI_GLOBS, find_pipelines
from prr.checks.formats.files import non_production_dirs
from prr.plugin import CheckContext, Evidence, Result, check, errored, failed, passed

EXAMPLE = """\
# .github/workflows/ci.yml
name: ci
on: [push, pull_request]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-go@v5
        with: {go-version-file: go.mod}
      - run: go test ./..."""


@check(
    id="delivery.ci",
    title="CI runs the tests",
    category="delivery",
    description="A CI pipeline is kept in the repo (GitHub Actions, GitLab CI, Jenkinsfile, CircleCI, "
    "Travis CI, Azure Pipelines, Buildkite, Drone, Bitbucket Pipelines, Tekton) and one of its "
    "steps runs a test command (pytest, go test, npm test, mvn verify, gradle test, cargo test, "
    "make test, tox, ...), directly or through a Makefile target or a package.json script, or uses "
    "a shared job named for tests (a GitHub reusable workflow such as "
    "`org/repo/.github/workflows/test.yml@v1`, a CircleCI orb job such as `org/build-and-test`, a "
    "GitLab `include:` template or component, a Tekton task): what a shared job runs is not in "
    "the repo, so it is judged by its name and the evidence says so.",
    remediation="Run the tests on every change. For GitHub Actions:\n\n"
    f"```yaml\n{EXAMPLE}\n```\n\nUse your stack's test command (`pytest`, `npm test`, "
    "`./mvnw verify`...); with a Makefile, `make test` works too.",
    docs_url="https://docs.github.com/en/actions/automating-builds-and-tests/about-continuous-integration",
    reads=CI_GLOBS,
)
def delivery_ci(ctx: CheckContext) -> Result:
    pipelines = find_pipelines(ctx.repo, non_production_dirs(ctx.config))
    testing = [p for p in pipelines if p.tests]
    if testing:
        steps = [t for p in testing for t in p.tests]
        first = steps[0]
        return passed(
            f"{testing[0].system} runs tests: `{first.command}` ({first.path}:{first.line})",
            [Evidence(path=t.path, line=t.line, value=t.command) for t in steps],
        )
    broken = [p.error for p in pipelines if p.error is not None]
    if broken:
        return errored(f"cannot read the CI pipeline: {broken[0]}", [e.evidence() for e in broken])
    if not pipelines:
        return failed(
            "no CI pipeline in the repo", [Evidence(value="add .github/workflows/ci.yml (or your CI system's file)")]
        )
    names = ", ".join(p.path for p in pipelines)
    return failed(
        f"CI pipeline {names} runs no tests (no step runs pytest, go test, npm test, mvn verify, ...)",
        [Evidence(path=p.path, line=p.line, value=f"{p.system}: no test step") for p in pipelines],
    )
