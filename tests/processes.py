"""Real server processes for end-to-end tests: started on 127.0.0.1 in their own process group."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

PRR = shutil.which("prr", path=str(Path(sys.executable).parent)) or shutil.which("prr")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float) -> None:
    """Wait until ``url`` answers 2xx; fail if ``process`` exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{process.args} exited with {process.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def start(args: list[str], log: Path, **kwargs) -> subprocess.Popen:
    """``args`` in a new session (its own process group), output to ``log``."""
    return subprocess.Popen(args, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True, **kwargs)


def stop(process: subprocess.Popen) -> None:
    """Stop the process group ``process`` leads: SIGTERM, then SIGKILL after 15 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def kill_hard(process: subprocess.Popen) -> None:
    """``kill -9`` of the process and every process it started (its process group)."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(*args: str, window: str = "1280,2000", timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with a throw-away profile and no background traffic (this machine's
    network is closed), run on ``args`` (e.g. ``--dump-dom URL``)."""
    assert CHROMIUM, "Chromium is required: `make test` installs it"
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                f"--window-size={window}",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
