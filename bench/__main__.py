"""`python -m bench` (the whole suite, under 20 minutes) and `python -m bench --smoke` (tiny, correctness only)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bench import runner
from bench.machine import LOAD_CPU, pin_self
from bench.results import markdown_checks, markdown_table
from bench.sizes import FULL, SMOKE, override


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes; checks correctness, writes no results")
    parser.add_argument(
        "--only", action="append", choices=[*runner.BENCHMARKS, *runner.BACKEND_BENCHMARKS], help="run only these"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory (site, logs) for inspection")
    parser.add_argument(
        "--profile", action="append", default=[], metavar="PROCESS",
        help="run this child under py-spy (fedblog, read-ceiling, fanout-ceiling, …); implies --keep",
    )  # fmt: skip
    parser.add_argument("--set", action="append", default=[], metavar="SIZE=VALUE", help="override a size")
    parser.add_argument("--out", type=Path, default=None, help="write results here (default bench/results/)")
    args = parser.parse_args()
    sizes = override(SMOKE if args.smoke else FULL, args.set)
    pin_self(LOAD_CPU)  # the driver polls and seeds from the load core, never the server's
    profile = frozenset(args.profile)
    report, results = asyncio.run(runner.run(sizes, args.only, args.keep or bool(profile), profile))
    print(markdown_table(results))
    print()
    print(markdown_checks(results))
    if not args.smoke or args.out:
        path = runner.save(report, results, args.out or runner.RESULTS_DIR)
        print(f"\nbench: results written to {path} and {path.with_suffix('.json')}")
    failed = [r.benchmark for r in results if r.error or r.failed_checks]
    if failed:
        print(f"bench: correctness failures in {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
