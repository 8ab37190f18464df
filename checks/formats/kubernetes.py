"""Kubernetes manifests of a repo: long-running workloads, autoscalers and disruption budgets.

Read from plain YAML (multi-document files and ``kind: List`` included), from kustomize layouts
(patches and ``replicas:`` overrides of production overlays applied over their base), and from
Helm charts when a ``helm`` binary can render them. Every object keeps its file and line. What
cannot be read is kept beside the results: manifest files that do not parse (``errors``) and Helm
charts that could not be rendered (``unrendered_charts``), so checks never pass on a guess.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from prr.checks.formats import files
from prr.checks.formats.nodes import mapping
from prr.checks.formats.yamlfile import TEMPLATE_LINE, FormatError, YList, YMap, get, line_of, load_documents
from prr.plugin import Evidence, Result, errored, failed, not_applicable, passed, warned
from prr.repo import FileReadError, RepoSnapshot

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Rollout")
REPLICATED_KINDS = ("Deployment", "StatefulSet", "Rollout")  # DaemonSets run one pod per node
KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
# Kustomize overlays for environments that are not production: their patches are not applied.
NON_PRODUCTION_OVERLAYS = (
    "dev",
    "development",
    "local",
    "staging",
    "stage",
    "qa",
    "sandbox",
    "preview",
    "test",
    "testing",
)
HELM_TIMEOUT_SECONDS = 60
_API_VERSION_LINE = re.compile(r"^\s*apiVersion:", re.M)
# A file that does not parse matters only if it may hold what these checks judge.
_KIND_LINE = re.compile(
    r"^\s*kind:\s*[\"']?(Deployment|StatefulSet|DaemonSet|Rollout|HorizontalPodAutoscaler"
    r"|PodDisruptionBudget|ScaledObject|List)\b",
    re.M,
)


class Located(Protocol):
    """A manifest item that knows its file and line (None when Helm rendered it)."""

    path: str
    line: int | None


def evidence_at(item: Located, value: str) -> Evidence:
    """Evidence pointing at the item's file and line."""
    return Evidence(path=item.path, line=item.line, value=value)


@dataclass
class Container:
    name: str
    path: str
    line: int | None
    spec: dict[str, Any]  # the container as deployed: kustomize patches merged in


@dataclass
class Replicas:
    """One ``replicas`` setting of a workload: the manifest's own, or an overlay's override."""

    value: Any  # an int; None when not written (Kubernetes runs 1); anything else is undecidable
    path: str
    line: int | None


@dataclass
class Workload:
    kind: str
    name: str
    namespace: str | None
    path: str
    line: int | None
    replicas: list[Replicas]  # one per production variant (overlays), else the manifest's
    pod_labels: dict[str, str]
    containers: list[Container] | None  # None when the pod template is elsewhere and not found
    chart: str | None = None  # the Helm chart folder it was rendered from
    workload_ref: tuple[str, str] | None = None  # (kind, name) of an Argo Rollout's workloadRef
    unresolved: str | None = None  # why the pod template is unknown

    @property
    def ref(self) -> str:
        return f"{self.kind}/{self.name}"


@dataclass
class Autoscaler:
    """A HorizontalPodAutoscaler (or KEDA ScaledObject) and the workload it scales."""

    kind: str
    name: str
    namespace: str | None
    path: str
    line: int | None
    target_kind: str
    target_name: str
    min_replicas: Any  # int, or whatever was written
    min_line: int | None


@dataclass
class DisruptionBudget:
    name: str
    namespace: str | None
    path: str
    line: int | None
    selector: Any  # the label selector as written; None selects nothing

    def covers(self, workload: Workload) -> bool:
        return same_namespace(self.namespace, workload.namespace) and selector_matches(
            self.selector, workload.pod_labels
        )


@dataclass
class Chart:
    path: str  # the chart folder ("" at the repo root)
    reason: str  # why it was not rendered

    @property
    def name(self) -> str:
        return self.path or "(repo root)"


