"""A fuzz run of the JSON API from its OpenAPI document (schemathesis, deterministic, time-bounded)
against the Flask app in-process: no input makes a 5xx, and what the API answers to input that fits
the document is what the document says (status, media type, body)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from prr.web import appstate
from tests.portal_fixtures import scanned_portal, token

OPENAPI = Path(__file__).resolve().parent.parent / "schemas" / "openapi.yaml"
EXAMPLES = 12  # per operation and mode
BUDGET_SECONDS = 60
CONFORMING = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# a rescan runs a real scan of a fleet repo: slow, and the same code path with or without fuzzing
SKIPPED = {"POST /api/v1/entities/{kind}/{namespace}/{name}/scans"}
CHECKS = {GenerationMode.POSITIVE: CONFORMING, GenerationMode.NEGATIVE: [not_a_server_error]}


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, dict[str, str]]]:
    built = scanned_portal(tmp_path_factory.mktemp("fuzz"))
    schema = schemathesis.openapi.from_dict(yaml.safe_load(OPENAPI.read_text()))
    schema.app = built.app
    yield schema, token(built.app, "root")
    appstate.shutdown(built.app)


def _run(operation: Any, mode: GenerationMode, headers: dict[str, str], failures: list[str]) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,  # the same cases every run
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any) -> None:
        try:
            case.call_and_validate(headers=headers, checks=CHECKS[mode])
        except (AssertionError, FailureGroup) as exc:  # collect every failing case, not just the first
            failures.append(f"{mode.value} {operation.label}: {exc}".strip()[:1500])

    try:
        fuzz()
    except Unsatisfiable:  # nothing to get wrong: an operation without parameters or body
        assert mode is GenerationMode.NEGATIVE


def test_fuzzing_the_api_finds_no_server_error_and_no_undocumented_answer(fuzzed):
    schema, headers = fuzzed
    failures: list[str] = []
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in SKIPPED:
            continue
        for mode in CHECKS:
            _run(operation, mode, headers, failures)
    assert time.monotonic() - started < BUDGET_SECONDS
    assert not failures, "\n\n".join(failures[:30])
