"""Reading Kubernetes manifests: objects, lines, kustomize, Argo Rollouts, Helm charts."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from prr.checks.formats.kubernetes import Manifests, load_manifests, manifests_for, selector_matches
from prr.repo import open_snapshot
from tests.checks.cases import case_repo


def manifests(builder, config=None) -> Manifests:
    return manifests_for(open_snapshot(str(builder.path)), config)


def deployment(name: str, *, replicas: int | str | None = 2, labels: str = "", extra: str = "") -> str:
    """A complete Deployment as a team writes it, with knobs for the tests."""
    replicas_line = f"\n  replicas: {replicas}" if replicas is not None else ""
    return (
        f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:{replicas_line}\n"
        f"  selector:\n    matchLabels: {{app: {name}}}\n"
        f"  template:\n    metadata:\n      labels: {{app: {name}{labels}}}\n"
        f"    spec:\n      containers:\n        - name: {name}\n          image: ghcr.io/acme/{name}:1.0.0{extra}\n"
    )


# -- objects and lines -----------------------------------------------------------------------------
def test_plain_fixture_reads_workloads_pdbs_and_lines(tmp_path):
    m = manifests(case_repo("resilience.replicas/plain-ready", tmp_path))
    refs = {w.ref: w for w in m.workloads}
    assert set(refs) == {"Deployment/checkout", "StatefulSet/ledger", "DaemonSet/payments-node-agent"}
    checkout = refs["Deployment/checkout"]
    assert (checkout.path, checkout.line, checkout.namespace) == ("deploy/checkout.yaml", 2, "payments")
    assert [(c.name, c.line) for c in checkout.containers] == [("checkout", 30), ("envoy", 47)]  # no initContainers
    assert [(r.value, r.line) for r in checkout.replicas] == [(3, 10)]
    ledger = refs["StatefulSet/ledger"]  # from a `kind: List`
    assert (ledger.path, ledger.line, ledger.pod_labels) == ("deploy/ledger.yaml", 4, {"app": "ledger", "tier": "data"})
    assert sorted((p.name, p.path, p.line) for p in m.pdbs) == [
        ("checkout", "deploy/checkout.yaml", 69),
        ("ledger", "deploy/ledger.yaml", 33),
    ]
    assert [p.name for p in m.pdbs_for(ledger)] == ["ledger"]
    assert m.errors == [] and m.unrendered_charts == []


@pytest.mark.parametrize(
    "config, expected",
    [
        (None, {"Deployment/live", "Deployment/old"}),  # examples/, test/, hack/... are not production
        ({"scan": {"non_production_dirs": ["legacy"]}}, {"Deployment/live", "Deployment/example", "Deployment/e2e"}),
        ({"scan": {"non_production_dirs": ["legacy", "deploy"]}}, {"Deployment/example", "Deployment/e2e"}),
    ],
)
def test_non_production_folders_are_configurable(make_repo, config, expected):
    repo = make_repo(
        {
            "deploy/live.yaml": deployment("live"),
            "examples/basic/example.yaml": deployment("example"),
            "test/e2e/e2e.yaml": deployment("e2e"),
            "legacy/old.yaml": deployment("old"),
        }
    )
    assert {w.ref for w in manifests(repo, config).workloads} == expected


@pytest.mark.parametrize(
    "files, expected_refs",
    [
        # Jobs, CronJobs, Services, CRDs: not workloads
        (
            {
                "k8s/job.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: once}\nspec:\n  template:\n"
                "    spec:\n      containers: [{name: a, image: a}]\n"
            },
            set(),
        ),
        # a partial Deployment without a pod template is a patch, not a workload
        (
            {"k8s/scale.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  replicas: 5\n"},
            set(),
        ),
        # `Rollout` only counts from Argo's API group
        ({"k8s/r.yaml": deployment("r").replace("apps/v1", "example.com/v1").replace("Deployment", "Rollout")}, set()),
        (
            {"k8s/r.yaml": deployment("r").replace("apps/v1", "argoproj.io/v1alpha1").replace("Deployment", "Rollout")},
            {"Rollout/r"},
        ),
        # plain YAML that is not Kubernetes, and documents that are scalars
        ({"config/app.yaml": "server:\n  port: 8080\n", "k8s/empty.yaml": "---\n# nothing\n---\nhello\n"}, set()),
    ],
)
def test_what_counts_as_a_workload(make_repo, files, expected_refs):
    assert {w.ref for w in manifests(make_repo(files)).workloads} == expected_refs


def test_autoscalers_v1_v2_and_keda(make_repo):
    text = "\n---\n".join(
        [
            deployment("a"),
            deployment("b"),
            deployment("c"),
            "apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: a}\nspec:\n"
            "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: a}\n  maxReplicas: 5\n"
            "  targetCPUUtilizationPercentage: 80\n",
            "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: b}\nspec:\n"
            "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: b}\n  minReplicas: 4\n  maxReplicas: 9\n",
            "apiVersion: keda.sh/v1alpha1\nkind: ScaledObject\nmetadata: {name: c}\nspec:\n"
            "  scaleTargetRef: {name: c}\n  triggers: [{type: cron, metadata: {}}]\n",
        ]
    )
    m = manifests(make_repo({"k8s/all.yaml": text}))
    found = {w.name: m.autoscaler_for(w) for w in m.workloads}
    assert {n: (a.kind, a.min_replicas) for n, a in found.items()} == {
        "a": ("HorizontalPodAutoscaler", 1),
        "b": ("HorizontalPodAutoscaler", 4),
        "c": ("ScaledObject", 0),
    }
    assert found["b"].min_line == text.splitlines().index("  minReplicas: 4") + 1


def hpa(name: str, min_replicas: int, namespace: str | None = None) -> str:
    meta = f"{{name: {name}, namespace: {namespace}}}" if namespace else f"{{name: {name}}}"
    return (
        f"apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {meta}\nspec:\n"
        f"  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: {name}}}\n"
        f"  minReplicas: {min_replicas}\n  maxReplicas: 10\n"
    )


def in_namespace(manifest: str, namespace: str) -> str:
    return manifest.replace("metadata:\n", f"metadata:\n  namespace: {namespace}\n", 1)


@pytest.mark.parametrize(
    "files, expected",
    [
        # a namespace-less base HPA and a production copy in its own namespace (podinfo's deploy/ layout)
        (
            {
                "deploy/bases/backend/deployment.yaml": deployment("backend"),
                "deploy/bases/backend/hpa.yaml": hpa("backend", 1),
                "deploy/secure/backend/deployment.yaml": in_namespace(deployment("backend"), "secure"),
                "deploy/secure/backend/hpa.yaml": hpa("backend", 3, "secure"),
            },
            {
                "deploy/bases/backend/deployment.yaml": ("deploy/bases/backend/hpa.yaml", 1),
                "deploy/secure/backend/deployment.yaml": ("deploy/secure/backend/hpa.yaml", 3),
            },
        ),
        # two apps of a monorepo reuse a name, no namespaces: each takes the HPA in its own folder
        (
            {
                "apps/shop/api.yaml": deployment("api") + "---\n" + hpa("api", 4),
                "apps/blog/api.yaml": deployment("api") + "---\n" + hpa("api", 2),
            },
            {"apps/shop/api.yaml": ("apps/shop/api.yaml", 4), "apps/blog/api.yaml": ("apps/blog/api.yaml", 2)},
        ),
    ],
)
def test_autoscaler_for_a_reused_name_is_the_nearest(make_repo, files, expected):
    m = manifests(make_repo(files))
    found = {w.path: m.autoscaler_for(w) for w in m.workloads}
    assert {path: (a.path, a.min_replicas) for path, a in found.items()} == expected


@pytest.mark.parametrize(
    "selector, labels, matches",
    [
        ({"matchLabels": {"app": "web"}}, {"app": "web", "team": "x"}, True),
        ({"matchLabels": {"app": "web", "tier": "front"}}, {"app": "web"}, False),
        ({"matchLabels": {"canary": True}}, {"canary": "true"}, True),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]}, {"app": "api"}, True),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}, {"app": "web"}, False),
        ({"matchExpressions": [{"key": "track", "operator": "NotIn", "values": ["canary"]}]}, {"app": "web"}, True),
        (
            {"matchExpressions": [{"key": "track", "operator": "DoesNotExist"}]},
            {"app": "web", "track": "canary"},
            False,
        ),
        ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, {"app": "web"}, True),
        ({"matchExpressions": [{"key": "app", "operator": "Sideways"}]}, {"app": "web"}, False),
        ({}, {"app": "web"}, True),  # policy/v1: an empty selector selects every pod of the namespace
        (None, {"app": "web"}, False),
    ],
)
def test_label_selectors(selector, labels, matches):
    assert selector_matches(selector, labels) is matches


def test_pdb_in_another_namespace_does_not_cover(make_repo):
    repo = make_repo(
        {
            "k8s/a.yaml": deployment("web").replace("name: web\n", "name: web\n  namespace: shop\n", 1),
            "k8s/pdb.yaml": "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n"
            "  name: web\n  namespace: other\nspec:\n  maxUnavailable: 1\n  selector:\n"
            "    matchLabels: {app: web}\n",
        }
    )
    m = manifests(repo)
    assert m.workloads[0].namespace == "shop" and m.pdbs_for(m.workloads[0]) == []


# -- kustomize --------------------------------------------------------------------------------------
def test_kustomize_fixture_applies_production_patches_only(tmp_path):
    m = manifests(case_repo("resilience.replicas/kustomize", tmp_path))
    assert [w.ref for w in m.workloads] == ["Deployment/search"]  # patches are not workloads
    search = m.workloads[0]
    assert search.path == "base/deployment.yaml"
    # production's replicas patch replaces the base's 1; staging's `replicas: count: 1` is ignored
    assert [(r.value, r.path, r.line) for r in search.replicas] == [(4, "overlays/production/replicas.yaml", 6)]
    assert search.containers[0].spec["resources"] == {
        "requests": {"cpu": "250m", "memory": "512Mi"},
        "limits": {"memory": "1Gi"},
    }


def test_kustomize_replicas_field_and_inline_patches(make_repo):
    repo = make_repo(
        {
            "base/deployment.yaml": deployment("api", replicas=None),
            "base/kustomization.yaml": "resources: [deployment.yaml]\n",
            "overlays/eu/kustomization.yaml": "resources: [../../base]\nreplicas:\n  - name: api\n    count: 3\n",
            "overlays/us/kustomization.yaml": "resources: [../../base]\npatches:\n  - patch: |-\n"
            "      apiVersion: apps/v1\n      kind: Deployment\n      metadata: {name: api}\n      spec: {replicas: 2}\n"
            "  - path: probes.yaml\n",
            "overlays/us/probes.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n"
            "  template:\n    spec:\n      containers:\n        - name: api\n          readinessProbe:\n"
            "            tcpSocket: {port: 8080}\n",
            "overlays/dev/kustomization.yaml": "resources: [../../base]\nreplicas: [{name: api, count: 1}]\n",
        }
    )
    (api,) = manifests(repo).workloads
    assert sorted((r.value, r.path, r.line) for r in api.replicas) == [
        (2, "overlays/us/kustomization.yaml", 3),
        (3, "overlays/eu/kustomization.yaml", 3),
    ]
    assert api.containers[0].spec["readinessProbe"] == {"tcpSocket": {"port": 8080}}


# -- Argo Rollouts ------------------------------------------------------------------------------------
def test_rollout_workload_ref_takes_the_deployments_pods(tmp_path):
    m = manifests(case_repo("resilience.replicas/argo-rollout", tmp_path))
    assert sorted(w.ref for w in m.workloads) == ["Rollout/pricing", "Rollout/quotes"]
    quotes = next(w for w in m.workloads if w.name == "quotes")
    assert [c.name for c in quotes.containers] == ["quotes"] and quotes.pod_labels == {"app": "quotes"}
    assert [r.value for r in quotes.replicas] == [3]
    pricing = next(w for w in m.workloads if w.name == "pricing")
    assert m.autoscaler_for(pricing).min_replicas == 3


def test_rollout_workload_ref_to_a_missing_deployment_is_unresolved(make_repo):
    repo = make_repo(
        {
            "rollout.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: q}\n"
            "spec:\n  replicas: 3\n  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: q-pods}\n"
        }
    )
    (rollout,) = manifests(repo).workloads
    assert rollout.containers is None
    assert rollout.unresolved == "its workloadRef Deployment/q-pods is not in the repo"


# -- what cannot be read ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "files, expected",
    [
        (
            {"deploy/app.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: a\n   bad: indent\n"},
            [("deploy/app.yaml", 5, "invalid YAML")],
        ),
        (
            {
                "deploy/app.yaml": "apiVersion: apps/v1\nkind: Deployment\n{{- if .Values.enabled }}\nmetadata: {name: a}\n"
            },
            [("deploy/app.yaml", 3, "templated file, not plain YAML: {{- if .Values.enabled }}")],
        ),
        # a broken YAML file that is not a Kubernetes manifest does not matter here
        ({"config/settings.yaml": "server:\n  port: [8080\n"}, []),
        ({"examples/broken.yaml": "apiVersion: v1\nkind: Pod\n  : :\n"}, []),
    ],
)
def test_unparseable_manifests_are_kept_as_errors(make_repo, files, expected):
    errors = manifests(make_repo(files)).errors
    assert [(e.path, e.line) for e in errors] == [(p, l) for p, l, _ in expected]
    assert all(msg in e.message for e, (_, _, msg) in zip(errors, expected))


def test_a_plain_equals_sign_is_a_string_not_an_error(make_repo):
    """Vendored prometheus-operator CRDs list matcher operators as ``- =`` (YAML 1.1's value type)."""
    crd = (
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata: {name: matchers.example.com}\nspec:\n  matchType:\n    enum:\n"
        "    - '!='\n    - =\n    - =~\n"
    )
    m = manifests(make_repo({"deploy/app.yaml": deployment("app") + "---\n" + crd}))
    assert (m.errors, [w.ref for w in m.workloads]) == ([], ["Deployment/app"])


@pytest.mark.parametrize(
    "text",
    [
        deployment("app", labels=", tier: web") + "---\n" + hpa("app", 3, "shop"),
        "base: &base {cpu: 100m, memory: 128Mi}\nlimits:\n  <<: *base\n  memory: 256Mi\nwhen: 2024-05-01\n",
        "script: |\n  make test\n  make lint\nfolded: >-\n  one\n  two\nempty:\nlist: [a, {b: [1, 2]}]\n",
        "---\n# only a comment\n---\nkind: List\nitems:\n  - kind: Service\n",
    ],
)
def test_libyaml_and_pure_python_readings_agree(text):
    """The libyaml fast path gives the same documents and lines as PyYAML's pure-Python parser."""
    from prr.checks.formats import yamlfile

    def shape(node):
        if isinstance(node, yamlfile.YMap):
            return (node.line, dict(node.key_lines), {k: shape(v) for k, v in node.items()})
        if isinstance(node, yamlfile.YList):
            return (node.line, list(node.item_lines), [shape(v) for v in node])
        return node

    fast = yamlfile.load_documents(text, "x.yaml")
    pure = yamlfile._documents(yamlfile._Loader(text))
    assert [shape(d) for d in fast] == [shape(d) for d in pure]


# -- Helm -------------------------------------------------------------------------------------------
RENDERED = """\
---
# Source: billing/templates/pdb.yaml
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: release-billing
spec:
  minAvailable: 1
  selector:
    matchLabels: {app.kubernetes.io/name: billing}
---
# Source: billing/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: release-billing
spec:
  replicas: 2
  selector:
    matchLabels: {app.kubernetes.io/name: billing}
  template:
    metadata:
      labels: {app.kubernetes.io/name: billing}
    spec:
      containers:
        - name: billing
          image: "registry.example.com/billing:4.2.0"
"""


def only_git_on_path(tmp_path: Path, monkeypatch) -> Path:
    """A PATH with git (the repo reader needs it) and nothing else: no helm, whatever is installed."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    (bindir / "git").symlink_to(shutil.which("git"))
    monkeypatch.setenv("PATH", str(bindir))
    return bindir


def fake_helm(tmp_path: Path, monkeypatch, script: str) -> None:
    """Put a `helm` on PATH that behaves as the script says (the real one is not installed here)."""
    helm = only_git_on_path(tmp_path, monkeypatch) / "helm"
    helm.write_text("#!/bin/sh\n" + script)
    helm.chmod(helm.stat().st_mode | stat.S_IEXEC)


def test_helm_chart_without_helm_is_not_verified(tmp_path, monkeypatch):
    only_git_on_path(tmp_path, monkeypatch)
    m = manifests(case_repo("resilience.replicas/helm-chart", tmp_path))
    assert m.workloads == [] and m.pdbs == [] and m.errors == []
    assert [(c.path, c.reason) for c in m.unrendered_charts] == [("charts/billing", "no helm binary to render it")]


def test_helm_chart_rendered_by_helm(tmp_path, monkeypatch):
    fake_helm(
        tmp_path, monkeypatch, f"[ \"$1\" = template ] && [ -d \"$3/templates\" ] || exit 9\nprintf '%s' '{RENDERED}'\n"
    )
    m = manifests(case_repo("resilience.replicas/helm-chart", tmp_path))
    assert m.unrendered_charts == []
    (billing,) = m.workloads
    assert (billing.ref, billing.path, billing.line, billing.chart) == (
        "Deployment/release-billing",
        "charts/billing/templates/deployment.yaml",
        None,
        "charts/billing",
    )
    assert [c.line for c in billing.containers] == [None]  # rendered lines are not the template's
    assert [p.path for p in m.pdbs_for(billing)] == ["charts/billing/templates/pdb.yaml"]


def test_helm_failure_leaves_the_chart_unverified(tmp_path, monkeypatch):
    fake_helm(
        tmp_path,
        monkeypatch,
        "echo 'Error: found in Chart.yaml, but missing in charts/ directory: redis' >&2\nexit 1\n",
    )
    m = manifests(case_repo("resilience.replicas/helm-chart", tmp_path))
    assert [c.reason for c in m.unrendered_charts] == [
        "helm template failed: Error: found in Chart.yaml, but missing in charts/ directory: redis"
    ]


@pytest.mark.parametrize(
    "chart_yaml, templates, expected_refs, unrendered",
    [
        # a chart whose templates hold no template expressions is plain YAML
        (
            "apiVersion: v2\nname: plain\nversion: 1.0.0\n",
            {"templates/web.yaml": deployment("web")},
            {"Deployment/web"},
            [],
        ),
        # a library chart renders nothing
        (
            "apiVersion: v2\nname: lib\ntype: library\nversion: 1.0.0\n",
            {"templates/_lib.tpl": '{{- define "x" }}{{ end }}'},
            set(),
            [],
        ),
        # a chart at the repo root
        (
            "apiVersion: v2\nname: root\nversion: 1.0.0\n",
            {"templates/web.yaml": deployment("web").replace("name: web\n", "name: {{ .Release.Name }}\n", 1)},
            set(),
            [""],
        ),
    ],
)
def test_chart_kinds(make_repo, monkeypatch, tmp_path, chart_yaml, templates, expected_refs, unrendered):
    only_git_on_path(tmp_path, monkeypatch)
    folder = "" if unrendered == [""] else "chart/"
    repo = make_repo({f"{folder}Chart.yaml": chart_yaml, **{folder + k: v for k, v in templates.items()}})
    m = manifests(repo)
    assert {w.ref for w in m.workloads} == expected_refs
    assert [c.path for c in m.unrendered_charts] == unrendered


def test_manifests_are_parsed_once_per_snapshot(make_repo):
    snapshot = open_snapshot(str(make_repo({"k8s/a.yaml": deployment("a")}).path))
    assert load_manifests(snapshot) is load_manifests(snapshot)
