"""Benchmark: the monthly leadership report of a 1,000-service fleet (`make bench-report`).

    .venv/bin/python bench/monthly_report.py --services 1000 --weeks 26

Builds a SQLite database of SERVICES services with WEEKS weekly scans each straight through
storage (the portal-read benchmark's generator), then renders last month's report as JSON and as
PDF, each in a fresh process so its peak memory (ru_maxrss) is its own. Targets: the PDF in
≤ 20 s with ≤ 1 GB peak memory.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from portal_reads import build

PRR = str(Path(sys.executable).parent / "prr")


def render(config: Path, month: str, out: Path) -> tuple[float, float]:
    """Seconds and peak MiB of `prr report` writing ``out``."""
    started = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([PRR, "report", "--config", str(config), "--month", month, "--out", str(out)], check=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return time.monotonic() - started, max(peak, before) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--weeks", type=int, default=26)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="prr-bench-report-"))
    config = work / "prr.yaml"
    config.write_text(f"database_url: sqlite:///{work / 'prr.db'}\n")
    started = time.monotonic()
    build(f"sqlite:///{work / 'prr.db'}", args.services, args.weeks)
    print(f"built {args.services} services x {args.weeks} weekly scans in {time.monotonic() - started:.0f} s")
    now = datetime.now(UTC)
    month = f"{now.year - (now.month == 1):04d}-{(now.month - 2) % 12 + 1:02d}"
    for fmt in ("json", "pdf"):
        seconds, mib = render(config, month, work / f"report.{fmt}")
        print(f"{month} report as {fmt}: {seconds:.1f} s, peak {mib:.0f} MiB (targets for the PDF: 20 s, 1024 MiB)")
    pages = subprocess.run(["pdfinfo", str(work / "report.pdf")], capture_output=True, text=True).stdout
    print(next((line for line in pages.splitlines() if line.startswith("Pages:")), "Pages: ?"))


if __name__ == "__main__":
    main()
