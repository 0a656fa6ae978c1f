#!/usr/bin/env python
"""Sim-to-real benchmark (issue 14): render (or reuse) a track's synthetic set, run every arm x k x seed,
merge the records into benchmarks/sim2real.json and regenerate docs/sim2real_results.md (+ its plot).

    python scripts/benchmark_sim2real.py --track cones --setting cpu
    python scripts/benchmark_sim2real.py --track cones --setting cuda --render-only --export out/cones_jpeg
    python scripts/benchmark_sim2real.py --track cones --setting cuda --synthetic out/cones_jpeg   # GPU machine
    python scripts/benchmark_sim2real.py --report-only        # regenerate the markdown from the JSON
    python scripts/benchmark_sim2real.py --track cones --setting cpu --analyse-only   # error analysis only

Tracks: conf/benchmark/sim2real_<track>.yaml. Extra arguments are simvision-sim2real overrides (e.g.
'ablation.seeds=[0]'); --render-override adds simvision-render overrides. Logic: simvision.bench.sim2real.
Commands and the carry-to-GPU recipe: docs/sim2real_benchmark.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from simvision.bench.sim2real import SETTINGS, headline, run_benchmark, write_report
from simvision.config.checks import ConfigError


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--track", default="cones", help="conf/benchmark/sim2real_<track>.yaml (cones, tabletop, street)")
    p.add_argument("--setting", default="cpu", choices=SETTINGS)
    p.add_argument("--work-dir", default="out/benchmark", help="renders and run folders (resumable)")
    p.add_argument("--results", default="benchmarks/sim2real.json", help="JSON the records are merged into")
    p.add_argument("--report", default="docs/sim2real_results.md", help="markdown regenerated from the JSON")
    p.add_argument(
        "--synthetic", default=None, help="use this synthetic set (e.g. a carried JPEG export) instead of rendering"
    )
    p.add_argument("--real-root", default="../shared/data/real", help="folder holding traffic_cones/ and coco128/")
    p.add_argument("--export", default=None, help="write the synthetic set as JPEG + labels to this folder")
    p.add_argument("--render-only", action="store_true", help="render (and --export), do not train")
    p.add_argument("--report-only", action="store_true", help="regenerate --report from --results and stop")
    p.add_argument(
        "--analyse-only", action="store_true", help="only the error analysis of runs already trained (item 4)"
    )
    p.add_argument("--no-analysis", action="store_true", help="skip the error analysis")
    p.add_argument(
        "--val", default=None, help="the analysis set (default: <--synthetic>_val when it exists, else rendered)"
    )
    p.add_argument("--render-override", action="append", default=[], help="extra simvision-render override")
    p.add_argument("--k", default=None, help="replace the setting's k list: comma-separated integers or 'all'")
    p.add_argument("overrides", nargs="*", help="extra simvision-sim2real overrides")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if a.report_only:
        doc = json.loads(Path(a.results).read_text())
        files = write_report(doc, a.report)
        print(f"wrote {files['md']} and {files['plot']}")
        line = headline(doc)
        if line:
            print("headline:", line)
        return 0
    try:
        out = run_benchmark(
            a.track,
            a.setting,
            work_dir=a.work_dir,
            results=a.results,
            report=a.report,
            synthetic=a.synthetic,
            real_root=a.real_root,
            render_overrides=a.render_override,
            overrides=a.overrides,
            export=a.export,
            render_only=a.render_only,
            k=None if a.k is None else [v if v == "all" else int(v) for v in a.k.split(",")],
            analysis=not a.no_analysis,
            analyse_only=a.analyse_only,
            val=a.val,
        )
    except (ConfigError, FileNotFoundError) as exc:
        print(f"benchmark_sim2real: error: {exc}", file=sys.stderr)
        return 2
    if out["export"]:
        e = out["export"]
        print(f"exported {e['images']} frames as JPEG to {e['path']} ({e['bytes'] / 2**20:.1f} MiB)")
    if out.get("export_val"):
        e = out["export_val"]
        print(f"exported {e['images']} analysis frames as JPEG to {e['path']} ({e['bytes'] / 2**20:.1f} MiB)")
    if out["analysis"]:
        for seed, res in out["analysis"]["seeds"].items():
            weak = [f"{x['key']}={x['level']} recall {x['recall']:.3f}" for x in res["strata"][:5]]
            print(f"analysis seed {seed}: {res['n_images']} frames, weakest: {'; '.join(weak)}")
    for r in out["records"]:
        iv = r["ap50_interval"]
        ci = f"[{iv[0]:.3f}, {iv[1]:.3f}]" if iv else "-"
        print(
            f"{r['track']:9s} {r['arm']:20s} k={r['k']!s:4s} seed={r['seed']} AP50 {r['ap50']:.3f} {ci} "
            f"mAP {r['map']:.3f} ECE {r['ece']:.3f}"
        )
    if out["results"]:
        print(f"records merged into {out['results']}; report {out['report']}; wall {out['wall_s'] / 60:.1f} min")
    if out["headline"]:
        print("headline:", out["headline"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
