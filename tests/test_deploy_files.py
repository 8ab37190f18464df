"""What the portal ships for its own operators is valid for the tools that will load it: alert
rules for Prometheus (promtool), the routing example for Alertmanager (amtool), the manifests for
Kubernetes (its OpenAPI schemas), and the dashboard for Grafana (its JSON model)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from prr import schemas

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(
            f"{name} is not installed: `make test` installs it (Debian package prometheus / prometheus-alertmanager)"
        )
    return path


def test_alert_rules_load_in_prometheus() -> None:
    rules = sorted(DEPLOY.glob("monitoring/*.rules.yaml"))
    out = subprocess.run([tool("promtool"), "check", "rules", *map(str, rules)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS: 24 rules found" in out.stdout


@pytest.mark.parametrize(
    "labels, receiver",
    [
        (["service=prr-portal", "severity=page", "alertname=PrrPortalDown"], "prr-portal-pager"),
        (["service=prr-portal", "severity=ticket", "alertname=PrrPortalCheckErrors"], "prr-portal-tickets"),
        (["service=checkout", "severity=page"], "default-tickets"),
    ],
)
def test_alertmanager_example_routes_pages_to_the_pager(labels: list[str], receiver: str) -> None:
    config = str(DEPLOY / "monitoring" / "alertmanager.yaml")
    out = subprocess.run(
        [tool("amtool"), "config", "routes", "test", f"--config.file={config}", *labels], capture_output=True, text=True
    )
    assert out.stdout.strip() == receiver, out.stdout + out.stderr


def test_kubernetes_manifests_match_the_api_schemas() -> None:
    for path in sorted(DEPLOY.glob("kubernetes/*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            kubernetes_validate.validate(doc, "1.30.0", strict=True)


def test_the_example_config_is_a_valid_portal_config() -> None:
    configmap = yaml.safe_load((DEPLOY / "kubernetes" / "config.yaml").read_text())
    config = yaml.safe_load(configmap["data"]["prr.yaml"])
    schemas.validate("config", config, "deploy/kubernetes/config.yaml")
    assert config["queue"]["broker_url"].startswith("redis://") and config["schedule"]["rescan_every_minutes"] == 60


def test_dashboard_queries_name_the_portals_metrics() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "prr-portal.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert dashboard["uid"] == "prr-portal" and len(exprs) >= 6
    assert all("prr_" in expr for expr in exprs)
