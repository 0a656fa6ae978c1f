"""The closed-loop benchmark (``scripts/benchmark_closed_loop.py``): the committed config
``conf/benchmark/closed_loop.yaml`` (one ``loop`` block plus a block per setting), run through
``simvision.loop.run``, its records written to ``benchmarks/closed_loop.json`` (schema
``simvision.bench.closed_loop/1``: top-level ``records``, one per arm, seed and round, with ``frames``,
``real_ap50`` and ``synthetic_val_ap50``; ``summary``: mean and std over seeds, loop - uniform paired)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from simvision.config import CONF_DIR
from simvision.loop.config import LoopConfig, check_loop
from simvision.loop.run import RECORD_KEYS, _write_json, loop_markdown, plot_loop, run_loop, summarise

__all__ = [
    "SCHEMA",
    "SETTINGS",
    "benchmark_document",
    "load_benchmark",
    "results_markdown",
    "run_benchmark",
    "write_report",
]

SCHEMA = "simvision.bench.closed_loop/1"
SETTINGS = ("cpu", "cuda")
CONFIG = CONF_DIR / "benchmark" / "closed_loop.yaml"
LIST_FIELDS = ("render", "seed_render", "val_render", "uniform_render", "sim2real")


def load_benchmark(setting: str, out: str | Path, *, real_root: str = "../shared/data/real") -> LoopConfig:
    """The loop config of a setting: the base ``loop`` block, the setting's merged over it (lists appended),
    ``{real}`` replaced by ``real_root``; raises ``ValueError`` naming the bad field."""
    if setting not in SETTINGS:
        raise ValueError(f"setting: unknown setting {setting!r}; choose one of {list(SETTINGS)}")
    raw = OmegaConf.to_container(OmegaConf.load(CONFIG), resolve=True)
    assert isinstance(raw, dict)
    base = dict(raw.get("loop") or {})
    extra = dict(((raw.get("settings") or {}).get(setting) or {}).get("loop") or {})
    for key, value in extra.items():
        base[key] = [*base.get(key, []), *value] if key in LIST_FIELDS else value
    for key in LIST_FIELDS:
        base[key] = [str(o).replace("{real}", real_root.rstrip("/")) for o in base.get(key, [])]
    base["output_dir"] = str(out)
    try:
        cfg = OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(LoopConfig), base))
    except Exception as exc:  # an unknown key or a wrong type in the YAML
        raise ValueError(f"{CONFIG.name}: {str(exc).splitlines()[0]}") from None
    assert isinstance(cfg, LoopConfig)
    check_loop(cfg)
    return cfg


def benchmark_document(doc: dict[str, Any], setting: str, wall_s: float, meta: dict[str, Any]) -> dict[str, Any]:
    """``benchmarks/closed_loop.json`` from a loop report: the records slimmed to ``RECORD_KEYS`` (+ train and
    validation sizes), the summary, and where and how it ran."""
    records = [
        {**{k: r[k] for k in RECORD_KEYS}, "train_images": r.get("train_images"), "weights": r.get("weights")}
        for r in doc["records"]
    ]
    return {
        "schema": SCHEMA,
        "setting": setting,
        "records": records,
        "summary": summarise(doc["records"]),
        "wall_s": wall_s,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "config": doc.get("config"),
        **meta,
    }


def results_markdown(doc: dict[str, Any], result: dict[str, Any], plot_name: str) -> str:
    """The committed report: where and how the benchmark ran, then the loop's own report (its title dropped)."""
    wall = result.get("wall_s")
    wall_text = f"{wall / 60:.1f} min" if isinstance(wall, int | float) else "not recorded"
    head = [
        "# Closed-loop benchmark results",
        "",
        "Written by `scripts/benchmark_closed_loop.py` from `benchmarks/closed_loop.json` and the run's `loop.json`",
        "(`--report-only` rewrites it); what the benchmark is and what the numbers say: docs/closed_loop.md.",
        "",
        f"- setting `{result.get('setting')}`, device: {result.get('device', 'not recorded')}",
        f"- git commit {result.get('git_commit')}, finished {result.get('finished')}, "
        f"wall time of the last invocation {wall_text}",
        f"- seeds {sorted({r['seed'] for r in doc['records']})}, arms {sorted({r['arm'] for r in doc['records']})}",
        "",
    ]
    body = loop_markdown(doc, plot_name).split("\n", 1)[1].lstrip("\n")
    return "\n".join(head) + "\n" + body


def write_report(doc: dict[str, Any], result: dict[str, Any], report: str | Path) -> Path:
    """``report`` (markdown) and its plot beside it (same name, ``.png``)."""
    path = Path(report)
    path.parent.mkdir(parents=True, exist_ok=True)
    plot = plot_loop(doc, path.with_suffix(".png"))
    path.write_text(results_markdown(doc, result, plot.name))
    return path


def run_benchmark(
    setting: str,
    *,
    work_dir: str | Path = "out/benchmark",
    results: str | Path = "benchmarks/closed_loop.json",
    real_root: str = "../shared/data/real",
    seeds: list[int] | None = None,
    report: str | Path | None = "docs/closed_loop_results.md",
    report_only: bool = False,
) -> dict[str, Any]:
    """Run (or resume) the setting's loop under ``work_dir/closed_loop_<setting>`` and write ``results``.
    ``seeds``: run only these (a first seed's numbers land before the others run; rerun with more to add).
    ``report``: the committed markdown report (and its plot); ``report_only``: only rewrite it from ``results``
    and the run's ``loop.json``, running nothing."""
    from simvision.dataset.card import git_commit
    from simvision.metrics.device import device_name

    t0 = time.perf_counter()
    out = Path(work_dir) / f"closed_loop_{setting}"
    if report_only:
        for need in (Path(results), out / "loop.json"):
            if not need.is_file():
                raise FileNotFoundError(f"{need}: no benchmark results to report; run the benchmark first")
        result = json.loads(Path(results).read_text())
        doc = json.loads((out / "loop.json").read_text())
        done = {(r["arm"], r["seed"], r["round"]) for r in result["records"]}  # loop.json may be further on
        doc["records"] = [r for r in doc["records"] if (r["arm"], r["seed"], r["round"]) in done]
        doc["summary"] = result["summary"]
        if report:
            write_report(doc, result, report)
        return result
    cfg = load_benchmark(setting, out, real_root=real_root)
    if seeds:
        cfg.seeds = list(seeds)
        check_loop(cfg)
    doc = run_loop(cfg)
    meta = {"git_commit": git_commit(), "report": str(out / "loop.md"), "device": device_name(setting)}
    result = benchmark_document(doc, setting, time.perf_counter() - t0, meta)
    _write_json(Path(results), result)
    if report:
        write_report(doc, result, report)
    return result
