#!/usr/bin/env python
"""Closed-loop benchmark (issue 15): loop vs uniform at equal frames rendered on the street scene, scored on
the traffic-cone real test photos; writes benchmarks/closed_loop.json, docs/closed_loop_results.md (+ .png)
and the run's own <work-dir>/closed_loop_<setting>/loop.md.

    python scripts/benchmark_closed_loop.py --setting cpu
    python scripts/benchmark_closed_loop.py --setting cuda --work-dir /data/out

Config: conf/benchmark/closed_loop.yaml. Logic: simvision.loop.benchmark. Rerun to resume.
"""

from __future__ import annotations

import argparse
import logging
import sys

from simvision.loop.benchmark import SETTINGS, run_benchmark


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--setting", default="cpu", choices=SETTINGS)
    p.add_argument("--work-dir", default="out/benchmark", help="renders, checkpoints, reports (resumable)")
    p.add_argument("--results", default="benchmarks/closed_loop.json")
    p.add_argument("--real-root", default="../shared/data/real", help="folder holding traffic_cones/")
    p.add_argument("--report", default="docs/closed_loop_results.md", help="markdown report (+ .png plot)")
    p.add_argument("--report-only", action="store_true", help="rewrite --report from --results and loop.json")
    p.add_argument("--seeds", type=int, nargs="+", help="run only these seeds (default: the config's)")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        out = run_benchmark(
            a.setting,
            work_dir=a.work_dir,
            results=a.results,
            real_root=a.real_root,
            seeds=a.seeds,
            report=a.report,
            report_only=a.report_only,
        )
    except (ValueError, FileNotFoundError) as exc:
        print(f"benchmark_closed_loop: error: {exc}", file=sys.stderr)
        return 2
    for e in out["summary"]:
        print(e["arm"], e["round"], e["frames"], e["real_ap50"], e["real_ap50_std"])
    print(f"wrote {a.results}" + (f" and {a.report}" if a.report else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
