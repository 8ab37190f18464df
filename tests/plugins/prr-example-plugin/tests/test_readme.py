"""The plugin's own tests, written with prr.testing as a plugin author writes theirs."""

import pytest
from prr_example_plugin.readme import readme

from prr.plugin import ConfigError, Evidence, Status
from prr.testing import run_check

CASES = [
    # (name, files, params, status, summary)
    ("no README", {"main.go": "package main\n"}, {}, Status.FAIL, "no README.md at the repo root"),
    ("too short", {"README.md": "# checkout\n"}, {}, Status.FAIL, "README.md has 1 lines, fewer than 3"),
    ("long enough", {"README.md": "# checkout\n\nTakes payments.\n"}, {}, Status.PASS, "README.md has 3 lines"),
    ("a lower bar", {"README.md": "# checkout\n"}, {"min_lines": 1}, Status.PASS, "README.md has 1 lines"),
]


@pytest.mark.parametrize("name, files, params, status, summary", CASES, ids=[c[0] for c in CASES])
def test_readme(name, files, params, status, summary):
    result = run_check(readme, files, params=params)
    assert (result.status, result.summary) == (status, summary)


def test_evidence_points_at_the_readme():
    result = run_check(readme, {"README.md": "# checkout\n"})
    assert result.evidence == [Evidence(path="README.md", line=1)]


def test_min_lines_must_be_positive():
    with pytest.raises(ConfigError, match="min_lines"):
        run_check(readme, {"README.md": "# checkout\n"}, params={"min_lines": 0})


def test_installed_under_its_id():
    assert run_check("example.readme", {"README.md": "# checkout\n\nTakes payments.\n"}).status == Status.PASS
