"""What `prr serve` and `prr scan` tell a new user on the terminal (or in a log)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from prr.cli import main


def test_serve_on_a_busy_port_names_it_and_how_to_choose_another(tmp_path: Path):
    config = tmp_path / "prr.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'prr.db'}\n")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        served = subprocess.run(
            [sys.executable, "-m", "prr.cli", "serve", "--config", str(config), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert served.returncode == 2
    assert served.stderr.strip() == (
        f"prr: 127.0.0.1:{port} is already in use: stop what listens there or pass --port 8080 (make demo: PORT=8080)"
    )


def test_scan_into_a_log_has_no_progress_bar_lines(make_repo, tmp_path: Path):
    repo = make_repo(name="checkout")
    config = tmp_path / "prr.yaml"
    config.write_text(f"database_url: sqlite:///{tmp_path / 'prr.db'}\nfleet:\n  - repo: {repo.path}\n")
    scanned = CliRunner().invoke(main, ["scan", "--config", str(config)])
    assert scanned.exit_code == 0, scanned.output
    assert [line for line in scanned.stderr.splitlines() if not line.startswith("prr: ")] == []
    assert "checkout" in scanned.stdout
