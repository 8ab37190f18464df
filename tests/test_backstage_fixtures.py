"""The Backstage plugin's test fixtures are scan reports of the current schema.

backstage-plugin/scripts/generate-fixtures.py writes them from `prr gate --format json`; when
the report schema changes, this fails until they are regenerated (and the plugin follows).
"""

import json
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "schemas" / "scan-report.schema.json").read_text())
FIXTURES = sorted((ROOT / "backstage-plugin" / "src" / "__fixtures__").glob("*.json"))


def load(name: str) -> dict:
    return json.loads((ROOT / "backstage-plugin" / "src" / "__fixtures__" / f"{name}.json").read_text())


@pytest.mark.parametrize("path", FIXTURES, ids=lambda path: path.name)
def test_fixture_is_a_valid_scan_report(path: Path) -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    validator.validate(json.loads(path.read_text()))


def test_fixtures_cover_what_the_plugin_shows() -> None:
    assert {path.stem for path in FIXTURES} == {"ready-gold", "not-ready", "failing", "warnings"}
    gold = load("ready-gold")
    assert gold["ready"] and gold["level"] == "gold"
    not_ready = load("not-ready")
    assert not not_ready["ready"] and not_ready["next_steps"]
    assert "error" in {check["status"] for check in not_ready["checks"]}
    failing = load("failing")
    assert not failing["ready"] and failing["level"] is None
    assert "fail" in {check["status"] for check in failing["checks"]}
    warnings = load("warnings")
    assert {"warn", "not_applicable"} <= {check["status"] for check in warnings["checks"]}
