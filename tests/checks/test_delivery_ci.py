"""delivery.ci counts pipelines built from shared jobs named for tests, and says it judged them
by name (what a shared job runs is not in the repo)."""

from __future__ import annotations

import pytest

from tests.checks.cases import NOW
from tests.conftest import run_check

CIRCLECI_ORB = """\
version: 2.1
orbs:
  acme: acme/service-pipeline@1.4
  aws-ecr: circleci/aws-ecr@9.0
workflows:
  main:
    jobs:
      - acme/build-and-test:
          context: org-global
      - aws-ecr/build_and_push_image:
          requires: [acme/build-and-test]
"""
CIRCLECI_BUILD_ONLY = CIRCLECI_ORB.replace("acme/build-and-test", "acme/build")
GITHUB_REUSABLE = """\
name: ci
on: [push, pull_request]
jobs:
  test:
    uses: acme/workflows/.github/workflows/go-test.yml@v3
    secrets: inherit
  release:
    needs: test
    uses: acme/workflows/.github/workflows/release.yml@v3
"""
GITLAB_TEMPLATES = """\
include:
  - project: platform/ci-templates
    ref: v5
    file: /templates/python-test.gitlab-ci.yml
  - template: Jobs/SAST.gitlab-ci.yml
stages: [test, deploy]
"""
GITLAB_COMPONENT = """\
include:
  - component: gitlab.example.com/platform/components/pytest@2.1
    inputs: {python_version: "3.12"}
"""
GITLAB_BUILD_ONLY = "include:\n  - template: Jobs/Build.gitlab-ci.yml\n"

CASES = [
    # (name, files, status, summary fragment only that reason produces, evidence (path, line))
    (
        "circleci orb job",
        {".circleci/config.yml": CIRCLECI_ORB},
        "pass",
        "orb job acme/build-and-test of acme/service-pipeline@1.4 (judged by its name)",
        (".circleci/config.yml", 8),
    ),
    (
        "circleci orb jobs that only build",
        {".circleci/config.yml": CIRCLECI_BUILD_ONLY},
        "fail",
        "CI pipeline .circleci/config.yml runs no tests",
        (".circleci/config.yml", 1),
    ),
    (
        "github reusable workflow",
        {".github/workflows/ci.yml": GITHUB_REUSABLE},
        "pass",
        "reusable workflow acme/workflows/.github/workflows/go-test.yml@v3 (judged by its name)",
        (".github/workflows/ci.yml", 5),
    ),
    (
        "gitlab project template",
        {".gitlab-ci.yml": GITLAB_TEMPLATES},
        "pass",
        "included template /templates/python-test.gitlab-ci.yml (judged by its name)",
        (".gitlab-ci.yml", 2),
    ),
    (
        "gitlab component",
        {".gitlab-ci.yml": GITLAB_COMPONENT},
        "pass",
        "included template gitlab.example.com/platform/components/pytest@2.1 (judged by its name)",
        (".gitlab-ci.yml", 2),
    ),
    (
        "gitlab template that builds",
        {".gitlab-ci.yml": GITLAB_BUILD_ONLY},
        "fail",
        "CI pipeline .gitlab-ci.yml runs no tests",
        (".gitlab-ci.yml", 1),
    ),
]


@pytest.mark.parametrize("name, files, status, summary, where", CASES, ids=[c[0] for c in CASES])
def test_shared_jobs(make_repo, name, files, status, summary, where) -> None:
    result = run_check("delivery.ci", make_repo(files), now=NOW)
    assert (result.status.value, summary in result.summary) == (status, True), result.summary
    assert where in [(e.path, e.line) for e in result.evidence], result.evidence
