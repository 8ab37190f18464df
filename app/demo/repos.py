"""The demo fleet: one e-commerce company's services, each a builder of dated commits.

``EXPECTED`` is what a careful SRE would conclude for each repo under the shipped
``production-readiness`` scorecard with no live systems configured (so any live check is
not applicable) and no waivers, scanned at the ``now`` the fleet was built for.
``checks`` lists the statuses that make each repo instructive; checks not listed are the usual
pass / not_applicable. Tier-0 must reach gold, Tier-1 silver, Tier-2 bronze.

| repo              | tier          | level  | ready | why                                                           |
| ----------------- | ------------- | ------ | ----- | ------------------------------------------------------------- |
| checkout          | 0             | gold   | yes   | everything, incl. Argo Rollout, PDB, fresh runbook, drill 75 d |
| payments-api      | 0             | silver | no    | runbook last changed 500 days ago (runbook.fresh)             |
| edge-gateway      | 0             | bronze | no    | latest DR drill failed; last pass 260 d ago > 180 d            |
| cart              | 1             | gold   | yes   | Sloth prometheus/v1 SLOs with alerting; only example is 1 replica |
| catalog-service   | 1             | silver | yes   | no PodDisruptionBudget (gold)                                 |
| search            | 1             | silver | yes   | Pyrra SLOs; no rollback path documented or automated (gold)   |
| product-reviews   | 2             | silver | yes   | openslo/v1alpha; PDB selector matches no workload (gold)      |
| inventory         | 1             | bronze | no    | SLO file is invalid YAML → slo.defined error                  |
| user-profile      | 1             | bronze | no    | paging alert links a runbook anchor that was renamed          |
| recommendations   | 2             | bronze | yes   | no SLO at all; Helm chart; on-call only in readiness.yaml     |
| notifications     | 1             | none   | no    | an alert without severity (alerts.defined)                    |
| shipping-rates    | 1 (default)   | none   | no    | declares no tier; runbook only linked externally (warn)       |
| marketing-banners | 1 (default)   | none   | no    | declares "tier-5", which the scorecard does not define        |
| legacy-reports    | 1 (default)   | none   | no    | no catalog-info (ref from repo name), Jenkins without tests, stub runbook |
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prr.demo.scaffold import (
    container,
    cronjob,
    deployment,
    github_actions,
    gitlab_ci,
    helm_chart,
    hpa,
    jenkinsfile_without_tests,
    k8s_service,
    pdb,
    readme,
    rollout,
    sidecar,
    source_files,
)
from prr.demo.templates import (
    STUB_RUNBOOK,
    Drill,
    Runbook,
    Section,
    Slo,
    Svc,
    alert,
    alertmanager_config,
    budget_burn_section,
    burn_rate_alerts,
    camel,
    catalog_info,
    crashloop_alert,
    dump,
    grafana_dashboard,
    link,
    openapi,
    openslo_v1,
    openslo_v1_threshold,
    openslo_v1alpha,
    opslevel,
    prometheus_rule,
    pyrra_slo,
    readiness,
    rule_file,
    sloth_crd,
    sloth_prometheus_v1,
    sloth_slo,
)


def _expect(
    tier: str, level: str | None, ready: bool, why: str, declared: bool = True, **checks: str
) -> dict[str, Any]:
    return {
        "tier": tier,
        "tier_declared": declared,
        "level": level,
        "ready": ready,
        "why": why,
        "checks": {k.replace("__", ".").replace("_", "-"): v for k, v in checks.items()},
    }


# Keyword names: ``__`` stands for the dot and ``_`` for the dash of a check id.
EXPECTED: dict[str, dict[str, Any]] = {
    "checkout": _expect(
        "0",
        "gold",
        True,
        "OpenSLO availability (99.9%) and latency SLOs, written-out multiwindow burn-rate alerts in a "
        "PrometheusRule routed to PagerDuty by the repo's Alertmanager config, runbook anchors that "
        "resolve, drill 75 days ago within RTO/RPO, Argo Rollout (3 replicas, HPA min 3) with a PDB. "
        "The CronJob without probes is a batch job and is left out.",
        alerts__routed="pass",
        delivery__rollback="pass",
        dr__tested="pass",
        resilience__probes="pass",
    ),
    "payments-api": _expect(
        "0",
        "silver",
        False,
        "Sloth PrometheusServiceLevel CRD with page/ticket alerting and a PrometheusRule, all silver "
        "checks met, but docs/runbook.md last changed 500 days ago: runbook.fresh fails, so Tier-0's gold "
        "is out of reach.",
        runbook__fresh="fail",
        slo__defined="pass",
        alerts__burn_rate="pass",
        alerts__routed="pass",
        dr__tested="pass",
    ),
    "edge-gateway": _expect(
        "0",
        "bronze",
        False,
        "Complete except DR: the drill 30 days ago failed (measured RTO 95m > 30m target) and the last "
        "passing drill, 260 days ago, is older than Tier-0's 180 days.",
        dr__tested="fail",
        dr__plan="pass",
        runbook__fresh="pass",
        resilience__pdb="pass",
    ),
    "cart": _expect(
        "1",
        "gold",
        True,
        "Sloth prometheus/v1 spec (availability + latency, alerting on: its generated alerts count for "
        "alerts.defined and alerts.burn-rate), drill 200 days ago (Tier-1: 365), Deployment + HPA + PDB. "
        "examples/local/ holds a 1-replica Deployment without probes, which is not a production workload. "
        "No Alertmanager config anywhere, so alerts.routed does not apply.",
        alerts__defined="pass",
        alerts__burn_rate="pass",
        alerts__routed="not_applicable",
        resilience__replicas="pass",
        resilience__probes="pass",
    ),
    "catalog-service": _expect(
        "1",
        "silver",
        True,
        "Everything a Tier-1 needs; the drill 330 days ago is still within 365 days. No "
        "PodDisruptionBudget, so not gold.",
        resilience__pdb="fail",
        dr__tested="pass",
        runbook__present="pass",
    ),
    "search": _expect(
        "1",
        "silver",
        True,
        "Pyrra ServiceLevelObjectives (ratio + latency; Pyrra generates the burn-rate alerts, "
        "runbook via the pyrra.dev/runbook_url annotation). No rollback section in the runbook and no "
        "Argo Rollouts/Flagger: delivery.rollback fails, so not gold.",
        delivery__rollback="fail",
        slo__defined="pass",
        alerts__burn_rate="pass",
    ),
    "product-reviews": _expect(
        "2",
        "silver",
        True,
        "Tier from opslevel.yml (tier_2). One openslo/v1alpha availability SLO is enough at Tier-2; no "
        "drill needed (dr.tested not applicable), RTO/RPO declared. The PDB selects app=product-reviews, "
        "a label no pod has, so resilience.pdb fails.",
        resilience__pdb="fail",
        dr__tested="not_applicable",
        slo__defined="pass",
    ),
    "inventory": _expect(
        "1",
        "bronze",
        False,
        "slo/inventory.yaml was broken by a mis-indented key 20 days ago: slo.defined is an error naming "
        "the file and line 80, never a pass. Every other check would reach gold.",
        slo__defined="error",
        alerts__defined="pass",
        dr__tested="pass",
    ),
    "user-profile": _expect(
        "1",
        "bronze",
        False,
        "UserProfileSessionStoreUnavailable (severity page) links docs/runbook.md#session-store-unavailable, "
        "but the heading was renamed to 'Session store down': runbook.alerts-linked fails. The OpenSLO "
        "latency SLO is a threshold on a p99 latency metric.",
        runbook__alerts_linked="fail",
        slo__defined="pass",
        alerts__routed="pass",
    ),
    "recommendations": _expect(
        "2",
        "bronze",
        True,
        "Bronze hygiene met (on-call declared only in readiness.yaml), no SLO at all so not silver. "
        "Workloads are a Helm chart (resilience checks warn or error on it; silver is lost anyway).",
        slo__defined="fail",
        ownership__oncall="pass",
        dr__tested="not_applicable",
    ),
    "notifications": _expect(
        "1",
        None,
        False,
        "NotificationsEmailQueueBacklog has no severity label: alerts.defined fails at bronze. Also: "
        "no latency SLO, last drill 420 days ago, a statsd-exporter sidecar without probes or memory limit.",
        alerts__defined="fail",
        slo__defined="fail",
        dr__tested="fail",
        resilience__probes="fail",
        resilience__resources="fail",
    ),
    "shipping-rates": _expect(
        "1",
        None,
        False,
        "Declares no tier anywhere: held to the default Tier-1 and ownership.tier fails. Its runbook is "
        "only an external catalog link (runbook.present warns, which counts as met).",
        declared=False,
        ownership__tier="fail",
        runbook__present="warn",
    ),
    "marketing-banners": _expect(
        "1",
        None,
        False,
        "prr/tier is 'tier-5', a tier the scorecard does not define: held to Tier-1, ownership.tier "
        "fails naming the value.",
        declared=False,
        ownership__tier="fail",
    ),
    "legacy-reports": _expect(
        "1",
        None,
        False,
        "No catalog-info.yaml: ref component:default/legacy-reports from the repo name, "
        "ownership.catalog (blocking) fails. Jenkinsfile builds with -DskipTests, RUNBOOK.md is a stub, "
        "one replica without probes.",
        declared=False,
        ownership__catalog="fail",
        ownership__tier="fail",
        delivery__ci="fail",
        runbook__present="fail",
        resilience__replicas="fail",
    ),
}

# Files broken on purpose: (repo, path) -> the line a YAML parser must report.
BROKEN_YAML: dict[tuple[str, str], int] = {("inventory", "slo/inventory.yaml"): 80}
# Templated files that are not YAML until rendered: (repo, folder).
TEMPLATED: dict[str, str] = {"recommendations": "chart/templates/"}


@dataclass
class Commit:
    days_ago: float
    message: str
    files: Mapping[str, str | None]


AUTHORS = (
    ("Priya Raman", "priya.raman@acme-shop.example"),
    ("Tom Becker", "tom.becker@acme-shop.example"),
    ("Ana Souza", "ana.souza@acme-shop.example"),
    ("Kenji Watanabe", "kenji.watanabe@acme-shop.example"),
    ("Fatima Okafor", "fatima.okafor@acme-shop.example"),
    ("Lukas Nowak", "lukas.nowak@acme-shop.example"),
)


def author_of(repo: str, message: str) -> tuple[str, str]:
    return AUTHORS[zlib.crc32(f"{repo}:{message}".encode()) % len(AUTHORS)]


# -- shared building blocks ---------------------------------------------------------------------

CI = {
    "github": (".github/workflows/ci.yml", github_actions),
    "gitlab": (".gitlab-ci.yml", gitlab_ci),
    "jenkins": ("Jenkinsfile", jenkinsfile_without_tests),
}


def initial(svc: Svc, days: float, ci: str, catalog: str | None) -> Commit:
    path, render = CI[ci]
    files: dict[str, str | None] = {"README.md": readme(svc), path: render(svc), **source_files(svc)}
    if catalog is not None:
        files["catalog-info.yaml"] = catalog
    return Commit(days, f"Initial {svc.name} service", files)


def dr_history(svc: Svc, now: datetime, plan_days: float, drills: tuple[Drill, ...], **kwargs: Any) -> list[Commit]:
    """readiness.yaml: targets first, then one commit per drill, the day after it ran."""
    commits = [
        Commit(plan_days, "Declare DR targets in readiness.yaml", {"readiness.yaml": readiness(svc, now, **kwargs)})
    ]
    done: list[Drill] = []
    for drill in sorted(drills, key=lambda d: -d.days_ago):
        done.append(drill)
        commits.append(
            Commit(
                drill.days_ago - 1,
                f"dr: record {drill.outcome} drill: {drill.scenario}",
                {"readiness.yaml": readiness(svc, now, drills=tuple(done), **kwargs)},
            )
        )
    return commits


def slo_alerts(
    slos: list[Slo], runbook: Runbook, path: str = "docs/runbook.md", url: bool = False
) -> list[dict[str, Any]]:
    """Burn-rate alerts for each SLO, linked to the runbook section on that SLO."""
    rules = []
    for slo in slos:
        anchor = runbook.anchor(budget_burn_section(slo).heading, path)
        rules += burn_rate_alerts(
            slo, f"{camel(slo.name)}BudgetBurn", f"{slo.svc.repo_url}/blob/main/{anchor}" if url else anchor
        )
    return rules


def workloads(
    svc: Svc,
    replicas: int,
    *,
    autoscale: tuple[int, int] | None = None,
    budget: bool = True,
    containers: list[dict[str, Any]] | None = None,
) -> str:
    docs = [deployment(svc, replicas, containers), k8s_service(svc)]
    if autoscale:
        docs.append(hpa(svc, *autoscale))
    if budget:
        docs.append(pdb(svc))
    return dump(*docs)


def runbook_doc(svc: Svc, slos: list[Slo], *extra: Section, rollback: str | None = "kubectl") -> Runbook:
    return Runbook(svc, [budget_burn_section(s) for s in slos] + list(extra), rollback=rollback)


# -- the repos ----------------------------------------------------------------------------------


def checkout(now: datetime) -> list[Commit]:
    svc = Svc(
        "checkout",
        "team-checkout",
        "Turns a cart into a paid order: address, delivery option, payment authorisation and order creation.",
        dependencies=("cart", "payments-api", "inventory", "shipping-rates"),
    )
    slos = [Slo(svc, "availability", 99.9), Slo(svc, "latency", 99.0, threshold=0.3)]
    timeouts = Section(
        "Payment provider timeouts",
        """
