"""Read-only access to one repository at one commit, from git objects only.

The working tree is never read and a symlink is never followed out of the tree. Limits bound
what a scan may read, so that a hostile repository costs bounded time and memory.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import posixpath
import re
import shutil
import subprocess
import weakref
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import git

DEFAULT_CACHE = Path(os.environ.get("PRR_CACHE_DIR", Path.home() / ".cache" / "prr" / "repos"))
MODE_SYMLINK = "120000"
MODE_SUBMODULE = "160000"
MISSING = -1  # size of a blob the object store does not hold
# Why a file cannot be read at one scan but may be at the next of the same commit (a fetch mends a
# partial clone; what else a scan read decides whether the budget is spent).
MISSING_CONTENT = "its content is missing from the git object store (a partial or damaged clone)"
BUDGET_SPENT = "the scan's read budget is spent (too much data read)"


@dataclass(frozen=True)
class Limits:
    max_files: int = 100_000  # entries listed; the rest are ignored and reported
    max_file_bytes: int = 4 * 1024 * 1024  # real dashboards reach 1 MB
    max_total_bytes: int = 256 * 1024 * 1024  # read by one process over one scan


class RepoError(Exception):
    """The repository itself cannot be read (missing, not git, unknown ref)."""


class FileReadError(Exception):
    """One file cannot be read; the message says why. Other files still can."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message

    def __reduce__(self):
        return (type(self), (self.path, self.message))


class HistoryUnavailable(Exception):
    """Git history cannot date a path (shallow clone)."""


@dataclass(frozen=True)
class Entry:
    path: str
    mode: str
    sha: str
    size: int


