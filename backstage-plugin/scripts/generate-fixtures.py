#!/usr/bin/env python3
"""Regenerate src/__fixtures__/*.json from the Python side's own output.

Builds the demo fleet with `prr demo create`, runs `prr gate --format json` on a few of its
services and writes the reports, with the time- and machine-dependent fields fixed, so the
plugin's tests run over the real report shape. tests/test_backstage_fixtures.py validates the
committed files against schemas/scan-report.schema.json.

Usage: scripts/generate-fixtures.py [--prr PATH]   (default: `prr` on PATH)
"""

import argparse
import hashlib
import json
import subprocess
import tempfile
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "src" / "__fixtures__"
# fixture name -> demo service: ready at gold; not ready, with erroring checks and next steps;
# no level at all, with failing checks; ready at bronze with warnings and checks that do not apply.
SERVICES = {
    "ready-gold": "cart",
    "not-ready": "inventory",
    "failing": "shipping-rates",
    "warnings": "recommendations",
}
SCANNED_AT = "2026-01-15T08:00:00Z"
PORTAL = "https://prr.example.com/services/{kind}/{namespace}/{name}"


def gate(prr: str, repo: Path) -> dict:
    # Exit 0 ready, 1 not ready, 3 only errors stand in the way: all are reports.
    done = subprocess.run([prr, "gate", str(repo), "--format", "json"], capture_output=True, text=True)
    if done.returncode not in (0, 1, 3):
        raise SystemExit(f"prr gate {repo} exited {done.returncode}: {done.stderr}")
    return json.loads(done.stdout)


def pin(report: dict, service: str) -> dict:
    """Fix what changes from run to run: commit (its dates), scan time, repo location, timing."""
    kind, rest = report["service"]["ref"].split(":", 1)
    namespace, name = rest.split("/", 1)
    report["source"]["commit"] = hashlib.sha1(service.encode()).hexdigest()
    report["source"]["scanned_at"] = SCANNED_AT
    report["source"]["repo"] = f"repos/{service}"
    report["links"]["portal"] = PORTAL.format(kind=kind, namespace=namespace, name=name)
    report.pop("duration_seconds", None)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prr", default="prr", help="the prr command")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "demo"
        subprocess.run([args.prr, "demo", "create", str(demo), "--force"], check=True, stdout=subprocess.DEVNULL)
        FIXTURES.mkdir(parents=True, exist_ok=True)
        for fixture, service in SERVICES.items():
            report = pin(gate(args.prr, demo / "repos" / service), service)
            path = FIXTURES / f"{fixture}.json"
            path.write_text(json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
            print(f"{path.name}: {report['service']['ref']} level={report['level']} ready={report['ready']}")


if __name__ == "__main__":
    main()