Checkout waits at most 4 s for `payments-api`. When payments is slow, orders fail with
`PAYMENT_TIMEOUT` and customers retry, which doubles the load.

1. Check the payments-api dashboard and its on-call channel; page them if their SLO is burning too.
2. Enable the `checkout.async-authorisation` flag: orders are accepted and authorised later.
3. Never raise the timeout above 8 s: the edge gateway cuts requests at 10 s.
""",
    )
    first, final = runbook_doc(svc, slos), runbook_doc(svc, slos, timeouts, rollback="argo")
    rules = slo_alerts(slos, final) + [crashloop_alert(svc, final.anchor("Restart a stuck pod"))]
    links = [link("runbook", svc), link("dashboard", svc)]
    return [
        initial(svc, 730, "github", catalog_info(svc, links=links[:1], api=True)),
        Commit(729, "Describe the public API", {"openapi.yaml": openapi(svc, ("/orders", "/orders/{id}"))}),
        Commit(690, "Add Kubernetes manifests", {"deploy/k8s/deployment.yaml": workloads(svc, 3, budget=False)}),
        Commit(
            600,
            "Define availability and latency SLOs (OpenSLO)",
            {"slo/checkout.yaml": dump(*openslo_v1(slos[0]), *openslo_v1(slos[1]))},
        ),
        Commit(
            560,
            "Add burn-rate alerts, Alertmanager routing and a runbook",
            {
                "deploy/monitoring/prometheusrule.yaml": prometheus_rule(svc, ("checkout-slo-burn", rules)),
                "deploy/alertmanager/alertmanager.yaml": alertmanager_config(svc),
                "docs/runbook.md": first.render(),
            },
        ),
        Commit(
            480,
            "Declare Tier-0 in the catalog",
            {"catalog-info.yaml": catalog_info(svc, annotations={"prr/tier": "0"}, links=links, api=True)},
        ),
        Commit(
            420,
            "Move to Argo Rollouts canary deploys",
            {
                "deploy/k8s/deployment.yaml": None,
                "deploy/k8s/rollout.yaml": dump(rollout(svc, 3), k8s_service(svc), hpa(svc, 3, 12, kind="Rollout")),
                "deploy/k8s/pdb.yaml": dump(pdb(svc)),
            },
        ),
        *dr_history(
            svc,
            now,
            430,
            (
                Drill(400, "Fail over the orders database to the standby region", "12m", "40s"),
                Drill(75, "Evacuate eu-west-1: all checkout traffic to eu-central-1", "9m", "0s"),
            ),
            rto="15m",
            rpo="1m",
            dashboards=True,
        ),
        Commit(120, "Keep the Grafana dashboard as code", {"dashboards/checkout.json": grafana_dashboard(svc, slos)}),
        Commit(
            40, "runbook: document payment provider timeouts and canary aborts", {"docs/runbook.md": final.render()}
        ),
        Commit(
            10,
            "Nightly cleanup of abandoned checkouts",
            {
                "deploy/k8s/cronjob-cleanup.yaml": dump(
                    cronjob(
                        svc, "abandoned-checkout-cleanup", "30 3 * * *", ["checkout", "cleanup", "--older-than=72h"]
                    )
                )
            },
        ),
    ]


def payments_api(now: datetime) -> list[Commit]:
    svc = Svc(
        "payments-api",
        "team-payments",
        "Authorises, captures and refunds card and wallet payments through the payment service providers.",
        system="payments",
        lang="go",
        dependencies=("fraud-scoring", "ledger"),
    )
    slos = [Slo(svc, "availability", 99.95), Slo(svc, "latency", 99.0, threshold=0.5)]
    circuit = Section(
        "Card provider circuit open",
        """