@dataclass
class RepoSnapshot:
    """A read-only view of one repository at one commit.

    It holds only plain data (paths, shas) so it crosses a process boundary by pickling;
    each process opens its own git reader on first use, and :meth:`close` (or leaving a ``with``
    block) ends it: a scan's reader lives as long as the scan.
    """

    git_dir: str
    commit: str
    location: str  # what the user named: a path or URL, for reports
    limits: Limits = field(default_factory=Limits)
    _entries: dict[str, Entry] | None = field(default=None, repr=False)
    _truncated: bool = field(default=False, repr=False)
    _bytes_read: int = field(default=0, repr=False)
    # Parsed files, shared by the checks that run in one process (see checks.formats.files).
    cache: dict = field(default_factory=dict, repr=False, compare=False)
    _reader: GitReader | None = field(default=None, repr=False, compare=False)
    _files: list[str] | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict:
        """What a worker process receives: the listing, not the parses or the reader (each process
        makes its own)."""
        return {**self.__dict__, "cache": {}, "_reader": None}

    def __enter__(self) -> RepoSnapshot:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End this process's git reader of the snapshot and drop its parses (reading again reopens)."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self.cache.clear()

    @property
    def reader(self) -> GitReader:
        if self._reader is None:
            self._reader = GitReader(self.git_dir)
        return self._reader

    # -- listing -------------------------------------------------------------------------------
    @property
    def entries(self) -> dict[str, Entry]:
        if self._entries is None:
            self._entries, self._truncated = _list_tree(self.reader, self.commit, self.limits)
        return self._entries

    @property
    def truncated(self) -> bool:
        """True when the tree holds more entries than ``limits.max_files``; the rest are ignored."""
        return self.entries is not None and self._truncated

    def files(self) -> list[str]:
        """Every regular file and in-tree symlink, sorted."""
        if self._files is None:
            self._files = sorted(p for p, e in self.entries.items() if e.mode != MODE_SUBMODULE)
        return list(self._files)

    def exists(self, path: str) -> bool:
        return _normalise(path) in self.entries

    def is_dir(self, path: str) -> bool:
        prefix = _normalise(path).rstrip("/") + "/"
        return any(p.startswith(prefix) for p in self.entries)

    def glob(self, *patterns: str) -> list[str]:
        """Paths matching any of the patterns (``**`` spans folders; case-sensitive)."""
        regex = _globs_regex(patterns)
        return [p for p in self.files() if regex.fullmatch(p)]

    # -- reading -------------------------------------------------------------------------------
    def read_bytes(self, path: str) -> bytes:
        path = _normalise(path)
        entry = self._resolve(path, hops=0)
        if entry.size == MISSING:
            raise FileReadError(path, MISSING_CONTENT)
        if entry.size > self.limits.max_file_bytes:
            raise FileReadError(path, f"file is {entry.size} bytes, over the {self.limits.max_file_bytes}-byte limit")
        if self._bytes_read + entry.size > self.limits.max_total_bytes:
            raise FileReadError(path, BUDGET_SPENT)
        self._bytes_read += entry.size
        return self.reader.blob(entry.sha, path)

    def read_text(self, path: str) -> str:
        data = self.read_bytes(path)
        if b"\0" in data[:8192]:
            raise FileReadError(_normalise(path), "binary file, not text")
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FileReadError(_normalise(path), f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None

    def _resolve(self, path: str, hops: int) -> Entry:
        entry = self.entries.get(path)
        if entry is None:
            raise FileReadError(path, "no such file at this commit")
        if entry.mode == MODE_SUBMODULE:
            raise FileReadError(path, "a git submodule, not a file")
        if entry.mode != MODE_SYMLINK:
            return entry
        if hops >= 8:
            raise FileReadError(path, "too many levels of symbolic links")
        target = self.reader.blob(entry.sha, path)[:4096].decode("utf-8", "replace")
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
        if target.startswith("/") or joined == ".." or joined.startswith("../"):
            raise FileReadError(path, f"symbolic link to {target!r} leaves the repository; not followed")
        return self._resolve(joined, hops + 1)

    # -- history -------------------------------------------------------------------------------
    def last_changed(self, path: str) -> datetime:
        """When the commit that last changed ``path`` (at or before this commit) was made."""
        out = self.reader.run("log", "-1", "--format=%H %cI", self.commit, "--", _normalise(path)).decode()
        if not out:
            raise HistoryUnavailable(f"{path}: no commit in the history touches it")
        sha, iso = out.split()
        if sha in _shallow_boundary(self.git_dir):
            raise HistoryUnavailable(
                f"{path}: the clone is shallow; its history cannot tell when the file last changed"
            )
        return datetime.fromisoformat(iso)


def _size(field: bytes) -> int:
    """``git ls-tree -l`` size: ``-`` for submodules, ``BAD`` for a blob missing from the store (-1)."""
    if field == b"-":
        return 0
    return int(field) if field.isdigit() else MISSING


def _normalise(path: str) -> str:
    return posixpath.normpath(path.lstrip("/")) if path else path


@lru_cache(maxsize=256)
def _globs_regex(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{_glob_regex(p).pattern})" for p in patterns))


@lru_cache(maxsize=256)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "{":
            end = pattern.index("}", i)
            out.append("(?:" + "|".join(re.escape(a) for a in pattern[i + 1 : end].split(",")) + ")")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


# A repository's config is written by whoever wrote the repository: nothing in it may make git run
# a program. These settings win over the repository's own for every git command run on it.
NEUTRALISED_CONFIG = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "diff.external=",
    "protocol.ext.allow=never",
)
# Settings whose value is a command, per driver the repository's config names (filter "lfs" ...).
_DRIVER_COMMANDS = {"filter": ("clean", "smudge", "process"), "diff": ("textconv", "command"), "merge": ("driver",)}


def open_repo(path: str | Path) -> git.Repo:
    """A ``git.Repo`` whose git commands ignore everything in the repo's config that runs a program."""
    repo = git.Repo(path, search_parent_directories=False)
    repo.git.set_persistent_git_options(c=_neutralising_options(str(repo.git_dir)))
    return repo


