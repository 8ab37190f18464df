"""docs/checks.md is generated from the check metadata and must not drift from it."""

import json
from pathlib import Path

from click.testing import CliRunner

from prr.checkdocs import checks_markdown
from prr.cli import main
from prr.plugin import load_registry
from prr.scorecard import load_scorecard

DOCS = Path(__file__).parent.parent / "docs" / "checks.md"


def test_checks_page_is_up_to_date() -> None:
    assert DOCS.read_text() == checks_markdown(load_registry()), "run `make docs` to regenerate docs/checks.md"


def test_every_shipped_check_is_documented_with_remediation_and_a_docs_link() -> None:
    registry = load_registry()
    for entry in load_scorecard("production-readiness", registry).checks:
        check = registry.get(entry.id)
        assert check.remediation and check.description, check.id
        assert check.docs_url and check.docs_url.startswith("https://"), check.id
        assert f"## {check.id}" in DOCS.read_text()


def test_checks_as_json_fill_the_remediation_examples_date():
    listed = json.loads(CliRunner().invoke(main, ["checks", "--format", "json"]).stdout)
    dated = [c for c in listed if "date: " in c["remediation"]]
    assert dated and all("{today}" not in c["remediation"] for c in listed)