The circuit breaker to a payment service provider opened: more than 20% of calls failed in a minute.
Payments fall back to the secondary provider automatically; card payments keep working but at a
higher fee.

1. Check the provider's status page and our provider dashboard.
2. If the secondary is also degraded, switch wallets-only mode on in the admin console.
3. Close the circuit manually only after the provider confirms recovery.
""",
    )
    book = runbook_doc(svc, slos, circuit)
    sloth = [
        sloth_slo(s, f"PaymentsApi{s.kind.title()}BudgetBurn", book.anchor(budget_burn_section(s).heading), crd=True)
        for s in slos
    ]
    extra = [
        alert(
            svc,
            "PaymentsApiProviderCircuitOpen",
            'max(psp_circuit_open{job="payments-api"}) > 0',
            "A payment provider circuit breaker is open",
            severity="page",
            runbook_url=f"{svc.repo_url}/blob/main/{book.anchor(circuit.heading)}",
            for_="1m",
        ),
        crashloop_alert(svc, f"{svc.repo_url}/blob/main/{book.anchor('Restart a stuck pod')}"),
    ]
    catalog = catalog_info(svc, labels={"tier": "0"}, links=[link("dashboard", svc)])
    return [
        initial(svc, 700, "gitlab", catalog),
        Commit(
            650,
            "Kubernetes manifests with HPA and PDB",
            {"k8s/payments-api.yaml": workloads(svc, 3, autoscale=(3, 10))},
        ),
        Commit(560, "SLOs with Sloth", {"slo/payments-api.yaml": sloth_crd(svc, sloth)}),
        Commit(540, "Add runbook", {"docs/runbook.md": runbook_doc(svc, slos).render()}),
        Commit(500, "runbook: circuit breaker procedure", {"docs/runbook.md": book.render()}),
        Commit(
            480,
            "Provider alerts and Alertmanager routing",
            {
                "k8s/prometheusrule.yaml": prometheus_rule(svc, ("payments-api", extra)),
                "alertmanager/alertmanager.yml": alertmanager_config(svc),
            },
        ),
        *dr_history(
            svc,
            now,
            330,
            (
                Drill(300, "Restore the payments ledger replica from backup", "4m", "0s"),
                Drill(120, "Fail over to the standby region", "3m", "0s"),
            ),
            rto="5m",
            rpo="30s",
        ),
        Commit(200, "Bump Go to 1.22", {"go.mod": f"module github.com/acme-shop/{svc.name}\n\ngo 1.22.4\n"}),
        Commit(
            30,
            "Raise HPA ceiling for the sales season",
            {"k8s/payments-api.yaml": workloads(svc, 3, autoscale=(3, 16))},
        ),
    ]


def edge_gateway(now: datetime) -> list[Commit]:
    svc = Svc(
        "edge-gateway",
        "team-edge",
        "The public entry point: TLS, routing to services, rate limits and bot protection.",
        system="platform",
        lang="go",
        port=8443,
    )
    slos = [Slo(svc, "availability", 99.95), Slo(svc, "latency", 99.0, threshold=0.1)]
    book = runbook_doc(svc, slos)
    rules = slo_alerts(slos, book, url=True) + [crashloop_alert(svc, None)]
    return [
        initial(svc, 720, "github", catalog_info(svc, tags=("tier-0", "gateway"), links=[link("runbook", svc)])),
        Commit(
            700, "Deploy with 3 replicas, HPA and PDB", {"deploy/gateway.yaml": workloads(svc, 3, autoscale=(3, 20))}
        ),
        Commit(
            610,
            "OpenSLO: availability and latency",
            {"slo/edge-gateway.yaml": dump(*openslo_v1(slos[0]), *openslo_v1(slos[1]))},
        ),
        Commit(600, "Burn-rate alerts", {"monitoring/alerts.rules.yml": rule_file(("edge-gateway-slo", rules))}),
        *dr_history(
            svc,
            now,
            280,
            (
                Drill(260, "Lose one region: shift all traffic by DNS", "22m", "1m"),
                Drill(
                    30,
                    "Lose one region: shift all traffic by DNS",
                    "95m",
                    "5m",
                    outcome="failed",
                    notes="The DNS TTL was still 1h; clients kept resolving the dead region.",
                ),
            ),
            rto="30m",
            rpo="5m",
            dashboards=True,
        ),
        Commit(60, "runbook: regional failover notes", {"docs/runbook.md": book.render()}),
        Commit(
            12,
            "Run 4 replicas until the DNS failover is reworked",
            {"deploy/gateway.yaml": workloads(svc, 4, autoscale=(3, 20))},
        ),
    ]


def cart(now: datetime) -> list[Commit]:
    svc = Svc(
        "cart",
        "team-checkout",
        "Keeps shopping carts: add, remove, prices and promotions applied live.",
        dependencies=("catalog-service", "inventory"),
    )
    slos = [Slo(svc, "availability", 99.9), Slo(svc, "latency", 99.0, threshold=0.2)]
    book = runbook_doc(svc, slos)
    sloth = [
        sloth_slo(
            s,
            f"Cart{s.kind.title()}BudgetBurn",
            f"{svc.repo_url}/blob/main/{book.anchor(budget_burn_section(s).heading)}",
            crd=False,
        )
        for s in slos
    ]
    local = deployment(svc, 1, [container(svc, probes=False, resources=False)])
    return [
        initial(svc, 690, "github", catalog_info(svc, tags=("tier-1",))),
        Commit(
            640,
            "Deploy manifests and a local example",
            {"deploy/cart.yaml": workloads(svc, 3, autoscale=(3, 12)), "examples/local/deployment.yaml": dump(local)},
        ),
        Commit(500, "SLOs as a Sloth spec", {"slos/cart.yaml": sloth_prometheus_v1(svc, sloth)}),
        *dr_history(
            svc, now, 240, (Drill(200, "Restore carts from the Redis snapshot", "35m", "10m"),), rto="1h", rpo="15m"
        ),
        Commit(180, "Grafana dashboard as code", {"dashboards/cart.json": grafana_dashboard(svc, slos)}),
        Commit(90, "Runbook", {"docs/runbook.md": book.render()}),
        Commit(
            20,
            "Link runbook and dashboard from the catalog",
            {
                "catalog-info.yaml": catalog_info(
                    svc, tags=("tier-1",), links=[link("runbook", svc), link("dashboard", svc)]
                )
            },
        ),
    ]


def catalog_service(now: datetime) -> list[Commit]:
    svc = Svc(
        "catalog-service",
        "team-catalog",
        "Product catalogue: products, variants, prices and availability for the storefront and search indexing.",
        lang="node",
        port=3000,
    )
    slos = [Slo(svc, "availability", 99.9), Slo(svc, "latency", 99.0, threshold=0.4)]
    path = "runbooks/catalog-service.md"
    book = runbook_doc(svc, slos)
    rules = slo_alerts(slos, book, path) + [crashloop_alert(svc, book.anchor("Restart a stuck pod", path))]
    catalog = catalog_info(svc, annotations={"prr/tier": "tier-1"}, links=[link("dashboard", svc)])
    return [
        initial(svc, 710, "gitlab", catalog),
        Commit(680, "Kubernetes deployment", {"k8s/deployment.yaml": workloads(svc, 3, budget=False)}),
        Commit(
            520, "OpenSLO objectives", {"slo/catalog-service.yaml": dump(*openslo_v1(slos[0]), *openslo_v1(slos[1]))}
        ),
        Commit(
            515,
            "Alerts and runbook",
            {"monitoring/catalog-service.rules.yml": rule_file(("catalog-service", rules)), path: book.render()},
        ),
        *dr_history(
            svc,
            now,
            350,
            (Drill(330, "Restore the catalogue database from last night's backup", "3h", "45m"),),
            rto="4h",
            rpo="1h",
        ),
        Commit(
            150,
            "runbook: clarify zone evacuation",
            {path: book.render().replace("cordon its nodes", "cordon that zone's nodes")},
        ),
    ]


def search(now: datetime) -> list[Commit]:
    svc = Svc(
        "search",
        "team-search",
        "Product search and autocomplete over the catalogue index.",
        dependencies=("catalog-service",),
    )
    slos = [
        Slo(svc, "availability", 99.5, handler="/search"),
        Slo(svc, "latency", 99.0, threshold=0.25, handler="/search"),
    ]
    stale = Section(
        "Search index stale",
        """