def _neutralising_options(git_dir: str) -> list[str]:
    """``-c`` settings that blank everything the repository's config could make git run."""
    overrides = list(NEUTRALISED_CONFIG)
    reader = git.GitConfigParser(os.path.join(git_dir, "config"), read_only=True)  # parsed in Python
    for section in reader.sections():
        kind, _, driver = section.partition(" ")
        for option in _DRIVER_COMMANDS.get(kind, ()) if driver else ():
            overrides.append(f"{kind}.{driver.strip(chr(34))}.{option}=")
    return overrides


class GitReader:
    """Git commands on one repository with its config neutralised, and one ``git cat-file
    --batch`` process through which every object is read. :meth:`close` ends that process (so
    does garbage collection of the reader)."""

    def __init__(self, git_dir: str):
        self.git_dir = git_dir
        self._command = ["git", "--literal-pathspecs", f"--git-dir={git_dir}"]
        for option in _neutralising_options(git_dir):
            self._command += ["-c", option]
        self._batch: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize | None = None

    def run(self, *args: str) -> bytes:
        """The output of one git command (raises RepoError with git's complaint when it fails)."""
        done = subprocess.run([*self._command, *args], capture_output=True, stdin=subprocess.DEVNULL)
        if done.returncode:
            raise RepoError(done.stderr.decode("utf-8", "replace").strip() or f"git {args[0]} failed")
        return done.stdout

    def stream(self, *args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([*self._command, *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def object(self, name: str) -> tuple[str, str, bytes] | None:
        """(sha, type, content) of the object ``name`` names (a sha, ``HEAD^{commit}``...), or None."""
        if "\n" in name or "\r" in name:
            return None
        batch = self._batch_process()
        assert batch.stdin is not None and batch.stdout is not None
        batch.stdin.write(name.encode("utf-8", "surrogateescape") + b"\n")
        batch.stdin.flush()
        header = batch.stdout.readline().split()
        if len(header) != 3:  # "<name> missing", "<name> ambiguous", or git died
            return None
        data = batch.stdout.read(int(header[2]))
        batch.stdout.read(1)  # the newline after the content
        return header[0].decode(), header[1].decode(), data

    def blob(self, sha: str, path: str) -> bytes:
        """The content of blob ``sha``, which the tree names ``path``."""
        found = self.object(sha)
        if found is None:
            raise FileReadError(path, MISSING_CONTENT)
        return found[2]

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
            self._batch = self._finalizer = None

    def _batch_process(self) -> subprocess.Popen[bytes]:
        if self._batch is None:
            self._batch = subprocess.Popen(
                [*self._command, "cat-file", "--batch"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            self._finalizer = weakref.finalize(self, _end, self._batch)
        return self._batch


def _end(process: subprocess.Popen[bytes]) -> None:
    for pipe in (process.stdin, process.stdout):
        if pipe is not None:
            pipe.close()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _shallow_boundary(git_dir: str) -> set[str]:
    shallow = Path(git_dir) / "shallow"
    return set(shallow.read_text().split()) if shallow.exists() else set()


def _list_tree(reader: GitReader, commit: str, limits: Limits) -> tuple[dict[str, Entry], bool]:
    entries: dict[str, Entry] = {}
    proc = reader.stream("ls-tree", "-r", "-l", "-z", "--full-tree", commit)
    out = proc.stdout
    assert out is not None
    truncated = False
    buf = b""
    for chunk in iter(lambda: out.read(65536), b""):
        buf += chunk
        *records, buf = buf.split(b"\0")
        for rec in records:
            if len(entries) >= limits.max_files:
                truncated = True
                break
            meta, _, raw_path = rec.partition(b"\t")
            mode, _kind, sha, size = meta.split()
            path = raw_path.decode("utf-8", "surrogateescape")
            entries[path] = Entry(path, mode.decode(), sha.decode(), _size(size))
        if truncated:
            break
    out.close()
    if proc.wait() != 0 and not truncated:  # a listing cut short ends git on a broken pipe
        raise RepoError(f"cannot list the files of commit {commit[:12]}: the repository's object store is damaged")
    return entries, truncated


# -- opening a location ------------------------------------------------------------------------
def is_url(location: str) -> bool:
    return bool(re.match(r"^(https?|ssh|git|file)://|^[\w.-]+@[\w.-]+:", location))


_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@")
_SECRET_QUERY = re.compile(r"\?[^\s'\"]*")


def redact_url(text: str) -> str:
    """``text`` with the credentials of any URL in it removed: user and password (``https://user:
    token@host/x.git`` is shown as ``https://host/x.git``) and query strings (``?private_token=``).

    A fleet URL may carry a token so the portal can fetch; it is never displayed, logged, stored
    in results or sent in a webhook. This applies to git's own error messages, which quote the URL.
    """
    text = _USERINFO.sub(r"\1", text)
    return re.sub(r"(?i)(\b[a-z][a-z0-9+.-]*://[^\s'\"?]*)" + _SECRET_QUERY.pattern, r"\1", text)


def open_snapshot(
    location: str, ref: str | None = None, cache_dir: Path | None = None, limits: Limits | None = None
) -> RepoSnapshot:
    """A snapshot of a local repository path or a git URL at ``ref`` (default HEAD)."""
    if not is_url(location):
        location = str(Path(location).expanduser().resolve())
    git_dir = _mirror(location, cache_dir or DEFAULT_CACHE) if is_url(location) else _local_git_dir(location)
    commit = _head_commit(git_dir) if ref in (None, "HEAD") else None
    reader = GitReader(git_dir)
    if commit is None:
        found = reader.object(f"{ref or 'HEAD'}^{{commit}}")
        if found is None:
            reader.close()
            if ref is None and _unborn_head(git_dir):
                raise RepoError(f"{redact_url(location)}: the repository has no commits yet; nothing to evaluate")
            raise RepoError(redact_url(f"{location}: cannot resolve {ref or 'HEAD'!r}: no such commit"))
        commit = found[0]
    return RepoSnapshot(
        git_dir=git_dir, commit=commit, location=redact_url(location), limits=limits or Limits(), _reader=reader
    )


def _head_commit(git_dir: str) -> str | None:
    """The commit HEAD names, read from the files git keeps, when that is plain: HEAD naming a
    branch whose loose ref (or packed-refs line) holds a commit stored as a loose object. None
    when git must be asked (a worktree, a packed object, anything unusual). Saves starting git
    to learn that a repo has not moved."""
    folder = Path(git_dir)
    try:
        if (folder / "commondir").exists():
            return None
        head = (folder / "HEAD").read_text().strip()
        value: str | None
        name = head.removeprefix("ref: ")
        if name == head:
            value = head
        elif not re.fullmatch(r"refs/heads/[\w./-]+", name) or ".." in name:
            return None
        elif (folder / name).is_file():
            value = (folder / name).read_text().strip()
        else:
            value = _packed_ref(folder / "packed-refs", name)
        if value is None or not re.fullmatch(r"[0-9a-f]{40}", value):
            return None
        with open(folder / "objects" / value[:2] / value[2:], "rb") as loose:
            header = zlib.decompressobj().decompress(loose.read(64), 16)
    except (OSError, zlib.error, UnicodeDecodeError):
        return None
    return value if header.startswith(b"commit ") else None


def _packed_ref(packed: Path, name: str) -> str | None:
    for line in packed.read_text().splitlines() if packed.is_file() else ():
        sha, _, ref = line.partition(" ")
        if ref == name:
            return sha
    return None


def _unborn_head(git_dir: str) -> bool:
    """True when HEAD names a branch that has no commit yet (a new, empty repository)."""
    folder = Path(git_dir)
    try:
        name = (folder / "HEAD").read_text().strip().removeprefix("ref: ")
    except OSError:
        return False
    return (
        name.startswith("refs/heads/")
        and not (folder / name).is_file()
        and not _packed_ref(folder / "packed-refs", name)
    )


def _local_git_dir(location: str) -> str:
    """The git directory of a checkout (``.git``, or where a ``.git`` file points) or of a bare repo."""
    path = Path(location).expanduser()
    if not path.exists():
        raise RepoError(f"{location}: no such directory")
    dot_git = path / ".git"
    if dot_git.is_file():
        pointer = dot_git.read_text(errors="replace").strip()
        dot_git = (path / pointer.removeprefix("gitdir:").strip()) if pointer.startswith("gitdir:") else dot_git
    for candidate in (dot_git, path):
        if (candidate / "HEAD").is_file() and ((candidate / "objects").is_dir() or (candidate / "commondir").is_file()):
            return str(candidate.resolve())
    raise RepoError(f"{location}: not a git repository")


def mirror_path(url: str, cache_dir: Path) -> Path:
    """Where the bare mirror of ``url`` lives under the cache (whether or not it was cloned yet)."""
    name = re.sub(r"[^\w.-]+", "_", url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git"))[:60]
    return cache_dir / f"{name}-{hashlib.sha256(url.encode()).hexdigest()[:12]}.git"


def stored_git_dir(location: str, cache_dir: Path | None = None) -> str:
    """The git directory that already holds ``location``: a local repository, or the mirror of a git
    URL in the cache. Never clones or fetches; RepoError when there is none."""
    if not is_url(location):
        return _local_git_dir(location)
    target = mirror_path(location, cache_dir or DEFAULT_CACHE)
    if not (target / "HEAD").is_file():
        raise RepoError(redact_url(f"{location}: no mirror of it in the cache"))
    return str(target)


def _mirror(url: str, cache_dir: Path) -> str:
    """Clone ``url`` once as a bare mirror under the cache, then fetch incrementally."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = mirror_path(url, cache_dir)
    # One fetch at a time per mirror, across threads and processes (prr scan beside a portal rescan).
    with open(target.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if (target / "HEAD").exists():
                with open_repo(target) as mirror:
                    mirror.git.fetch("--prune", "origin")
            else:  # cloned aside and renamed: a clone killed half-way never looks like a mirror
                partial = target.with_suffix(".partial")
                shutil.rmtree(partial, ignore_errors=True)
                git.Repo.clone_from(url, partial, mirror=True).close()
                partial.rename(target)
        except git.GitCommandError as exc:
            raise RepoError(redact_url(f"{url}: cannot fetch: {_git_complaint(exc)}")) from None
    return str(target)


def _git_complaint(exc: git.GitCommandError) -> str:
    """git's own error line ("fatal: ..."), without GitPython's quoting and progress chatter."""
    text = str(exc.stderr or "").strip().removeprefix("stderr:").strip().strip("'").strip()
    complaints = [line for line in text.splitlines() if line.startswith(("fatal:", "error:"))]
    return complaints[-1].removeprefix("fatal: ") if complaints else text or str(exc)


def working_tree_dirty(location: str) -> bool:
    """True when a local checkout has uncommitted changes (which a scan ignores)."""
    if is_url(location):
        return False
    try:
        with open_repo(location) as repo:
            return not repo.bare and repo.is_dirty(untracked_files=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return False
    except git.GitCommandError:
        return True  # git could not tell (e.g. a filter the repo marks required): say so rather than guess clean


def iter_local_repos(pattern: str) -> Iterator[str]:
    """Expand a glob of local paths into the git repositories among them."""
    import glob

    for match in sorted(glob.glob(os.path.expanduser(pattern))):
        if (Path(match) / ".git").exists() or (Path(match) / "HEAD").is_file():
            yield match
