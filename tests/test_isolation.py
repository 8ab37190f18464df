"""The engine used as a library: check workers never re-run the caller's own script."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from prr.isolation import Job, Limits, run_checks
from prr.plugin import CheckContext, ServiceInfo, check, passed
from prr.repo import open_snapshot
from prr.testing import NOW

ROOT = Path(__file__).parent.parent
SCRIPT = """\
print("script body ran")
from prr.engine import ScanRequest, evaluate
from prr.plugin import load_registry
from prr.repo import open_snapshot
from prr.scorecard import load_scorecard

registry = load_registry()
report = evaluate(ScanRequest(snapshot=open_snapshot({repo!r}), registry=registry,
                              scorecard=load_scorecard("production-readiness", registry)))
print("level", report["level"], "errors", sum(c["status"] == "error" for c in report["checks"]))
"""


def run(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_a_script_without_a_main_guard_runs_once(make_repo, tmp_path) -> None:
    repo = make_repo({"README.md": "# x\n"})
    script = tmp_path / "scan_one.py"
    script.write_text(SCRIPT.format(repo=str(repo.path)))
    out = run([str(script)])
    assert out.stdout.count("script body ran") == 1, out.stderr
    assert "errors 0" in out.stdout, out.stdout


def test_code_read_from_stdin(make_repo) -> None:
    repo = make_repo({"README.md": "# x\n"})
    out = run(["-"], stdin=SCRIPT.format(repo=str(repo.path)))
    assert "errors 0" in out.stdout and "Traceback" not in out.stderr, out.stderr


MAIN_CHECK_SCRIPT = """\
from prr.engine import ScanRequest, evaluate
from prr.plugin import Registry, check, passed
from prr.repo import open_snapshot
from prr.scorecard import load_scorecard

@check(id="acme.hello", title="Says hello", category="testing", description="d", remediation="r")
def hello(ctx):
    return passed("hello from " + ctx.service.name)

registry = Registry({{"acme.hello": hello}})
report = evaluate(ScanRequest(snapshot=open_snapshot({repo!r}), registry=registry,
                              scorecard=load_scorecard({card!r}, registry)))
print(report["checks"][0]["status"], report["checks"][0]["summary"])
"""

CARD = """\
apiVersion: prr/v1
kind: Scorecard
id: hello
levels: [bronze]
tiers: {"1": {required_level: bronze}}
checks: [{id: acme.hello, level: bronze}]
"""


def test_a_check_defined_in_the_main_script_runs_in_the_workers(make_repo, tmp_path) -> None:
    repo = make_repo({"README.md": "# x\n"}, name="greeter")
    (tmp_path / "card.yaml").write_text(CARD)
    script = tmp_path / "own_check.py"
    script.write_text(MAIN_CHECK_SCRIPT.format(repo=str(repo.path), card=str(tmp_path / "card.yaml")))
    out = run([str(script)])
    assert out.stdout.strip() == "pass hello from greeter", out.stderr


def test_a_worker_serves_scan_after_scan_until_a_check_must_be_killed(make_repo) -> None:
    def made(name: str, body):  # defined here, so they travel to the worker by value
        return check(id=f"test.{name}", title=name, category="testing", description="d", remediation="r")(body)

    which_process = made("pid", lambda ctx: passed(str(os.getpid())))
    hangs = made("hang", lambda ctx: time.sleep(60))
    with open_snapshot(str(make_repo({"README.md": "# x\n"}).path)) as snapshot:
        context = CheckContext(
            repo=snapshot, service=ServiceInfo("x", "x", None, "2", False, "default"), params={}, now=NOW
        )

        def worker_pid(*jobs: Job, timeout: float = 30) -> tuple[str, dict]:
            results = run_checks([*jobs, Job(which_process, {})], context, Limits(timeout_seconds=timeout))
            return results["test.pid"].summary, results

        first, _ = worker_pid()
        assert worker_pid()[0] == first  # the same worker process ran the next scan
        after_kill, results = worker_pid(Job(hangs, {}), timeout=1)
        assert results["test.hang"].status == "error" and "timed out" in results["test.hang"].summary
        assert after_kill != first  # the hung check's worker was killed; a new one ran the rest
        assert worker_pid()[0] == after_kill
        os.kill(int(after_kill), signal.SIGKILL)  # dies while idle: the next scan gets a new worker
        replaced, results = worker_pid()
        assert replaced != after_kill and results["test.pid"].status == "pass"