The indexer has not completed a run for two hours: new products and price changes are not searchable.

1. Check the `search-indexer` CronJob runs and its logs.
2. Trigger a run by hand: `kubectl create job --from=cronjob/search-indexer reindex-manual -n search`.
""",
    )
    book = runbook_doc(svc, slos, stale, rollback=None)
    pyrra = [pyrra_slo(s, f"{svc.repo_url}/blob/main/{book.anchor(budget_burn_section(s).heading)}") for s in slos]
    extra = alert(
        svc,
        "SearchIndexStale",
        "time() - max(search_indexer_last_success_timestamp_seconds) > 7200",
        "The search index has not been refreshed for 2 hours",
        severity="ticket",
        runbook_url=book.anchor(stale.heading),
    )
    return [
        initial(svc, 705, "github", catalog_info(svc, tags=("tier1", "search"), links=[link("runbook", svc)])),
        Commit(660, "Deploy with HPA and PDB", {"deploy/search.yaml": workloads(svc, 2, autoscale=(2, 12))}),
        Commit(430, "Pyrra SLOs", {"slo/search.yaml": dump(*pyrra)}),
        Commit(
            425, "Index freshness alert", {"monitoring/rules.yaml": prometheus_rule(svc, ("search-indexer", [extra]))}
        ),
        *dr_history(
            svc,
            now,
            120,
            (Drill(90, "Rebuild the index from the catalogue snapshot", "70m", "6h"),),
            rto="2h",
            rpo="24h",
            dashboards=True,
        ),
        Commit(50, "Runbook for search", {"docs/runbook.md": book.render()}),
    ]


def product_reviews(now: datetime) -> list[Commit]:
    svc = Svc("product-reviews", "team-catalog", "Customer reviews and star ratings shown on product pages.")
    slos = [Slo(svc, "availability", 99.5)]
    book = runbook_doc(svc, slos)
    stray_pdb = pdb(svc, selector={"app": "product-reviews"})
    return [
        initial(svc, 600, "gitlab", catalog_info(svc, links=[link("dashboard", svc)])),
        Commit(599, "OpsLevel service file", {"opslevel.yml": opslevel(svc, "tier_2")}),
        Commit(
            560,
            "Deployment and PDB",
            {"k8s/deployment.yaml": workloads(svc, 2, budget=False), "k8s/pdb.yaml": dump(stray_pdb)},
        ),
        Commit(450, "Availability SLO", {"slo/reviews.yaml": dump(openslo_v1alpha(slos[0]))}),
        Commit(
            445, "Burn-rate alerts", {"monitoring/alerts.yaml": rule_file(("product-reviews", slo_alerts(slos, book)))}
        ),
        Commit(300, "DR targets", {"readiness.yaml": readiness(svc, now, rto="8h", rpo="24h")}),
        Commit(100, "Runbook", {"docs/runbook.md": book.render()}),
    ]


def inventory(now: datetime) -> list[Commit]:
    svc = Svc(
        "inventory",
        "team-fulfilment",
        "Stock levels per warehouse and reservations for open checkouts.",
        system="fulfilment",
        lang="go",
    )
    slos = [Slo(svc, "availability", 99.9), Slo(svc, "latency", 99.0, threshold=0.15)]
    book = runbook_doc(svc, slos)
    rules = slo_alerts(slos, book) + [crashloop_alert(svc, book.anchor("Restart a stuck pod"))]
    good = dump(*openslo_v1(slos[0]), *openslo_v1(slos[1]))
    # The edit that broke it: a new key indented one space too far under the latency objective.
    broken = good.replace("      target: 0.99\n", "      target: 0.995\n     timeSliceWindow: 1m\n")
    return [
        initial(svc, 640, "github", catalog_info(svc, links=[link("dashboard", svc)])),
        Commit(600, "Deployment, HPA and PDB", {"deploy/inventory.yaml": workloads(svc, 3, autoscale=(3, 9))}),
        Commit(400, "OpenSLO objectives", {"slo/inventory.yaml": good}),
        Commit(
            395,
            "Burn-rate alerts and runbook",
            {"monitoring/inventory.rules.yml": rule_file(("inventory", rules)), "docs/runbook.md": book.render()},
        ),
        *dr_history(
            svc,
            now,
            200,
            (Drill(150, "Restore stock database from PITR backup", "25m", "2m"),),
            tier=1,
            rto="30m",
            rpo="5m",
        ),
        Commit(
            80,
            "runbook: reservation deadlocks",
            {
                "docs/runbook.md": book.render().replace(
                    "find which route", "find which route (reservations or lookups)"
                )
            },
        ),
        Commit(20, "slo: tighten latency objective", {"slo/inventory.yaml": broken}),
    ]


def user_profile(now: datetime) -> list[Commit]:
    svc = Svc(
        "user-profile",
        "team-identity",
        "Customer accounts, addresses and preferences; owns the session store.",
        system="identity",
    )
    slos = [Slo(svc, "availability", 99.9), Slo(svc, "latency", 99.0, threshold=0.25)]
    sessions_old = Section(
        "Session store unavailable",
        """
