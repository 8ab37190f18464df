"""A read-only view of one file of a service's repo at a scanned commit, where evidence links go
when the repo has no web UI of its own (a local path, a self-hosted git server).

It is not a file browser: a file is shown only when a stored check result of that service, at a
scan of that commit, cites it as evidence (``path``). The file is read from the git object store
at that commit with the repository's config neutralised (:class:`prr.repo.RepoSnapshot`): never a
working tree, never a hook or filter, symlinks followed only within the repository, at most
:data:`MAX_SHOWN_BYTES`. A git URL is read from its mirror in the portal's cache, never fetched.
Who may read it: whoever may read the service's page (the app-wide ``auth.public_reads`` gate).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, abort, render_template, url_for
from sqlmodel import Session, col, select
from werkzeug.exceptions import HTTPException

from prr.context import ReadContext
from prr.fleet import entry_scanned_as
from prr.refs import join_ref, split_ref
from prr.repo import FileReadError, Limits, RepoError, RepoSnapshot, is_url, redact_url, stored_git_dir
from prr.storage.models import CheckResult, Scan, Service
from prr.web import appstate
from prr.web.auth import current_identity

bp = Blueprint("source", __name__)
MAX_SHOWN_BYTES = 1024 * 1024
_COMMIT = re.compile(r"[0-9a-f]{40}")


@dataclass
class Citation:
    """The newest scan of the service at the commit that cites the file, and what cites it."""

    scan_id: int
    repo: str  # as stored: a local path or a redacted URL
    checks: list[dict[str, Any]] = field(default_factory=list)  # {"check": id, "line": int | None}

    @property
    def lines(self) -> set[int]:
        return {c["line"] for c in self.checks if c["line"]}

    @property
    def lines_by_check(self) -> dict[str, list[int]]:
        """The cited lines, in order, of each check citing the file (none: the file as a whole)."""
        found: dict[str, list[int]] = {}
        for c in self.checks:
            found.setdefault(c["check"], [])
            if c["line"] and c["line"] not in found[c["check"]]:
                found[c["check"]].append(c["line"])
        return {check: sorted(lines) for check, lines in found.items()}


@bp.context_processor
def _common() -> dict[str, Any]:
    return {"identity": current_identity(), "scorecard": appstate.context().scorecard}


@bp.get("/services/<kind>/<namespace>/<name>/source/<commit>/<path:path>")
def show_file(kind: str, namespace: str, name: str, commit: str, path: str) -> str:
    ref = join_ref(kind, namespace, name)
    ctx = appstate.context()
    citation = _citation(ctx, ref, commit, path) if _plain(commit, path) else None
    if citation is None:
        abort(404, description=f"No check result of {ref} at commit {commit[:12]} cites {path} as evidence.")
    text, not_shown = _read(ctx, citation.repo, commit, path)
    with Session(ctx.engine) as session:
        owner = session.exec(select(Service.owner).where(Service.ref == ref)).first()
    return render_template(
        "pages/source.html",
        nav="fleet",
        ref_parts={"kind": kind, "namespace": namespace, "name": name},
        owner=owner,
        path=path,
        commit=commit,
        citation=citation,
        lines=_lines(text) if text is not None else None,
        not_shown=not_shown,
    )


def source_url(ref: str | None, commit: str, path: str, line: int | None = None) -> str | None:
    """The view of ``path`` (at ``line``) in ``ref``'s repo at ``commit``; None for a path it never shows."""
    if not ref or not _plain(commit, path):
        return None
    kind, namespace, name = split_ref(ref)
    url = url_for("source.show_file", kind=kind, namespace=namespace, name=name, commit=commit, path=path)
    return url + (f"#L{line}" if line else "")


def _plain(commit: str, path: str) -> bool:
    """A full commit sha and a relative path without ``.``/``..``/empty segments (nothing else is cited)."""
    return bool(_COMMIT.fullmatch(commit)) and all(part not in ("", ".", "..") for part in path.split("/"))


def _citation(ctx: ReadContext, ref: str, commit: str, path: str) -> Citation | None:
    """What cites ``path`` in the newest scan of ``ref`` at ``commit`` that cites it at all."""
    query = (
        select(Scan.id, Scan.repo, CheckResult.check_id, CheckResult.evidence)
        .join(Service, col(Service.id) == col(Scan.service_id))
        .join(CheckResult, col(CheckResult.scan_id) == col(Scan.id))
        .where(Service.ref == ref, Scan.commit == commit)
        .order_by(col(Scan.id).desc(), col(CheckResult.check_id))
    )
    found: Citation | None = None
    with Session(ctx.engine) as session:
        for scan_id, repo, check_id, evidence in session.exec(query):
            assert scan_id is not None  # a stored row's primary key
            if found is not None and scan_id != found.scan_id:
                break
            for item in evidence if isinstance(evidence, list) else ():
                if isinstance(item, dict) and item.get("path") == path:
                    found = found or Citation(scan_id, repo)
                    line = item.get("line")
                    found.checks.append({"check": check_id, "line": line if isinstance(line, int) else None})
    return found


def _read(ctx: ReadContext, repo: str, commit: str, path: str) -> tuple[str | None, str | None]:
    """(the file's text, None), or (None, why it is not shown); 410 when the repo or commit is gone."""
    try:
        git_dir = stored_git_dir(_location(ctx, repo), ctx.config.cache_dir)
    except RepoError:
        abort(410, description=f"The repository {repo} is no longer available to the portal.")
    with RepoSnapshot(git_dir, commit, repo, Limits(max_file_bytes=MAX_SHOWN_BYTES)) as snapshot:
        if snapshot.reader.object(f"{commit}^{{commit}}") is None:
            abort(410, description=f"Commit {commit[:12]} is no longer in the repository {repo}.")
        try:
            data = snapshot.read_bytes(path)
        except FileReadError as exc:
            return None, exc.message
        except RepoError as exc:
            return None, redact_url(str(exc))
    if b"\0" in data[:8192]:
        return None, "it is a binary file"
    return data.decode("utf-8-sig", "replace"), None


def _location(ctx: ReadContext, repo: str) -> str:
    """Where to read the stored ``repo`` from: a git URL as the fleet config names it (its mirror is
    keyed by the URL with its credentials, which the database never holds), else as stored."""
    if not is_url(repo):
        return repo
    entry = entry_scanned_as(ctx.config, repo)
    return entry.location if entry else repo


def _lines(text: str) -> list[str]:
    """The file's lines as git numbers them (split at ``\\n`` only, a CR before it dropped)."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


@bp.errorhandler(404)
@bp.errorhandler(410)
def _error_page(error: HTTPException) -> tuple[str, int]:
    code = error.code or 404
    title = "Not found" if code == 404 else "No longer available"
    return render_template("pages/error.html", code=code, title=title, message=error.description), code
