"""resilience.replicas / probes / resources / pdb over realistic repos."""

from __future__ import annotations

import pytest

from prr.plugin import Status
from tests.checks.cases import NOW, case_repo
from tests.conftest import run_check
from tests.test_formats_kubernetes import deployment, fake_helm, only_git_on_path

CHECKS = ("resilience.replicas", "resilience.probes", "resilience.resources", "resilience.pdb")
HEALTHY = """
          readinessProbe:
            httpGet: {path: /ready, port: 8080}
          livenessProbe:
            httpGet: {path: /healthz, port: 8080}
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {memory: 256Mi}"""


def pdb(name: str, namespace: str | None = None) -> str:
    ns = f"\n  namespace: {namespace}" if namespace else ""
    return (
        f"apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: {name}{ns}\nspec:\n"
        f"  maxUnavailable: 1\n  selector:\n    matchLabels:\n      app: {name}\n"
    )


def hpa(target: str, min_replicas: int) -> str:
    return (
        f"apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: {target}\nspec:\n"
        f"  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: {target}\n"
        f"  minReplicas: {min_replicas}\n  maxReplicas: 10\n"
    )


# -- whole repos ----------------------------------------------------------------------------------------


# -- small repos for the edges ----------------------------------------------------------------------
WEB = deployment("web", replicas=3, extra=HEALTHY)
EDGE_CASES = [
    # (id, files, check, params, config, status, summary fragment, evidence (path, line))
    (
        "hpa-overrides-replicas",
        {"k8s/web.yaml": WEB + "---\n" + hpa("web", 1)},
        "resilience.replicas",
        None,
        None,
        "fail",
        "below 2 replicas: Deployment/web",
        [("k8s/web.yaml", 33)],
    ),
    (
        "hpa-lifts-missing-replicas",
        {"k8s/web.yaml": deployment("web", replicas=None) + "---\n" + hpa("web", 2)},
        "resilience.replicas",
        None,
        None,
        "pass",
        "(1 workload)",
        [("k8s/web.yaml", 25)],
    ),
    (
        "param-min-replicas",
        {"k8s/web.yaml": WEB},
        "resilience.replicas",
        {"min_replicas": 4},
        None,
        "fail",
        "1 of 1 workload below 4 replicas",
        [("k8s/web.yaml", 6)],
    ),
    (
        "templated-replicas",
        {"k8s/web.yaml": deployment("web", replicas="${REPLICAS}")},
        "resilience.replicas",
        None,
        None,
        "error",
        "could not decide: Deployment/web: replicas '${REPLICAS}' is not a number",
        [("k8s/web.yaml", 6)],
    ),
    (
        "daemonset-only-replicas",
        {"k8s/agent.yaml": WEB.replace("Deployment", "DaemonSet").replace("  replicas: 3\n", "")},
        "resilience.replicas",
        None,
        None,
        "not_applicable",
        "DaemonSets, Jobs and CronJobs are left out",
        [],
    ),
    (
        "daemonset-only-pdb",
        {"k8s/agent.yaml": WEB.replace("Deployment", "DaemonSet").replace("  replicas: 3\n", "")},
        "resilience.pdb",
        None,
        None,
        "not_applicable",
        "no Kubernetes manifests",
        [],
    ),
    (
        "daemonset-only-probes",
        {"k8s/agent.yaml": WEB.replace("Deployment", "DaemonSet").replace("  replicas: 3\n", "")},
        "resilience.probes",
        None,
        None,
        "pass",
        "(1 container)",
        [("k8s/agent.yaml", 13)],
    ),
    # a manifest that does not parse may hold the missing HPA / PDB: not a verdict
    (
        "broken-file-may-hold-hpa",
        {
            "k8s/web.yaml": deployment("web", replicas=None, extra=HEALTHY),
            "k8s/hpa.yaml": "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n"
            "spec:\n  minReplicas: 3\n   maxReplicas: 9\n",
        },
        "resilience.replicas",
        None,
        None,
        "error",
        "but k8s/hpa.yaml does not parse",
        [("k8s/hpa.yaml", 5)],
    ),
    (
        "broken-file-may-hold-pdb",
        {"k8s/web.yaml": WEB, "k8s/pdb.yaml": pdb("web") + "  - oops\n"},
        "resilience.pdb",
        None,
        None,
        "error",
        "but k8s/pdb.yaml does not parse",
        [("k8s/web.yaml", 1)],
    ),
    # ...but it cannot give a parsed container the probe it lacks
    (
        "broken-file-probes-still-fail",
        {"k8s/web.yaml": deployment("web"), "k8s/pdb.yaml": pdb("web") + "  - oops\n"},
        "resilience.probes",
        None,
        None,
        "fail",
        "1 of 1 container lacks a readinessProbe",
        [("k8s/web.yaml", 14)],
    ),
    (
        "broken-file-resources-pass-undecided",
        {"k8s/web.yaml": WEB, "k8s/other.yaml": "apiVersion: apps/v1\nkind: Deployment\n:\n"},
        "resilience.resources",
        None,
        None,
        "error",
        "could not decide: k8s/other.yaml",
        [("k8s/other.yaml", 3)],
    ),
    (
        "pdb-other-namespace",
        {
            "k8s/web.yaml": WEB.replace("  name: web\n", "  name: web\n  namespace: shop\n", 1),
            "k8s/pdb.yaml": pdb("web", namespace="checkout"),
        },
        "resilience.pdb",
        None,
        None,
        "fail",
        "without a PodDisruptionBudget: Deployment/web",
        [("k8s/web.yaml", 1)],
    ),
    (
        "pdb-selector-mismatch",
        {"k8s/web.yaml": WEB, "k8s/pdb.yaml": pdb("api")},
        "resilience.pdb",
        None,
        None,
        "fail",
        "Deployment/web",
        [("k8s/web.yaml", 1)],
    ),
    (
        "limits-stand-for-requests",
        {
            "k8s/web.yaml": WEB.replace("requests: {cpu: 100m, memory: 128Mi}", "requests: {}").replace(
                "limits: {memory: 256Mi}", "limits: {cpu: 500m, memory: 256Mi}"
            )
        },
        "resilience.resources",
        None,
        None,
        "pass",
        "(1 container)",
        [("k8s/web.yaml", 14)],
    ),
    (
        "no-cpu-request",
        {"k8s/web.yaml": WEB.replace("cpu: 100m, ", "")},
        "resilience.resources",
        None,
        None,
        "fail",
        "1 of 1 container lacks a CPU request",
        [("k8s/web.yaml", 14)],
    ),
    # only the staging overlay adds the memory limit: production has none
    (
        "kustomize-staging-patch-ignored",
        {
            "base/web.yaml": WEB.replace("            limits: {memory: 256Mi}\n", ""),
            "base/kustomization.yaml": "resources: [web.yaml]\n",
            "overlays/staging/kustomization.yaml": "resources: [../../base]\npatches:\n  - path: limits.yaml\n",
            "overlays/staging/limits.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
            "  template:\n    spec:\n      containers:\n        - name: web\n          resources:\n"
            "            limits: {memory: 1Gi}\n",
        },
        "resilience.resources",
        None,
        None,
        "fail",
        "1 of 1 container lacks a memory limit",
        [("base/web.yaml", 14)],
    ),
    (
        "rollout-missing-workload-ref",
        {
            "k8s/r.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n"
            "  name: web\nspec:\n  replicas: 3\n  workloadRef:\n    apiVersion: apps/v1\n"
            "    kind: Deployment\n    name: web-pods\n"
        },
        "resilience.probes",
        None,
        None,
        "error",
        "Rollout/web: its workloadRef Deployment/web-pods is not in the repo",
        [("k8s/r.yaml", 1)],
    ),
    (
        "rollout-missing-workload-ref-pdb",
        {
            "k8s/r.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\n"
            "metadata: {name: web}\nspec:\n  replicas: 3\n"
            "  workloadRef: {kind: Deployment, name: web-pods}\n"
        },
        "resilience.pdb",
        None,
        None,
        "error",
        "is not in the repo",
        [("k8s/r.yaml", 1)],
    ),
    (
        "configured-non-production-dirs",
        {"k8s/web.yaml": deployment("web", replicas=1)},
        "resilience.replicas",
        None,
        {"scan": {"non_production_dirs": ["k8s"]}},
        "not_applicable",
        "no Kubernetes manifests",
        [],
    ),
    (
        "examples-ignored",
        {"examples/web.yaml": deployment("web", replicas=1), "deploy/web.yaml": WEB},
        "resilience.replicas",
        None,
        None,
        "pass",
        "(1 workload)",
        [("deploy/web.yaml", 6)],
    ),
]