Redis holding sessions is not answering; customers are logged out and cannot sign in.

1. Check the Redis primary: `kubectl get pods -n user-profile -l app=session-redis`.
2. If the primary is gone, Sentinel promotes a replica within 30 s; confirm with `redis-cli info replication`.
3. If no replica is healthy, restore the latest snapshot (sessions older than it are lost).
""",
    )
    sessions_new = Section("Session store down", sessions_old.body)
    before, after = runbook_doc(svc, slos, sessions_old), runbook_doc(svc, slos, sessions_new)
    page = alert(
        svc,
        "UserProfileSessionStoreUnavailable",
        'redis_up{job="session-redis"} == 0',
        "The session store is down",
        severity="page",
        runbook_url=before.anchor(sessions_old.heading),
        for_="2m",
    )
    rules = slo_alerts(slos, before) + [page]
    return [
        initial(svc, 680, "github", catalog_info(svc, annotations={"prr/tier": "1"}, links=[link("dashboard", svc)])),
        Commit(650, "Deployment, HPA, PDB", {"deploy/user-profile.yaml": workloads(svc, 3, autoscale=(3, 8))}),
        Commit(
            470,
            "OpenSLO: availability and p99 latency",
            {"slo/user-profile.yaml": dump(*openslo_v1(slos[0]), *openslo_v1_threshold(slos[1]))},
        ),
        Commit(
            460,
            "Alerts, routing and runbook",
            {
                "deploy/monitoring/prometheusrule.yaml": prometheus_rule(svc, ("user-profile", rules)),
                "alertmanager/config.yml": alertmanager_config(svc),
                "docs/runbook.md": before.render(),
            },
        ),
        *dr_history(svc, now, 90, (Drill(45, "Lose the session store primary", "2m", "30s"),), rto="10m", rpo="1m"),
        Commit(25, "runbook: shorter headings", {"docs/runbook.md": after.render()}),
    ]


def recommendations(now: datetime) -> list[Commit]:
    svc = Svc(
        "recommendations",
        "team-discovery",
        "'Customers also bought' and personalised product recommendations, from a nightly trained model.",
        system="discovery",
        dependencies=("catalog-service",),
    )
    path = "runbooks/recommendations.md"
    model = Section(
        "Model stale",
        """
