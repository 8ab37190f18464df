"""A local Prometheus and Alertmanager on 127.0.0.1, for the demo and the tests of live checks.

The binaries come from the Debian packages ``prometheus`` and ``prometheus-alertmanager``.
Prometheus gets no scrape jobs and no alerting section (it never sends anything); Alertmanager
runs without clustering. :func:`run_demo_with_live_systems` loads the demo fleet's alert rules
into Prometheus, starts Alertmanager with a central routing config, names both in the demo
config's ``live`` section, runs a command (scan and serve), and stops both when it ends.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import yaml

PROMETHEUS, PROMTOOL, ALERTMANAGER = "/usr/bin/prometheus", "/usr/bin/promtool", "/usr/bin/prometheus-alertmanager"
START_SECONDS = 60

# The central routing of the demo: paging severities to PagerDuty, the rest to Slack.
DEMO_ALERTMANAGER = """\
route:
  receiver: slack-catchall
  group_by: [alertname]
  routes:
    - matchers: ['severity=~"page|critical"']
      receiver: pagerduty-oncall
receivers:
  - name: slack-catchall
    slack_configs: [{api_url: "http://127.0.0.1:9/demo", channel: "#alerts"}]
  - name: pagerduty-oncall
    pagerduty_configs: [{routing_key: demo-routing-key}]
"""


@dataclass
class Server:
    url: str
    process: subprocess.Popen

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(command: list[str], port: int, log: Path) -> Server:
    """Start a server and wait until ``/-/ready`` answers."""
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = Server(url, process)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{command[0]} exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            if requests.get(url + "/-/ready", timeout=1).ok:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"{command[0]} did not become ready in {START_SECONDS}s: {log.read_text()[-2000:]}")


def start_prometheus(
    home: Path, rule_files: Iterable[Path], openmetrics: str | None = None, evaluation_interval: str = "1s"
) -> Server:
    """Prometheus on a free 127.0.0.1 port with ``rule_files``, its TSDB under ``home`` holding
    ``openmetrics`` (backfilled with promtool), and the backfilled past kept."""
    home.mkdir(parents=True, exist_ok=True)
    tsdb = home / "tsdb"
    if openmetrics:
        (home / "data.om").write_text(openmetrics)
        subprocess.run(
            [PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", "--quiet", str(home / "data.om"), str(tsdb)],
            check=True,
            capture_output=True,
        )
    config = {"global": {"evaluation_interval": evaluation_interval}, "rule_files": [str(p) for p in rule_files]}
    (home / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    return _start(
        [
            PROMETHEUS,
            f"--config.file={home / 'prometheus.yml'}",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--storage.tsdb.path={tsdb}",
            "--storage.tsdb.retention.time=100y",
        ],
        port,
        home / "prometheus.log",
    )


def start_alertmanager(home: Path, config_file: Path) -> Server:
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    return _start(
        [
            ALERTMANAGER,
            f"--config.file={config_file}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            f"--storage.path={home}",
        ],
        port,
        home / "alertmanager.log",
    )


def wait_for_rule_evaluation(url: str) -> None:
    """Until every loaded rule has been evaluated once (health ok or err, not unknown)."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        groups = requests.get(url + "/api/v1/rules", timeout=5).json()["data"]["groups"]
        if all(rule["health"] != "unknown" for group in groups for rule in group["rules"]):
            return
        time.sleep(0.2)
    raise RuntimeError("Prometheus did not evaluate its rules in time")


# -- the demo ------------------------------------------------------------------------------------
def demo_rule_files(fleet: Path, out: Path) -> list[Path]:
    """The demo repos' rule groups (rule files and PrometheusRule resources), one file per repo
    file, as Prometheus loads them; files promtool refuses are left out."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(fleet.glob("*/**/*.y*ml")):
        try:
            docs = list(yaml.safe_load_all(path.read_text()))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        groups = [g for doc in docs for g in _rule_groups(doc)]
        if not groups:
            continue
        target = out / ("-".join(path.relative_to(fleet).parts))
        target.write_text(yaml.safe_dump({"groups": groups}))
        if subprocess.run([PROMTOOL, "check", "rules", str(target)], capture_output=True).returncode == 0:
            written.append(target)
        else:
            target.unlink()
    return written


def _rule_groups(doc: Any) -> list[Any]:
    if not isinstance(doc, dict):
        return []
    if doc.get("kind") == "PrometheusRule":
        doc = doc.get("spec") or {}
    groups = doc.get("groups")
    return groups if isinstance(groups, list) and all(isinstance(g, dict) and "rules" in g for g in groups) else []


def run_demo_with_live_systems(dest: Path, command: list[str]) -> int:
    """Start the demo's Prometheus and Alertmanager, name them in ``dest/prr.yaml``, run
    ``command``, stop both; returns the command's exit code."""
    home = dest / "live"
    config_file = dest / "prr.yaml"
    rules = demo_rule_files(dest / "repos", home / "rules")
    (home / "alertmanager").mkdir(parents=True, exist_ok=True)
    (home / "alertmanager.yml").write_text(DEMO_ALERTMANAGER)
    prometheus = start_prometheus(home / "prometheus", rules, evaluation_interval="15s")
    try:
        alertmanager = start_alertmanager(home / "alertmanager", home / "alertmanager.yml")
    except Exception:
        prometheus.stop()
        raise
    original = config_file.read_text()
    try:
        wait_for_rule_evaluation(prometheus.url)
        config = yaml.safe_load(original)
        config["live"] = {
            "environment": "demo",
            "environments": {
                "demo": {"prometheus": {"url": prometheus.url}, "alertmanager": {"url": alertmanager.url}}
            },
        }
        config_file.write_text(yaml.safe_dump(config, sort_keys=False))
        print(
            f"prr: demo Prometheus {prometheus.url} ({len(rules)} rule files), Alertmanager {alertmanager.url}",
            file=sys.stderr,
        )
        try:
            return subprocess.call(command)
        except KeyboardInterrupt:
            return 130
    finally:
        config_file.write_text(original)  # the systems are gone: the config no longer names them
        alertmanager.stop()
        prometheus.stop()