@dataclass
class Manifests:
    workloads: list[Workload] = field(default_factory=list)
    autoscalers: list[Autoscaler] = field(default_factory=list)
    pdbs: list[DisruptionBudget] = field(default_factory=list)
    errors: list[FormatError] = field(default_factory=list)  # manifest files that could not be read
    unrendered_charts: list[Chart] = field(default_factory=list)

    def autoscaler_for(self, workload: Workload) -> Autoscaler | None:
        """The autoscaler targeting the workload; when several could (apps in separate folders
        reuse names), the one in its own namespace, then the one in its own folder."""
        candidates = [
            a
            for a in self.autoscalers
            if a.target_kind == workload.kind
            and a.target_name == workload.name
            and same_namespace(a.namespace, workload.namespace)
        ]
        folder = posixpath.dirname(workload.path)
        return min(
            candidates,
            default=None,
            key=lambda a: (a.namespace != workload.namespace, posixpath.dirname(a.path) != folder),
        )

    def pdbs_for(self, workload: Workload) -> list[DisruptionBudget]:
        return [p for p in self.pdbs if p.covers(workload)]


# -- entry points ------------------------------------------------------------------------------
def manifests_for(repo: RepoSnapshot, config: dict[str, Any] | None = None) -> Manifests:
    """The repo's manifests, with the non-production folders of the portal config if it sets them."""
    dirs = ((config or {}).get("scan") or {}).get("non_production_dirs")
    return load_manifests(repo, tuple(dirs) if dirs is not None else None)


def load_manifests(repo: RepoSnapshot, non_production_dirs: tuple[str, ...] | None = None) -> Manifests:
    """Every production Kubernetes object of the repo (cached per snapshot and folder list)."""
    key = ("kubernetes", non_production_dirs)
    if key not in repo.cache:
        repo.cache[key] = _Loader(repo, non_production_dirs).load()
    return repo.cache[key]


def is_excluded(path: str, non_production_dirs: tuple[str, ...] | None) -> bool:
    return files.is_non_production(path, non_production_dirs)


def same_namespace(a: str | None, b: str | None) -> bool:
    """Objects that leave the namespace out land in the one they are applied to: they match any."""
    return a is None or b is None or a == b


