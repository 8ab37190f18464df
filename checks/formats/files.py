"""Reading and parsing repo files once per process, with errors kept beside the results."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from prr.checks.formats.yamlfile import FormatError, load_documents, load_templated, looks_templated
from prr.plugin import Result, holds_until
from prr.repo import BUDGET_SPENT, MISSING_CONTENT, FileReadError, RepoSnapshot

# Folders whose manifests, specs and rules are examples, not the service's own; the portal config
# sets its own list as `scan.non_production_dirs`.
NON_PRODUCTION_DIRS = (
    "examples",
    "example",
    "docs",
    "test",
    "tests",
    "testdata",
    "fixtures",
    "e2e",
    "hack",
    "node_modules",
    "vendor",
    "third_party",
)
YAML_PATTERNS = ("**/*.yaml", "**/*.yml")
# Where templated configs and rule files are kept: Go/Helm, Jinja, Terraform templates.
TEMPLATE_PATTERNS = ("**/*.tpl", "**/*.tmpl", "**/*.j2", "**/*.gotmpl")
JSONNET_PATTERNS = ("**/*.jsonnet", "**/*.libsonnet")


@dataclass
class Parsed:
    """The documents of every YAML file of a repo that parsed, and the errors of those that didn't."""

    documents: dict[str, list[Any]] = field(default_factory=dict)
    errors: dict[str, FormatError] = field(default_factory=dict)
    templated: set[str] = field(default_factory=set)  # read with their placeholders set aside


def read_yaml(repo: RepoSnapshot, path: str) -> list[Any]:
    """The documents of one YAML file, cached. Raises FormatError (unreadable files included)."""
    key = ("yaml", path)
    if key not in repo.cache:
        try:
            repo.cache[key] = load_documents(repo.read_text(path), path)
        except FileReadError as exc:
            repo.cache[key] = FormatError(path, None, exc.message)
        except FormatError as exc:
            repo.cache[key] = exc
    value = repo.cache[key]
    if isinstance(value, FormatError):
        raise value
    return value


def unreadable(result: Result, errors: Iterable[FormatError]) -> Result:
    """``result``, a check's error about ``errors`` (files that do not parse or cannot be read),
    said to hold while the commit and the scan's inputs are unchanged (see
    :func:`prr.plugin.holds_until`): those files will read no differently. Unless a file could not
    be read for a reason the next scan may not share (content missing from the object store, the
    read budget spent): then the check runs again at the next scan."""
    if any(e.message in (MISSING_CONTENT, BUDGET_SPENT) for e in errors):
        return result
    return holds_until(result, None)


def non_production_dirs(config: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The folders that are not the service's: the portal config's `scan.non_production_dirs`,
    else :data:`NON_PRODUCTION_DIRS`."""
    dirs = ((config or {}).get("scan") or {}).get("non_production_dirs")
    return tuple(dirs) if dirs is not None else NON_PRODUCTION_DIRS


def set_aside(paths: Iterable[str], what: str, dirs: tuple[str, ...]) -> str:
    """What a check found only in non-production folders, said so: "57 SLO spec(s) under
    examples/ not counted: non-production folder; configure `scan.non_production_dirs`"."""
    folders: dict[str, int] = {}
    for path in dict.fromkeys(paths):
        parts = path.split("/")[:-1]
        top = next((p for p in parts if p in dirs or (p.startswith(".") and p != ".github")), None)
        if top is not None:
            folder = "/".join(parts[: parts.index(top) + 1]) + "/"
            folders[folder] = folders.get(folder, 0) + 1
    if not folders:
        return ""
    where = ", ".join(folders)
    count = sum(folders.values())
    return (
        f"{count} {what} under {where} not counted: non-production folder"
        f"{'s' if len(folders) > 1 else ''}; configure `scan.non_production_dirs`"
    )


def all_yaml(
    repo: RepoSnapshot, include_non_production: bool = False, dirs: tuple[str, ...] = NON_PRODUCTION_DIRS
) -> Parsed:
    """Every YAML file in the repo, parsed (outside the non-production ``dirs`` unless asked)."""
    parsed = Parsed()
    for path in repo.glob(*YAML_PATTERNS):
        if not include_non_production and is_non_production(path, dirs):
            continue
        try:
            parsed.documents[path] = read_yaml(repo, path)
        except FormatError as exc:
            parsed.errors[path] = exc
    return parsed


def with_templates(repo: RepoSnapshot, dirs: tuple[str, ...] = NON_PRODUCTION_DIRS) -> Parsed:
    """:func:`all_yaml` plus templated files, for the configs and rules teams template: ``*.tpl``,
    ``*.tmpl``, ``*.j2``, ``*.gotmpl`` files and templated YAML (Helm, Terraform) are read with
    their placeholders set aside; one that still does not parse, and jsonnet (not rendered
    here), are errors. Which errors matter is the caller's to judge (by what the file holds)."""
    key = ("yaml.with_templates", dirs)
    if key in repo.cache:
        cached: Parsed = repo.cache[key]
        return cached
    plain = all_yaml(repo, dirs=dirs)
    parsed = Parsed(dict(plain.documents), {})
    candidates = [p for p in plain.errors if looks_templated(_text(repo, p))]
    candidates += [p for p in repo.glob(*TEMPLATE_PATTERNS) if not is_non_production(p, dirs)]
    for path, error in plain.errors.items():
        if path not in candidates:
            parsed.errors[path] = error
    for path in dict.fromkeys(candidates):
        try:
            parsed.documents[path] = load_templated(repo.read_text(path), path)
            parsed.templated.add(path)
        except FileReadError as exc:
            parsed.errors[path] = FormatError(path, None, exc.message)
        except FormatError as exc:
            parsed.errors[path] = exc
    for path in repo.glob(*JSONNET_PATTERNS):
        if not is_non_production(path, dirs):
            parsed.errors[path] = FormatError(
                path,
                None,
                "jsonnet is not rendered here: commit the rendered YAML (jsonnet -J vendor ... | gojsontoyaml)",
            )
    repo.cache[key] = parsed
    return parsed


def _text(repo: RepoSnapshot, path: str) -> str:
    try:
        return repo.read_text(path)
    except FileReadError:
        return ""


def is_non_production(path: str, dirs: Iterable[str] | None = None) -> bool:
    """Under an example/test folder (``dirs``, default :data:`NON_PRODUCTION_DIRS`) or a hidden one."""
    excluded = NON_PRODUCTION_DIRS if dirs is None else tuple(dirs)
    parts = path.split("/")[:-1]
    return any(p in excluded or (p.startswith(".") and p != ".github") for p in parts)


def first_existing(repo: RepoSnapshot, *paths: str) -> str | None:
    return next((p for p in paths if repo.exists(p)), None)
