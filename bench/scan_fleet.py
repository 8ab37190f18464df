"""Benchmark: what scanning the demo fleet costs, and what process isolation and parallelism change.

    make bench            # or: .venv/bin/python bench/scan_fleet.py [--rounds N]

Figures are ratios measured in the same run, so they hold across machines:
  isolation overhead = engine (checks in a worker process) / the same checks run in-process
  parallel speedup   = fleet scan with 1 worker / with N workers
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from prr.demo import create_demo_fleet
from prr.engine import ScanRequest, evaluate
from prr.plugin import CheckContext, load_registry
from prr.repo import open_snapshot
from prr.scorecard import load_scorecard
from prr.service import resolve_service


def isolated(repo: str, card, registry) -> None:
    evaluate(ScanRequest(snapshot=open_snapshot(repo), scorecard=card, registry=registry))


def in_process(repo: str, card, registry) -> None:
    """The same checks without the worker process: the floor the engine is measured against."""
    snapshot = open_snapshot(repo)
    service = resolve_service(
        snapshot, tier_override=None, known_tiers=set(card.required_levels), default_tier=card.default_tier
    )
    ctx = CheckContext(repo=snapshot, service=service, params={}, now=datetime.now(UTC), settings=card.check_settings())
    for entry in card.checks:
        if entry.applies_to(service.tier):
            check = registry.get(entry.id)
            ctx.params = check.resolve_params(entry.params_for(service.tier))
            check.run(ctx)


def timed(fn, repos: list[str], workers: int, card, registry) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda r: fn(r, card, registry), repos))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    registry = load_registry()
    card = load_scorecard("production-readiness", registry)
    with tempfile.TemporaryDirectory() as tmp:
        create_demo_fleet(Path(tmp))
        repos = sorted(str(p) for p in (Path(tmp) / "repos").iterdir())
        isolated(repos[0], card, registry)  # start the worker server before measuring
        runs = {"in-process, 1 worker": [], "isolated, 1 worker": [], f"isolated, {args.workers} workers": []}
        for _ in range(args.rounds):
            runs["in-process, 1 worker"].append(timed(in_process, repos, 1, card, registry))
            runs["isolated, 1 worker"].append(timed(isolated, repos, 1, card, registry))
            runs[f"isolated, {args.workers} workers"].append(timed(isolated, repos, args.workers, card, registry))
    median = {name: statistics.median(times) for name, times in runs.items()}
    print(f"demo fleet: {len(repos)} services x {len(card.checks)} checks, median of {args.rounds} rounds")
    for name, seconds in median.items():
        print(f"  {name:<24} {seconds:6.2f} s   {len(repos) / seconds:6.1f} services/s")
    base = median["isolated, 1 worker"]
    print(f"isolation overhead  {base / median['in-process, 1 worker']:.2f}x  (isolated / in-process)")
    print(
        f"parallel speedup    {base / median[f'isolated, {args.workers} workers']:.2f}x  "
        f"(1 worker / {args.workers} workers)"
    )
    print(f"peak RSS of the scanning process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