def selector_matches(selector: Any, labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics; an empty selector matches everything, null nothing."""
    if not isinstance(selector, dict):
        return False
    match_labels = selector.get("matchLabels") or {}
    if not isinstance(match_labels, dict):
        return False
    if any(labels.get(str(k)) != _label(v) for k, v in match_labels.items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        if not isinstance(expr, dict):
            return False
        key, op = str(expr.get("key")), str(expr.get("operator"))
        values = [_label(v) for v in expr.get("values") or []]
        present = key in labels
        ok = {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels.get(key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }.get(op, False)
        if not ok:
            return False
    return True


def _label(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- loading -----------------------------------------------------------------------------------
@dataclass
class _Patch:
    kind: str
    name: str
    doc: YMap
    path: str
    line: int | None
    inline: bool  # written inside a kustomization: its own lines are not the file's


class _Loader:
    def __init__(self, repo: RepoSnapshot, non_production_dirs: tuple[str, ...] | None):
        self.repo = repo
        self.dirs = non_production_dirs
        self.out = Manifests()
        self.patch_files: set[str] = set()
        self.patches: list[_Patch] = []
        self.replica_overrides: list[tuple[str, Replicas]] = []  # (workload name, override)

    def load(self) -> Manifests:
        yaml_paths = [p for p in self.repo.glob(*files.YAML_PATTERNS) if not is_excluded(p, self.dirs)]
        charts = self._charts()
        chart_dirs = [posixpath.join(c, sub) for c in charts for sub in ("templates", "charts")]

        def in_chart(path: str) -> bool:
            return any(_under(path, d) for d in chart_dirs)

        for path in yaml_paths:
            if posixpath.basename(path) in KUSTOMIZATION_FILES and not in_chart(path):
                self._read_kustomization(path)
        for chart in charts:
            self._read_chart(chart)
        for path in yaml_paths:
            if in_chart(path) or path in self.patch_files or posixpath.basename(path) in KUSTOMIZATION_FILES:
                continue
            docs = self._read_file(path)
            for obj, line in _objects(docs):
                self._add(obj, path, line)
        self._apply_patches()
        self._resolve_workload_refs()
        return self.out

    def _read_file(self, path: str) -> list[Any]:
        try:
            return files.read_yaml(self.repo, path)
        except FormatError as exc:
            error = exc
            text = self._text(path)
            if text is not None and _API_VERSION_LINE.search(text) and _KIND_LINE.search(text):
                if template := TEMPLATE_LINE.search(text):
                    line = text.count("\n", 0, template.start()) + 1
                    what = text.splitlines()[line - 1].strip()
                    error = FormatError(path, line, f"templated file, not plain YAML: {what}")
                self.out.errors.append(error)
            return []

    def _text(self, path: str) -> str | None:
        try:
            return self.repo.read_text(path)
        except FileReadError:
            return None

    # -- objects -------------------------------------------------------------------------------
    def _add(self, obj: YMap, path: str, line: int | None, chart: str | None = None) -> None:
        """Record one object; ``chart`` when Helm rendered it (its lines are not the template's)."""
        kind, api = obj.get("kind"), str(obj.get("apiVersion"))
        meta = mapping(obj.get("metadata"))
        name, namespace = str(meta.get("name") or ""), _str(meta.get("namespace"))
        spec = mapping(obj.get("spec"))
        if kind in WORKLOAD_KINDS and (kind != "Rollout" or api.startswith("argoproj.io/")):
            workload = _workload(obj, kind, name, namespace, spec, path, line)
            if workload is not None and chart is not None:
                workload.chart = chart
                workload.line = None
                placed: list[Located] = [*workload.replicas, *(workload.containers or [])]
                for item in placed:
                    item.line = None
            if workload is not None:
                self.out.workloads.append(workload)
        elif kind == "HorizontalPodAutoscaler" or (kind == "ScaledObject" and api.startswith("keda.sh/")):
            target = mapping(spec.get("scaleTargetRef"))
            keda = kind == "ScaledObject"
            min_key = "minReplicaCount" if keda else "minReplicas"
            self.out.autoscalers.append(
                Autoscaler(
                    kind=kind,
                    name=name,
                    namespace=namespace,
                    path=path,
                    line=line,
                    target_kind=str(target.get("kind") or ("Deployment" if keda else "")),
                    target_name=str(target.get("name") or ""),
                    min_replicas=spec.get(min_key, 0 if keda else 1),
                    min_line=None if chart else _line(spec, min_key, line),
                )
            )
        elif kind == "PodDisruptionBudget":
            self.out.pdbs.append(DisruptionBudget(name, namespace, path, line, spec.get("selector")))

    # -- kustomize -----------------------------------------------------------------------------
    def _read_kustomization(self, path: str) -> None:
        docs = self._read_file(path)
        if not docs or not isinstance(docs[0], YMap):
            return
        kustomization, folder = docs[0], posixpath.dirname(path)
        production = not _is_dev_overlay(folder)
        entries: list[tuple[Any, int | None]] = []
        for key in ("patchesStrategicMerge", "patches", "patchesJson6902"):
            items = kustomization.get(key)
            if isinstance(items, YList):
                entries += [(item, items.line_of(i)) for i, item in enumerate(items)]
        for item, item_line in entries:
            ref = item.get("path") if isinstance(item, dict) else item
            inline = item.get("patch") if isinstance(item, dict) else None
            patch_text = inline or ref
            if isinstance(ref, str) and "\n" not in ref:
                patch_path = posixpath.normpath(posixpath.join(folder, ref))
                self.patch_files.add(patch_path)
                if production and self.repo.exists(patch_path):
                    self._add_patches(self._read_file(patch_path), patch_path, None)
            elif production and isinstance(patch_text, str):
                # A JSON6902 op list or a broken inline patch is not a strategic merge patch.
                with contextlib.suppress(FormatError):
                    self._add_patches(load_documents(patch_text, path), path, item_line)
        replicas = kustomization.get("replicas")
        if production and isinstance(replicas, YList):
            for i, item in enumerate(replicas):
                if isinstance(item, dict) and item.get("name"):
                    self.replica_overrides.append(
                        (str(item["name"]), Replicas(item.get("count"), path, replicas.line_of(i)))
                    )

    def _add_patches(self, docs: list[Any], path: str, line: int | None) -> None:
        for obj, obj_line in _objects(docs):
            if obj.get("kind") in WORKLOAD_KINDS and get(obj, "metadata", "name"):
                self.patches.append(
                    _Patch(
                        obj["kind"], str(obj["metadata"]["name"]), obj, path, line or obj_line, inline=line is not None
                    )
                )

    def _apply_patches(self) -> None:
        for workload in self.out.workloads:
            mine = [p for p in self.patches if p.kind == workload.kind and p.name == workload.name]
            overrides = [
                Replicas(
                    p.doc["spec"]["replicas"], p.path, p.line if p.inline else _line(p.doc["spec"], "replicas", p.line)
                )
                for p in mine
                if isinstance(p.doc.get("spec"), dict) and "replicas" in p.doc["spec"]
            ]
            overrides += [r for name, r in self.replica_overrides if name == workload.name]
            if overrides and workload.kind in REPLICATED_KINDS:
                workload.replicas = overrides
            for patch in mine:
                patch_containers = get(patch.doc, "spec", "template", "spec", "containers", default=[])
                for pc in patch_containers if isinstance(patch_containers, list) else []:
                    target = next(
                        (
                            c
                            for c in workload.containers or []
                            if isinstance(pc, dict) and c.name == str(pc.get("name"))
                        ),
                        None,
                    )
                    if target is not None:
                        target.spec = _merge(target.spec, pc)

    def _resolve_workload_refs(self) -> None:
        """An Argo Rollout with ``workloadRef`` runs the pods of the Deployment it names.

        That Deployment is scaled to zero by Argo, so it is not a workload of its own.
        """
        for rollout, (ref_kind, ref_name) in [(w, w.workload_ref) for w in self.out.workloads if w.workload_ref]:
            source = next(
                (
                    w
                    for w in self.out.workloads
                    if w.kind == ref_kind and w.name == ref_name and same_namespace(w.namespace, rollout.namespace)
                ),
                None,
            )
            if source is None:
                rollout.unresolved = f"its workloadRef {ref_kind}/{ref_name} is not in the repo"
                continue
            rollout.containers, rollout.pod_labels, rollout.unresolved = source.containers, source.pod_labels, None
            self.out.workloads.remove(source)

    # -- Helm ------------------------------------------------------------------------------------
    def _charts(self) -> list[str]:
        """Folders holding a ``Chart.yaml`` (subcharts are rendered with their parent)."""
        found = sorted(posixpath.dirname(p) for p in self.repo.glob("**/Chart.yaml") if not is_excluded(p, self.dirs))
        return [c for c in found if not any(_under(c, o) for o in found if o != c)]

    def _read_chart(self, chart: str) -> None:
        prefix = f"{chart}/" if chart else ""
        templates = [p for p in self.repo.files() if _under(p, prefix + "templates")]
        texts = {p: self._text(p) or "" for p in templates}
        try:
            chart_type = get(files.read_yaml(self.repo, prefix + "Chart.yaml")[0], "type")
        except (FormatError, IndexError):
            chart_type = None
        if chart_type == "library":
            return
        if not any("{{" in t for t in texts.values()):
            for path in templates:
                if path.endswith((".yaml", ".yml")):
                    for obj, line in _objects(self._read_file(path)):
                        self._add(obj, path, line)
            return
        rendered = render_chart(self.repo, chart)
        if isinstance(rendered, str):
            self.out.unrendered_charts.append(Chart(chart, rendered))
            return
        for source, obj in rendered:
            self._add(obj, source, None, chart=chart or ".")


def render_chart(repo: RepoSnapshot, chart: str) -> list[tuple[str, YMap]] | str:
    """The objects ``helm template`` renders from the chart with its default values, each with
    the repo path of the template it came from; or why it could not be rendered."""
    helm = shutil.which("helm")
    if helm is None:
        return "no helm binary to render it"
    prefix = f"{chart}/" if chart else ""
    with tempfile.TemporaryDirectory(prefix="prr-helm-") as tmp:
        root = Path(tmp) / "chart"
        try:
            for path in repo.files():
                if _under(path, chart):
                    target = root / path[len(prefix) :]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(repo.read_bytes(path))
        except FileReadError as exc:
            return f"{exc}"
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": tmp,
            "HELM_CACHE_HOME": f"{tmp}/cache",
            "HELM_CONFIG_HOME": f"{tmp}/config",
            "HELM_DATA_HOME": f"{tmp}/data",
        }
        try:
            proc = subprocess.run(
                [helm, "template", "release", str(root)],
                capture_output=True,
                text=True,
                timeout=HELM_TIMEOUT_SECONDS,
                env=env,
                cwd=tmp,
            )
        except subprocess.TimeoutExpired:
            return f"helm template took over {HELM_TIMEOUT_SECONDS}s"
        except OSError as exc:
            return f"helm could not run: {exc}"
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        return f"helm template failed: {lines[-1] if lines else f'exit {proc.returncode}'}"
    try:
        docs = load_documents(proc.stdout, f"{chart or '.'} (rendered)")
    except FormatError as exc:
        return f"helm template output is not YAML: {exc}"
    sources = [
        (i + 1, m[1])
        for i, text in enumerate(proc.stdout.splitlines())
        if (m := re.match(r"#\s*Source:\s*(\S+)", text))
    ]
    out = []
    for obj, line in _objects(docs):
        source = next((s for at, s in reversed(sources) if at < (line or 0)), None)
        path = prefix + source.split("/", 1)[1] if source and "/" in source else prefix + "Chart.yaml"
        out.append((path, obj))
    return out


# -- helpers ------------------------------------------------------------------------------------
def _objects(docs: list[Any]) -> Iterator[tuple[YMap, int | None]]:
    """Kubernetes objects (apiVersion + kind) of parsed documents, ``kind: List`` items included."""
    for doc in docs:
        if not isinstance(doc, YMap) or not isinstance(doc.get("kind"), str) or "apiVersion" not in doc:
            continue
        if doc["kind"].endswith("List") and isinstance(doc.get("items"), list):
            yield from _objects(doc["items"])
        else:
            yield doc, line_of(doc)


def _workload(
    obj: YMap, kind: str, name: str, namespace: str | None, spec: YMap, path: str, line: int | None
) -> Workload | None:
    """A workload; None for a partial object (a kustomize patch) that has no pod template."""
    template = spec.get("template")
    ref = spec.get("workloadRef")
    replicas = [Replicas(spec.get("replicas"), path, _line(spec, "replicas", line))]
    if kind == "Rollout" and not isinstance(template, dict) and isinstance(ref, dict) and ref.get("name"):
        return Workload(
            kind,
            name,
            namespace,
            path,
            line,
            replicas,
            {},
            None,
            workload_ref=(str(ref.get("kind") or "Deployment"), str(ref["name"])),
        )
    if not isinstance(template, dict):
        return None
    labels = get(template, "metadata", "labels", default={})
    containers = get(template, "spec", "containers", default=[])
    containers = containers if isinstance(containers, list) else []
    return Workload(
        kind,
        name,
        namespace,
        path,
        line,
        replicas,
        {str(k): _label(v) for k, v in labels.items()} if isinstance(labels, dict) else {},
        [
            Container(
                str(c.get("name") or f"#{i + 1}"),
                path,
                containers.line_of(i) if isinstance(containers, YList) else line,
                dict(c),
            )
            for i, c in enumerate(containers)
            if isinstance(c, dict)
        ],
    )


def _line(node: Any, key: str, fallback: int | None) -> int | None:
    return node.line_of(key) if isinstance(node, YMap) and key in node else fallback


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in patch.items():
        out[key] = _merge(out[key], value) if isinstance(out.get(key), dict) and isinstance(value, dict) else value
    return out


def _under(path: str, folder: str) -> bool:
    return folder == "" or path.startswith(folder + "/")


def _is_dev_overlay(folder: str) -> bool:
    return any(part in NON_PRODUCTION_OVERLAYS for part in folder.split("/"))


def _str(value: Any) -> str | None:
    return str(value) if value is not None else None


# -- verdicts shared by the resilience.* checks ------------------------------------------------
NO_WORKLOADS = (
    "no Kubernetes manifests with long-running workloads (Deployment, StatefulSet, "
    "DaemonSet, Argo Rollout); Jobs and CronJobs are left out"
)
NO_REPLICATED_WORKLOADS = (
    "no Kubernetes manifests with replicated workloads (Deployment, StatefulSet, "
    "Argo Rollout); DaemonSets, Jobs and CronJobs are left out"
)


def all_containers(manifests: Manifests) -> tuple[list[tuple[Workload, Container]], list[Evidence]]:
    """The containers (not initContainers) of every workload, and the workloads whose pod
    template could not be found or holds no container, as evidence of what is undecided."""
    found: list[tuple[Workload, Container]] = []
    undecided: list[Evidence] = []
    for workload in manifests.workloads:
        if workload.containers is None:
            undecided.append(
                Evidence(path=workload.path, line=workload.line, value=f"{workload.ref}: {workload.unresolved}")
            )
        elif not workload.containers:
            undecided.append(
                Evidence(
                    path=workload.path,
                    line=workload.line,
                    value=f"{workload.ref}: its pod template lists no containers",
                )
            )
        found += [(workload, c) for c in workload.containers or []]
    return found, undecided


@dataclass
class ContainerFindings:
    failures: list[Evidence]  # one per container lacking something
    passing: list[Evidence]  # one per container lacking nothing
    lacking: dict[str, int]  # need -> how many containers lack it


def judge_containers(
    containers: list[tuple[Workload, Container]],
    needs: Iterable[str],
    missing_of: Callable[[Container], list[str]],
    describe: Callable[[list[str]], str],
) -> ContainerFindings:
    """What each container lacks of ``needs`` (``missing_of``), as evidence and counts per need."""
    findings = ContainerFindings([], [], dict.fromkeys(needs, 0))
    for workload, container in containers:
        missing = missing_of(container)
        label = f"{workload.ref} container {container.name}"
        if missing:
            findings.failures.append(evidence_at(container, f"{label}: {describe(missing)}"))
        else:
            findings.passing.append(evidence_at(container, label))
        for need in missing:
            findings.lacking[need] += 1
    return findings


def count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def lack_summary(counts: dict[str, int], total: int) -> str:
    """``{"a livenessProbe": 2}, 3`` → ``"2 of 3 containers lack a livenessProbe"``."""
    noun = "container" if total == 1 else "containers"
    parts = [f"{n} of {total} {noun} {'lacks' if n == 1 else 'lack'} {what}" for what, n in counts.items() if n]
    return "; ".join(parts)


def verdict(
    manifests: Manifests,
    subjects: int,
    *,
    failures: list[Evidence],
    undecided: list[Evidence],
    fail_summary: str,
    pass_summary: str,
    evidence: list[Evidence],
    none_summary: str = NO_WORKLOADS,
    unreadable_may_decide: bool = False,
    **details: Any,
) -> Result:
    """The result of a resilience check from what it found.

    ``failures`` are decided problems, ``undecided`` what could not be judged (a templated value,
    a pod template that is elsewhere). Manifest files that do not parse make the check ``error``
    unless a decided failure stands anyway; with ``unreadable_may_decide`` (the missing HPA or
    PodDisruptionBudget could be in them) they turn failures into ``error`` too. Helm charts that
    could not be rendered turn a pass into ``warn``: resilience not verified.
    """
    broken = [e.evidence() for e in manifests.errors]
    charts = [
        Evidence(path=posixpath.join(c.path, "Chart.yaml"), line=1, value=c.reason) for c in manifests.unrendered_charts
    ]
    details = {
        **details,
        "unreadable_files": [str(e) for e in manifests.errors],
        "unrendered_charts": [c.name for c in manifests.unrendered_charts],
    }
    unverified = "; ".join(
        f"Helm chart {c.name} could not be rendered ({c.reason}); resilience not verified"
        for c in manifests.unrendered_charts
    )
    if subjects == 0:
        if broken:
            return errored(f"could not decide: {manifests.errors[0]}" + _more(broken), broken, **details)
        if charts:
            return warned(unverified, charts, **details)
        return not_applicable(none_summary, **details)
    if failures and not (broken and unreadable_may_decide):
        return failed(fail_summary, failures + undecided, **details)
    if failures:
        return errored(
            f"{fail_summary}, but {manifests.errors[0].path} does not parse and may hold what is missing",
            failures + broken,
            **details,
        )
    if undecided or broken:
        first = str(undecided[0].value) if undecided else str(manifests.errors[0])
        return errored(f"could not decide: {first}" + _more(undecided + broken), undecided + broken, **details)
    if charts:
        return warned(f"{pass_summary}; {unverified}", evidence + charts, **details)
    return passed(pass_summary, evidence, **details)


def _more(items: list[Any]) -> str:
    return f" (and {len(items) - 1} more)" if len(items) > 1 else ""