The nightly training job has not published a model for 36 hours; recommendations still work but drift.

1. Check the `train-model` job in the ML platform and its logs.
2. Re-run it from the ML platform UI; it takes about 3 hours.
""",
    )
    errors = Section(
        "High error rate",
        """
More than 5% of recommendation requests fail. The storefront hides the widget on errors, so this is
revenue, not an outage. Check the model server's memory first: a large model can be OOM-killed.
""",
    )
    book = Runbook(svc, [model, errors], rollback="helm", escalation="Opsgenie team `discovery`")
    rules = [
        alert(
            svc,
            "RecommendationsModelStale",
            "time() - recommendations_model_published_timestamp_seconds > 129600",
            "No new model for 36 hours",
            severity="ticket",
            runbook_url=book.anchor(model.heading, path),
        ),
        alert(
            svc,
            "RecommendationsHighErrorRate",
            'sum(rate(http_requests_total{job="recommendations",code=~"5.."}[10m])) / '
            'sum(rate(http_requests_total{job="recommendations"}[10m])) > 0.05',
            "More than 5% of recommendation requests fail",
            severity="page",
            runbook_url=book.anchor(errors.heading, path),
        ),
    ]
    oncall = {"provider": "opsgenie", "team": "discovery", "schedule": "discovery-primary"}
    return [
        initial(svc, 560, "github", catalog_info(svc, pagerduty=False)),
        Commit(540, "Helm chart", helm_chart(svc)),
        Commit(400, "Alerts", {"monitoring/recommendations.rules.yaml": rule_file(("recommendations", rules))}),
        Commit(380, "Runbook", {path: book.render()}),
        Commit(120, "Declare tier and on-call", {"readiness.yaml": readiness(svc, now, tier=2, oncall=oncall)}),
    ]


def notifications(now: datetime) -> list[Commit]:
    svc = Svc(
        "notifications",
        "team-messaging",
        "Sends order confirmations, shipping updates and password resets by email, SMS and push.",
        system="messaging",
        lang="node",
        port=3000,
    )
    slos = [Slo(svc, "availability", 99.5)]
    book = runbook_doc(svc, slos)
    backlog = alert(
        svc,
        "NotificationsEmailQueueBacklog",
        'sum(notifications_queue_depth{queue="email"}) > 5000',
        "The email queue is backing up",
        severity=None,
        runbook_url=book.anchor("Overview"),
    )
    pods = [container(svc), sidecar("statsd-exporter", "prom/statsd-exporter:v0.26.1", 9102)]
    return [
        initial(svc, 650, "gitlab", catalog_info(svc, labels={"tier": "1"})),
        Commit(620, "Deployment", {"k8s/deployment.yaml": workloads(svc, 2, containers=pods)}),
        Commit(600, "Availability SLO", {"slo/notifications.yaml": dump(*openslo_v1(slos[0]))}),
        Commit(
            590,
            "Alerts and runbook",
            {
                "alerts/notifications.rules.yaml": rule_file(("notifications", slo_alerts(slos, book) + [backlog])),
                "docs/runbook.md": book.render(),
            },
        ),
        *dr_history(
            svc,
            now,
            450,
            (Drill(420, "Replay the email queue after losing a broker", "40m", "0s"),),
            rto="1h",
            rpo="5m",
        ),
    ]


def shipping_rates(now: datetime) -> list[Commit]:
    svc = Svc(
        "shipping-rates",
        "team-fulfilment",
        "Quotes delivery options and prices from the carriers.",
        system="fulfilment",
        lang="go",
    )
    wiki = f"https://wiki.acme-shop.example/fulfilment/runbooks/{svc.name}"
    rules = [
        alert(
            svc,
            "ShippingRatesCarrierErrors",
            'sum(rate(carrier_requests_total{job="shipping-rates",outcome="error"}[10m])) > 1',
            "Carrier API calls are failing",
            severity="page",
            runbook_url=wiki,
        ),
        crashloop_alert(svc, wiki),
    ]
    return [
        initial(svc, 500, "github", catalog_info(svc, links=[link("runbook", svc, wiki), link("dashboard", svc)])),
        Commit(480, "Deployment", {"deploy/shipping-rates.yaml": workloads(svc, 2)}),
        Commit(300, "Carrier alerts", {"monitoring/rules.yml": rule_file(("shipping-rates", rules))}),
        Commit(
            60,
            "Retry carrier calls once",
            {
                "main.go": source_files(svc)["main.go"].replace(
                    "func main()", "// Carrier calls are retried once with jitter (see carrier.go).\nfunc main()"
                )
            },
        ),
    ]


def marketing_banners(now: datetime) -> list[Commit]:
    svc = Svc(
        "marketing-banners",
        "team-growth",
        "Homepage and campaign banners with A/B variants.",
        system="growth",
        lang="node",
        port=3000,
    )
    book = Runbook(
        svc,
        [
            Section(
                "Banners missing",
                """