@pytest.mark.parametrize(
    "files, check_id, params, config, status, summary, evidence",
    [c[1:] for c in EDGE_CASES],
    ids=[c[0] for c in EDGE_CASES],
)
def test_edges(make_repo, files, check_id, params, config, status, summary, evidence):
    result = run_check(check_id, make_repo(files), params=params, config=config, now=NOW)
    assert (result.status.value, summary in result.summary) == (status, True), result.summary
    found = {(e.path, e.line) for e in result.evidence}
    assert set(evidence) <= found, found


# -- Helm ---------------------------------------------------------------------------------------------
def test_unrendered_chart_turns_a_pass_into_warn(tmp_path, monkeypatch):
    only_git_on_path(tmp_path, monkeypatch)
    repo = case_repo("resilience.replicas/helm-chart", tmp_path)
    repo.commit({"deploy/web.yaml": WEB + "---\n" + pdb("web")}, "plain manifests too")
    for check_id in CHECKS:
        result = run_check(check_id, repo, now=NOW)
        assert result.status.value == "warn", (check_id, result.summary)
        assert result.summary.endswith(
            "Helm chart charts/billing could not be rendered (no helm binary to render it); resilience not verified"
        )
        assert result.details["unrendered_charts"] == ["charts/billing"]


def test_unrendered_chart_does_not_hide_a_failure(tmp_path, monkeypatch):
    only_git_on_path(tmp_path, monkeypatch)
    repo = case_repo("resilience.replicas/helm-chart", tmp_path)
    repo.commit({"deploy/web.yaml": deployment("web", replicas=1)}, "a single replica")
    assert run_check("resilience.replicas", repo, now=NOW).status.value == "fail"


@pytest.mark.parametrize("replicas, status", [(2, "pass"), (1, "fail")])
def test_rendered_chart_is_judged(tmp_path, monkeypatch, replicas, status):
    rendered = "---\n# Source: billing/templates/deployment.yaml\n" + deployment(
        "release-billing", replicas=replicas, extra=HEALTHY
    )
    fake_helm(tmp_path, monkeypatch, f"printf '%s' '{rendered}'\n")
    result = run_check("resilience.replicas", case_repo("resilience.replicas/helm-chart", tmp_path), now=NOW)
    assert result.status.value == status, result.summary
    assert [e.path for e in result.evidence] == ["charts/billing/templates/deployment.yaml"]


def test_a_broken_file_that_cannot_hold_workloads_does_not_make_them_undecided(make_repo) -> None:
    repo = make_repo({"k8s/web.yaml": WEB, "slo/web.yaml": "apiVersion: openslo/v1\nkind: SLO\nspec:\n  - a\n  b: c\n"})
    for check_id in ("resilience.replicas", "resilience.probes", "resilience.resources"):
        assert run_check(check_id, repo, now=NOW).status == Status.PASS, check_id
