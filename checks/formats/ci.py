"""CI pipelines and whether they run tests.

A pipeline runs tests when one of its steps runs a test command (pytest, go test, npm test,
mvn verify, ...), directly or through a Makefile target or a package.json script, or calls a
test script, or uses a shared job named for tests: a GitHub reusable workflow, a Tekton task, a
CircleCI orb job, a GitLab ``include:`` template (what those run is not in the repo, so they are
judged by name, and the evidence says so). Commands are read from the keys
each CI system runs (``run``, ``script``, ``commands``, ``command``, ``args``...), with lines.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from prr.checks.formats.files import NON_PRODUCTION_DIRS, all_yaml, read_yaml
from prr.checks.formats.yamlfile import FormatError, YList, YMap
from prr.repo import FileReadError, RepoSnapshot

# (system, path pattern); Tekton is found by apiVersion, anywhere.
CI_PATTERNS = (
    ("GitHub Actions", r"\.github/workflows/[^/]+\.ya?ml"),
    ("GitLab CI", r"\.gitlab-ci\.ya?ml"),
    ("Jenkins", r"Jenkinsfile(?:\.[\w-]+)?"),
    ("CircleCI", r"\.circleci/config\.ya?ml"),
    ("Travis CI", r"\.travis\.ya?ml"),
    ("Azure Pipelines", r"azure-pipelines\.ya?ml|\.azure-pipelines/[^/]+\.ya?ml"),
    ("Buildkite", r"\.buildkite/(?:.+/)?[^/]+\.ya?ml"),
    ("Drone", r"\.drone\.ya?ml"),
    ("Bitbucket Pipelines", r"bitbucket-pipelines\.ya?ml"),
)
# All of CI_PATTERNS in one: the first that matches a whole path names its group (``ci3`` → CI_PATTERNS[3]).
_CI_PATH = re.compile("|".join(f"(?P<ci{i}>{pattern})" for i, (_name, pattern) in enumerate(CI_PATTERNS)))
CI_GLOBS = (
    ".github/workflows/*.y*ml",
    ".gitlab-ci.yml",
    "Jenkinsfile",
    ".circleci/config.yml",
    ".travis.yml",
    "azure-pipelines.yml",
    ".buildkite/**",
    ".drone.yml",
    "tekton.dev Pipeline/Task",
)
TEKTON_KINDS = {"Pipeline", "Task", "PipelineRun", "TaskRun"}
COMMAND_KEYS = {
    "run",
    "script",
    "before_script",
    "after_script",
    "command",
    "commands",
    "args",
    "bash",
    "pwsh",
    "powershell",
    "cmd",
    "steps",
}

_OPTS = r"(?:\s+(?:-[-\w.=:/]+|[\w.-]+=\S+))*"
TEST_COMMAND = re.compile(
    r"(?<![\w./-])(?:"
    r"pytest|py\.test|python[\d.]*" + _OPTS + r"\s+-m\s+(?:pytest|unittest|nose2?|tox|nox)"
    r"|tox|nox|go\s+test|gotestsum|ginkgo"
    r"|(?:npm|pnpm|yarn|bun)" + _OPTS + r"\s+(?:run\s+)?test[\w:-]*|npm\s+(?:t|it|install-test)(?!\S)"
    r"|(?:npx\s+)?(?:jest|vitest|mocha|karma\s+start|playwright\s+test|cypress\s+run)"
    r"|backstage-cli\s+(?:repo|package)\s+test|turbo(?:\s+run)?\s+test|lerna\s+run\s+test"
    r"|nx\s+(?:(?:run-many|affected)\s+(?:-t|--targets?)(?:=|\s+))?test"
    r"|(?:\./)?mvnw?" + _OPTS + r"(?:\s+[\w:.-]+)*?\s+(?:test|verify|package|install|deploy|integration-test)(?![\w-])"
    r"|(?:\./)?gradlew?" + _OPTS + r"(?:\s+[\w:.-]+)*?\s+(?:[\w:-]*:)?(?:test|check|build|\w+Test)(?![\w-])"
    r"|cargo\s+(?:test|nextest)|dotnet\s+test|vstest|(?:bundle\s+exec\s+)?(?:rspec|rake\s+(?:test|spec))"
    r"|phpunit|vendor/bin/pest|mix\s+test|swift\s+test|sbt" + _OPTS + r".*?\btest|lein\s+test"
    r"|bazel(?:isk)?\s+test|ctest|deno\s+test|flutter\s+test|dart\s+test|hatch\s+(?:run\s+)?test"
    r"|stack\s+test|cabal\s+test|R\s+CMD\s+check"
    r"|make" + _OPTS + r"(?:\s+[\w./-]+)*?\s+(?:test|tests|check|unit[\w-]*|integration[\w-]*|e2e|[\w-]*-test)(?![\w-])"
    r"|(?:\S*/)?(?:[\w.-]*[_.-])?tests?(?:[_.-][\w.-]*)?\.(?:sh|bash|ps1|py)"
    r")(?![\w.-])",
    re.I,
)
SKIPS_TESTS = re.compile(r"-DskipTests|-Dmaven\.test\.skip=true|-x\s+test\b", re.I)
MAKE_CALL = re.compile(r"(?<![\w-])make" + _OPTS + r"((?:\s+[\w.-]+)+)")
SCRIPT_CALL = re.compile(r"(?<![\w-])(?:npm\s+run(?:-script)?|(?:pnpm|yarn|bun)(?:\s+run)?)\s+([\w:.-]+)")
# A command that installs a test tool does not run it: `pip install pytest`.
INSTALLS = re.compile(
    r"^\s*(?:sudo\s+)?(?:pip3?|python[\d.]*\s+-m\s+pip|uv\s+(?:pip|add|tool)|poetry\s+add|pipx"
    r"|npm\s+(?:i|install|add)|yarn\s+(?:global\s+)?add|pnpm\s+add|apt(?:-get)?|apk|brew|yum|dnf"
    r"|go\s+(?:install|get)|cargo\s+install|gem\s+install|conda|mamba)\b"
)
REUSABLE_WORKFLOW = re.compile(r"^[\w.-]+/[\w.-]+/\.github/workflows/([^@]+)@|^\./\.github/workflows/(.+)$")
# A shared job, workflow or template named for tests: build-and-test, Test.gitlab-ci.yml, node/test.
TEST_NAME = re.compile(r"(?<![a-z])(?:tests?|testing|pytest|specs?)(?![a-z])", re.I)
BY_NAME = "judged by its name"


@dataclass
class StepRunningTests:
    path: str
    line: int | None
    command: str


@dataclass
class Pipeline:
    path: str
    system: str
    line: int = 1  # where its jobs/steps start, for a finding
    tests: list[StepRunningTests] = field(default_factory=list)
    error: FormatError | None = None


def find_pipelines(repo: RepoSnapshot, dirs: tuple[str, ...] = NON_PRODUCTION_DIRS) -> list[Pipeline]:
    """Every CI pipeline definition in the repo, each with the test steps it runs."""
    resolver = _Indirection(repo)
    pipelines = []
    for path in repo.files():
        match = _CI_PATH.fullmatch(path)
        if match is None or match.lastgroup is None:
            continue
        system = CI_PATTERNS[int(match.lastgroup.removeprefix("ci"))][0]
        pipeline = Pipeline(path, system)
        try:
            if system == "Jenkins":
                commands = list(_text_commands(repo.read_text(path)))
            else:
                docs = read_yaml(repo, path)
                pipeline.line = _start_line(docs)
                commands = [c for doc in docs for c in _yaml_commands(doc)]
                commands += _gitlab_includes(repo, docs) if system == "GitLab CI" else []
                commands += _circleci_orb_jobs(docs) if system == "CircleCI" else []
        except FileReadError as exc:
            pipeline.error = FormatError(path, None, exc.message)
            commands = []
        except FormatError as exc:
            pipeline.error = exc
            commands = []
        pipeline.tests = _test_steps(commands, resolver, path)
        pipelines.append(pipeline)
    pipelines += _tekton_pipelines(repo, resolver, dirs)
    return pipelines


def _tekton_pipelines(repo: RepoSnapshot, resolver: _Indirection, dirs: tuple[str, ...]) -> list[Pipeline]:
    found = []
    for path, docs in all_yaml(repo, include_non_production=True).documents.items():
        if any(part in dirs for part in path.split("/")[:-1]):  # hidden folders (.tekton/) are read
            continue
        tekton = [
            d
            for d in docs
            if isinstance(d, YMap)
            and str(d.get("apiVersion", "")).startswith("tekton.dev/")
            and d.get("kind") in TEKTON_KINDS
        ]
        if not tekton:
            continue
        commands = [c for doc in tekton for c in _yaml_commands(doc)]
        pipeline = Pipeline(path, "Tekton", tekton[0].line)
        pipeline.tests = _test_steps(commands, resolver, path)
        found.append(pipeline)
    return found


def _start_line(docs: list[Any]) -> int:
    doc = docs[0] if docs else None
    if isinstance(doc, YMap):
        for key in ("jobs", "stages", "steps", "script", "pipelines"):
            if key in doc:
                return doc.line_of(key)
        return doc.line
    return 1


# (line, text, path when not the pipeline's own file, known test: a test task/workflow by name)
Command = tuple[int | None, str, str | None, bool]


def _yaml_commands(node: Any, path: str | None = None) -> Iterator[Command]:
    """Strings under the keys CI systems run, with the line each command line is on."""
    if isinstance(node, YMap):
        for key, value in node.items():
            if key in COMMAND_KEYS:
                yield from _strings(value, node.line_of(key), path)
            if key == "uses" and isinstance(value, str) and _reusable_test_workflow(value):
                yield node.line_of(key), f"reusable workflow {value} ({BY_NAME})", path, True
            if key == "taskRef" and isinstance(value, dict) and re.search(r"test", str(value.get("name", "")), re.I):
                yield node.line_of(key), f"Tekton task {value['name']}", path, True
            if key == "task" and isinstance(value, str):
                synthetic = _azure_task(value, node.get("inputs"))
                if synthetic:
                    yield node.line_of(key), synthetic, path, False
            if isinstance(value, (YMap, YList)):
                yield from _yaml_commands(value, path)
    elif isinstance(node, YList):
        for item in node:
            yield from _yaml_commands(item, path)


def _strings(value: Any, line: int, path: str | None) -> Iterator[Command]:
    if isinstance(value, str):
        lines = value.rstrip("\n").split("\n")
        offset = 1 if len(lines) > 1 else 0  # a block scalar starts on the line after its key
        for i, text in enumerate(lines):
            yield line + offset + i, text, path, False
    elif isinstance(value, YList):
        for i, item in enumerate(value):
            if isinstance(item, str):
                yield from _strings(item, value.line_of(i), path)


def _reusable_test_workflow(uses: str) -> bool:
    match = REUSABLE_WORKFLOW.search(uses.strip())
    return bool(match and TEST_NAME.search(match[1] or match[2]))


def _circleci_orb_jobs(docs: list[Any]) -> list[Command]:
    """Workflow jobs of a declared orb named for tests: ``node/test``, ``acme/build-and-test``."""
    config = docs[0] if docs and isinstance(docs[0], YMap) else YMap()
    orbs: YMap = config["orbs"] if isinstance(config.get("orbs"), YMap) else YMap()
    workflows: YMap = config["workflows"] if isinstance(config.get("workflows"), YMap) else YMap()
    found: list[Command] = []
    for workflow in workflows.values():
        jobs = workflow.get("jobs") if isinstance(workflow, YMap) else None
        if not isinstance(jobs, YList):
            continue
        for index, job in enumerate(jobs):
            name = job if isinstance(job, str) else next(iter(job), None) if isinstance(job, YMap) and job else None
            orb, _, orb_job = str(name or "").partition("/")
            if orb in orbs and TEST_NAME.search(orb_job):
                found.append((jobs.line_of(index), f"orb job {name} of {orbs[orb]} ({BY_NAME})", None, True))
    return found


def _azure_task(task: str, inputs: Any) -> str | None:
    """Azure Pipelines tasks that run tests, as the command they stand for."""
    inputs = inputs if isinstance(inputs, dict) else {}
    name = task.split("@")[0].lower()
    if name == "vstest":
        return "vstest"
    if name == "dotnetcorecli":
        return f"dotnet {inputs.get('command', '')}"
    if name == "maven":
        return f"mvn {inputs.get('goals', 'package')}"
    if name == "gradle":
        return f"gradle {inputs.get('tasks', 'build')}"
    if name == "npm":
        return f"npm {inputs.get('customCommand') or inputs.get('command', '')}"
    return None


def _text_commands(text: str) -> Iterator[Command]:
    for number, line in enumerate(text.splitlines(), start=1):
        code = re.sub(r"^\s*(//|#).*", "", line)
        if code.strip():
            yield number, code, None, False


def _gitlab_includes(repo: RepoSnapshot, docs: list[Any]) -> list[Command]:
    """Commands from the local files a .gitlab-ci.yml includes (``include: local: ...``), and the
    shared templates it includes (``template``, ``project`` + ``file``, ``component``, ``remote``)
    named for tests."""
    config = docs[0] if docs and isinstance(docs[0], YMap) else None
    includes = config.get("include") if config is not None else None
    entries = includes if isinstance(includes, list) else [includes] if includes else []
    commands: list[Command] = []
    for index, entry in enumerate(entries):
        local = entry.get("local") if isinstance(entry, dict) else entry if isinstance(entry, str) else None
        if isinstance(local, str) and repo.exists(local.lstrip("/")):
            try:
                for doc in read_yaml(repo, local.lstrip("/")):
                    commands += _yaml_commands(doc, local.lstrip("/"))
            except FormatError:
                continue  # the included file's own error does not hide the main file's tests
        elif isinstance(entry, dict) and config is not None:
            shared = [entry.get(k) for k in ("template", "component", "remote")] + _as_list(entry.get("file"))
            named = next((str(n) for n in shared if n and TEST_NAME.search(str(n))), None)
            if named:
                line = includes.line_of(index) if isinstance(includes, YList) else config.line_of("include")
                commands.append((line, f"included template {named} ({BY_NAME})", None, True))
    return commands


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _test_steps(commands: list[Command], resolver: _Indirection, path: str) -> list[StepRunningTests]:
    steps = []
    for line, text, in_file, known_test in commands:
        code = re.sub(r"^\s*#.*", "", text).strip()
        if known_test or runs_tests(code):
            steps.append(StepRunningTests(in_file or path, line, code))
        elif (via := resolver.tests_behind(code)) is not None:
            steps.append(StepRunningTests(in_file or path, line, f"{code} (runs {via})"))
    return steps


def runs_tests(command: str) -> bool:
    """Whether a shell command line runs a test command (install steps and skipped tests don't)."""
    for segment in re.split(r"&&|\|\||;|\|", command):
        if INSTALLS.match(segment) or SKIPS_TESTS.search(segment):
            continue
        if TEST_COMMAND.search(segment):
            return True
    return False


class _Indirection:
    """Follows ``make <target>`` into the Makefile and ``npm run <script>`` into package.json."""

    def __init__(self, repo: RepoSnapshot):
        self.repo = repo
        self._make: dict[str, tuple[list[str], list[str]]] | None = None
        self._scripts: dict[str, str] | None = None

    def tests_behind(self, command: str) -> str | None:
        for match in MAKE_CALL.finditer(command):
            for target in match[1].split():
                found = self._make_target(target, set())
                if found:
                    return found
        for match in SCRIPT_CALL.finditer(command):
            script = self.scripts().get(match[1])
            if isinstance(script, str) and runs_tests(script):
                return script
        return None

    def _make_target(self, target: str, seen: set[str]) -> str | None:
        if target in seen or target not in self.makefile():
            return None
        seen.add(target)
        prerequisites, recipe = self.makefile()[target]
        for line in recipe:
            if runs_tests(line):
                return line.strip()
        return next((found for p in prerequisites if (found := self._make_target(p, seen))), None)

    def makefile(self) -> dict[str, tuple[list[str], list[str]]]:
        if self._make is None:
            self._make = {}
            text = self._read("Makefile") or self._read("makefile") or self._read("GNUmakefile") or ""
            current: list[str] = []
            for line in text.splitlines():
                if line.startswith("\t") and current:
                    for target in current:
                        self._make[target][1].append(line)
                    continue
                rule = re.match(r"^([\w.%/-]+(?:\s+[\w.%/-]+)*)\s*::?(?!=)\s*([^=#]*?)\s*(?:#.*)?$", line)
                current = rule[1].split() if rule else []
                for target in current:
                    self._make.setdefault(target, ([], []))[0].extend(rule[2].split() if rule else [])
        return self._make

    def scripts(self) -> dict[str, Any]:
        if self._scripts is None:
            try:
                data = json.loads(self._read("package.json") or "{}")
            except ValueError:
                data = {}
            scripts = data.get("scripts") if isinstance(data, dict) else None
            self._scripts = scripts if isinstance(scripts, dict) else {}
        return self._scripts

    def _read(self, path: str) -> str | None:
        try:
            return self.repo.read_text(path) if self.repo.exists(path) else None
        except FileReadError:
            return None