The storefront shows the fallback banner. Check the CMS export job and that the bucket is readable.
""",
            )
        ],
        rollback="kubectl",
    )
    rules = [
        alert(
            svc,
            "MarketingBannersExportFailed",
            "marketing_banners_export_success == 0",
            "The CMS export failed",
            severity="ticket",
            runbook_url=book.anchor("Banners missing"),
        )
    ]
    return [
        initial(svc, 420, "github", catalog_info(svc, annotations={"prr/tier": "tier-5"})),
        Commit(400, "Deployment", {"k8s/deployment.yaml": workloads(svc, 2)}),
        Commit(
            380,
            "Alert and runbook",
            {"monitoring/rules.yaml": rule_file(("marketing-banners", rules)), "docs/runbook.md": book.render()},
        ),
        Commit(
            45,
            "Serve the summer campaign A/B variant",
            {
                "src/index.js": source_files(svc)["src/index.js"].replace(
                    "app.listen",
                    "app.get('/banners/:slot', (req, res) => res.json({ variant: 'summer-b' }));\napp.listen",
                )
            },
        ),
    ]


def legacy_reports(now: datetime) -> list[Commit]:
    svc = Svc(
        "legacy-reports",
        "team-finance",
        "Nightly finance and sales reports, emailed as CSV.",
        system="finance",
        lang="java",
    )
    old = deployment(svc, 1, [container(svc, probes=False, resources=False)])
    return [
        initial(svc, 760, "jenkins", catalog=None),
        Commit(700, "Add runbook placeholder", {"RUNBOOK.md": STUB_RUNBOOK}),
        Commit(690, "Kubernetes deployment", {"k8s/deployment.yaml": dump(old)}),
        Commit(
            400,
            "Run the report job nightly",
            {
                "k8s/cronjob.yaml": dump(
                    cronjob(svc, "nightly-reports", "0 2 * * *", ["java", "-jar", "/app.jar", "--nightly"])
                )
            },
        ),
    ]


REPOS: dict[str, Callable[[datetime], list[Commit]]] = {
    "checkout": checkout,
    "payments-api": payments_api,
    "edge-gateway": edge_gateway,
    "cart": cart,
    "catalog-service": catalog_service,
    "search": search,
    "product-reviews": product_reviews,
    "inventory": inventory,
    "user-profile": user_profile,
    "recommendations": recommendations,
    "notifications": notifications,
    "shipping-rates": shipping_rates,
    "marketing-banners": marketing_banners,
    "legacy-reports": legacy_reports,
}
