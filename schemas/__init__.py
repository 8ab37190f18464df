"""The JSON Schemas beside this module (the formats PRR Portal reads and emits), and validation
that names the file and the path inside it."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource

from prr.checks.formats.yamlfile import line_at
from prr.plugin import ConfigError

SCHEMA_DIR = Path(__file__).resolve().parent


@cache
def schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text())


@cache
def _registry() -> Registry:
    """Every schema by its ``$id``, so schemas can ``$ref`` each other by file name."""
    resources = []
    for path in SCHEMA_DIR.glob("*.schema.json"):
        doc = json.loads(path.read_text())
        resources.append((doc["$id"], Resource.from_contents(doc)))
    return Registry().with_resources(resources)


def problems(name: str, document: Any) -> list[tuple[str, int | None, str]]:
    """``(path inside the document, line, message)`` for every way ``document`` breaks the schema.

    The line is known when the document was loaded by :mod:`prr.checks.formats.yamlfile`.
    """
    validator = jsonschema.Draft202012Validator(
        schema(name), registry=_registry(), format_checker=jsonschema.FormatChecker()
    )
    found = []
    for error in sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))):
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        found.append((where, line_at(document, list(error.absolute_path)), _message(error)))
    return found


def _message(error: jsonschema.ValidationError) -> str:
    """jsonschema's message, with the bound said where it only says "too short" or "too long", and
    the schema's own hint (``x-error``) where it gives one."""
    hint = error.schema.get("x-error") if isinstance(error.schema, dict) else None
    if hint and error.validator in ("type", "additionalProperties"):
        return f"{error.message}: {hint}"
    if error.validator == "minLength":
        return f"{error.instance!r} is too short (at least {error.validator_value} characters)"
    if error.validator == "maxLength":
        return f"{error.instance!r} is too long (at most {error.validator_value} characters)"
    return error.message


def validate(name: str, document: Any, source: str) -> None:
    """Raise :class:`ConfigError` naming ``source``, the line and the path of the first problem."""
    found = problems(name, document)
    if found:
        where, line, message = found[0]
        more = f" (and {len(found) - 1} more problems)" if len(found) > 1 else ""
        at = f"{source}:{line}" if line else source
        raise ConfigError(f"{at}: at {where}: {message}{more}")
