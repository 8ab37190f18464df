"""Render a scan report as text, JSON, JUnit XML or SARIF."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree as ET

import click

STATUS_STYLE = {
    "pass": ("PASS", "green"),
    "warn": ("WARN", "yellow"),
    "fail": ("FAIL", "red"),
    "error": ("ERROR", "magenta"),
    "not_applicable": ("N/A", "bright_black"),
}


def render(report: dict[str, Any], fmt: str, color: bool = False) -> str:
    return RENDERERS[fmt](report, color) if fmt == "text" else RENDERERS[fmt](report)


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=False) + "\n"


def to_text(report: dict[str, Any], color: bool = False) -> str:
    def style(text: str, **kw: Any) -> str:
        return click.style(text, **kw) if color else text

    svc, card = report["service"], report["scorecard"]
    tier_note = "" if svc["tier_declared"] else " (no tier declared: held to the default)"
    lines = [
        style(f"{svc['ref']}", bold=True) + f"  owner {svc['owner'] or '—'}  Tier-{svc['tier']}{tier_note}",
        f"{report['source']['repo']} @ {report['source']['commit'][:12]}  scorecard {card['id']}",
        "",
    ]
    for level in card["levels"]:
        rows = [c for c in report["checks"] if c["level"] == level]
        if not rows:
            continue
        lines.append(style(level.upper(), bold=True))
        for c in rows:
            label, colour = STATUS_STYLE[c["status"]]
            if c["waived"]:
                label, colour = "WAIVED", "cyan"
            flag = " [blocking]" if c["blocking"] else ""
            lines.append(f"  {style(f'{label:<7}', fg=colour)} {c['id']:<26} {c['summary']}{flag}")
            if c["status"] in ("fail", "error", "warn"):
                for ev in c["evidence"][:5]:
                    lines.append(style(f"          {_where(ev)}", fg="bright_black"))
        lines.append("")
    score = "—" if report["score"] is None else f"{report['score']:.1f}"
    verdict = style("READY", fg="green", bold=True) if report["ready"] else style("NOT READY", fg="red", bold=True)
    lines.append(
        f"{verdict}  level {report['level'] or 'none'} (Tier-{svc['tier']} needs "
        f"{card['required_level']})  score {score}"
    )
    if report["next_steps"]:
        lines += ["", style("Next steps", bold=True)]
        for i, step in enumerate(report["next_steps"], 1):
            lines.append(f"  {i}. {step['check']}: {step.get('summary', '')}")
            lines += [f"     {line}".rstrip() for line in step["remediation"].strip().splitlines()]
            lines.append("")
    return "\n".join(lines) + "\n"


def to_junit(report: dict[str, Any]) -> str:
    """One testsuite for the service, one testcase per check (for CI test report views)."""
    checks = report["checks"]
    suite = ET.Element(
        "testsuite",
        name=report["service"]["ref"],
        tests=str(len(checks)),
        failures=str(sum(c["status"] == "fail" and not c["waived"] for c in checks)),
        errors=str(sum(c["status"] == "error" and not c["waived"] for c in checks)),
        skipped=str(sum(c["status"] == "not_applicable" for c in checks)),
        timestamp=report["source"]["scanned_at"],
    )
    for c in checks:
        case = ET.SubElement(suite, "testcase", classname=f"prr.{c['level']}", name=c["id"])
        body = "\n".join([c["summary"], *(_where(e) for e in c["evidence"]), "", c["remediation"]])
        if c["waived"]:
            ET.SubElement(case, "system-out").text = f"waived: {c['waiver']['reason']}\n{body}"
        elif c["status"] == "fail":
            ET.SubElement(case, "failure", message=c["summary"], type="fail").text = body
        elif c["status"] == "error":
            ET.SubElement(case, "error", message=c["summary"], type="error").text = body
        elif c["status"] == "not_applicable":
            ET.SubElement(case, "skipped", message=c["summary"])
        else:
            ET.SubElement(case, "system-out").text = c["summary"]
    root = ET.Element("testsuites", name=f"prr {report['scorecard']['id']}")
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def to_sarif(report: dict[str, Any]) -> str:
    """SARIF 2.1.0: each unmet check's evidence becomes a result at its file and line."""
    rules, results = [], []
    for c in report["checks"]:
        rules.append(
            {
                "id": c["id"],
                "name": c["title"],
                "shortDescription": {"text": c["title"]},
                "help": {"text": c["remediation"], "markdown": c["remediation"]},
                **({"helpUri": c["docs_url"]} if c.get("docs_url") else {}),
                "properties": {"category": c["category"], "level": c["level"], "blocking": c["blocking"]},
            }
        )
        if c["status"] not in ("fail", "error", "warn") or c["waived"]:
            continue
        located = [e for e in c["evidence"] if e.get("path")] or [{}]
        for ev in located:
            result: dict[str, Any] = {
                "ruleId": c["id"],
                "level": _sarif_level(c, report["scorecard"]),
                "message": {"text": c["summary"] + (f" ({ev['value']})" if ev.get("value") else "")},
            }
            if ev.get("path"):
                region = {"startLine": ev["line"]} if ev.get("line") else {}
                result["locations"] = [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": ev["path"], "uriBaseId": "%SRCROOT%"},
                            **({"region": region} if region else {}),
                        }
                    }
                ]
            results.append(result)
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "prr", "rules": rules}},
                "versionControlProvenance": [
                    {"repositoryUri": report["source"]["repo"], "revisionId": report["source"]["commit"]}
                ],
                "results": results,
            }
        ],
    }
    return json.dumps(sarif, indent=2) + "\n"


def _sarif_level(check: dict[str, Any], scorecard: dict[str, Any]) -> str:
    """error: keeps the service from its tier's bar; warning: only from a higher level; note: a warn."""
    if check["status"] == "warn":
        return "note"
    levels = scorecard["levels"]
    above_bar = levels.index(check["level"]) > levels.index(scorecard["required_level"])
    return "warning" if above_bar and not check["blocking"] else "error"


def _where(ev: dict[str, Any]) -> str:
    where = ev.get("path") or ev.get("url") or ""
    if ev.get("path") and ev.get("line"):
        where += f":{ev['line']}"
    if ev.get("value") not in (None, ""):
        where += f"  {ev['value']}" if where else str(ev["value"])
    return where


RENDERERS: dict[str, Callable[..., str]] = {"text": to_text, "json": to_json, "junit": to_junit, "sarif": to_sarif}
