"""Scorecards are validated at load: a broken one is refused naming file, line, path and problem."""

from __future__ import annotations

import pytest

from prr.plugin import ConfigError, load_registry
from prr.scorecard import load_scorecard

GOOD = """\
apiVersion: prr/v1
kind: Scorecard
id: mini
levels: [bronze, silver]
tiers:
  "0": {required_level: silver}
  "1": {required_level: bronze}
default_tier: "1"
checks:
  - {id: ownership.catalog, level: bronze, weight: 3, blocking: true}
  - id: ownership.tier
    level: silver
    tiers: ["0"]
"""


def test_shipped_scorecard_loads_with_every_check_installed() -> None:
    card = load_scorecard("production-readiness", load_registry())
    assert card.levels == ("bronze", "silver", "gold")
    assert card.required_levels == {"0": "gold", "1": "silver", "2": "bronze"}
    dr = next(c for c in card.checks if c.id == "dr.tested")
    assert dr.params_for("0") == {"max_age_days": 180} and not dr.applies_to("2")


def test_good_scorecard(tmp_path) -> None:
    (tmp_path / "s.yaml").write_text(GOOD)
    card = load_scorecard(str(tmp_path / "s.yaml"), load_registry())
    assert [c.id for c in card.checks] == ["ownership.catalog", "ownership.tier"]
    assert card.checks[0].blocking and card.checks[1].tiers == ("0",)


@pytest.mark.parametrize(
    "broken, expected",
    [
        (GOOD.replace("levels: [bronze, silver]", "levels: bronze"), ["s.yaml:4", "at levels", "not of type 'array'"]),
        (
            GOOD.replace("level: silver\n", "level: platinum\n"),
            ["s.yaml:12", "checks/1/level", "'platinum' is not one of"],
        ),
        (GOOD.replace("ownership.tier", "nope.missing"), ["s.yaml:11", "checks/1", "'nope.missing' is not installed"]),
        (GOOD.replace("required_level: silver", "required_level: gold"), ["tiers/0/required_level", "'gold'"]),
        (GOOD.replace('tiers: ["0"]', 'tiers: ["7"]'), ["checks/1", "tier '7' is not defined"]),
        (GOOD.replace("weight: 3", "weight: -1"), ["checks/0/weight", "-1"]),
        (GOOD + "  - {id: ownership.catalog, level: bronze}\n", ["checks/2/id", "listed twice"]),
        (GOOD.replace("kind: Scorecard", "kind: [oops"), ["s.yaml:3", "invalid YAML"]),
    ],
)
def test_broken_scorecards_are_refused_clearly(tmp_path, broken, expected) -> None:
    (tmp_path / "s.yaml").write_text(broken)
    with pytest.raises(ConfigError) as info:
        load_scorecard(str(tmp_path / "s.yaml"), load_registry())
    for fragment in expected:
        assert fragment in str(info.value)


def test_unknown_shipped_scorecard() -> None:
    with pytest.raises(ConfigError, match="no shipped scorecard 'nope'"):
        load_scorecard("nope")
