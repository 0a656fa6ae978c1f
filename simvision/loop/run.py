"""The closed loop (``simvision-loop``): render, train, find where the detector fails, render more of that.

Per seed: round 0 renders the seed set (``render`` + ``seed_render`` overrides of conf/render.yaml) and one
fixed synthetic validation set is rendered once (``render`` + ``val_render``, its own seed). Each round then

1. renders ``frames_per_round`` frames into ``<arm>/s<seed>/round_<r>/frames`` (round 0 is shared by the
   arms: ``shared/s<seed>/round_0``; the render job resumes a folder it finished part of);
2. trains the detector (``simvision.sim2real``) on every frame of the arm so far, fine-tuning from the last
   round's weights (``finetune``);
3. evaluates it on the validation set, broken down by stratum (``simvision.sim2real.analysis``), and on the
   real test set of the sim2real config when ``real_test``;
4. computes the next round's weights with the pure rule (``simvision.loop.weights``) and turns them into
   render overrides (``simvision.loop.knobs``); writes ``round_<r>/weights.json`` and, last, ``eval.json``.

A round whose ``eval.json`` exists is skipped on a rerun (resume after a kill). The ``uniform`` arm renders
the same number of frames per round from the base distribution (``render`` + ``uniform_render``, never
reweighted) and is trained and evaluated the same way. An arm stops after ``rounds`` rounds, or after
``patience`` rounds without a better real AP50 (synthetic validation AP50 when there is no real test).
The report: ``loop.json`` (schema ``simvision.loop/1``), ``loop.md``, ``loop.html`` and ``loop.png``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from simvision.config import CONF_DIR
from simvision.io.markdown_html import markdown_to_html
from simvision.loop.config import LoopConfig, check_loop, plain_loop_config
from simvision.loop.knobs import knob_groups, overrides, prior_weights
from simvision.loop.weights import StratumStats, WeightRule, next_weights, normalise

log = logging.getLogger(__name__)

__all__ = ["SCHEMA", "LoopRunner", "compose_config", "launcher_command", "run_loop", "summarise", "write_report"]

SCHEMA = "simvision.loop/1"
RECORD_KEYS = ("arm", "seed", "round", "frames", "real_ap50", "synthetic_val_ap50")
RENDER_DONE = "loop_render.json"


def compose_config(config_name: str, overrides_: Sequence[str]) -> DictConfig:
    """Compose ``conf/<config_name>.yaml`` with ``overrides_`` (inside a running Hydra app: its search path)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    if GlobalHydra.instance().is_initialized():
        return compose(config_name=config_name, overrides=list(overrides_))
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose(config_name=config_name, overrides=list(overrides_))


def launcher_command(render_overrides: Sequence[str], shards_dir: Path, launcher: str, shards: int) -> list[str]:
    """``simvision-render -m`` through a Hydra launcher, one job per shard into ``shards_dir/shard_<i>``."""
    return [
        sys.executable,
        "-m",
        "simvision.cli.render",
        "-m",
        f"hydra/launcher={launcher}",
        *render_overrides,
        f"shard.count={shards}",
        f"shard.index=range(0,{shards})",
        f"output_dir={shards_dir}/shard_${{shard.index}}",
        f"hydra.sweep.dir={shards_dir}/multirun",
    ]


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1, default=str) + "\n")
    tmp.replace(path)


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text()) if path.is_file() else None


class LoopRunner:
    """One loop config: the composed sim2real config, the knob groups, the validation set, and the rounds."""

    def __init__(self, cfg: LoopConfig, args: dict[str, Any] | None = None) -> None:
        from simvision.dataset.job_config import register_configs
        from simvision.sim2real.augment import check_train
        from simvision.sim2real.config import plain_config, register_sim2real_configs

        check_loop(cfg)
        self.cfg = cfg
        self.args = args or dataclasses.asdict(cfg)
        self.out = Path(cfg.output_dir)
        self.val_dir = self.out / "val"
        register_configs()
        register_sim2real_configs()
        composed = compose_config(
            "sim2real", [*cfg.sim2real, f"output_dir={self.out}", f"synthetic.path={self.val_dir}"]
        )
        self.s2r, self.s2r_args = plain_config(composed)
        self.s2r.progress = cfg.progress
        check_train(self.s2r.train)
        self.classes = list(self.s2r.class_names)
        self.bins = [float(b) for b in self.s2r.analysis.distance_bins]
        seed_scene = self._render_cfg([*cfg.render, *cfg.seed_render]).scene
        available = knob_groups(seed_scene)
        for i, g in enumerate(cfg.groups or []):
            if g not in available:
                raise ValueError(f"groups[{i}]: {g!r} is not a knob of this scene; choose from {available}")
        self.groups = [g for g in available if cfg.groups is None or g in cfg.groups]
        self.seed_weights = self._shares(prior_weights(seed_scene, self.classes, self.bins))
        base_scene = self._render_cfg([*cfg.render, *cfg.uniform_render]).scene
        self.base_weights = self._shares(prior_weights(base_scene, self.classes, self.bins))
        self.knob_scene = base_scene
        self.rule = WeightRule(**dataclasses.asdict(cfg.rule))
        self.fingerprint = self._fingerprint()
        self._val: list[Any] | None = None
        self._real: list[Any] | None = None

    # ------------------------------------------------------------------ configs and sets

    def _fingerprint(self) -> str:
        """What a finished round's numbers depend on: not ``rounds``, ``patience``, ``arms``, ``seeds`` (a rerun
        may extend them), nor the launcher, device or logging."""
        from simvision.sim2real.ablation import config_fingerprints

        c = self.cfg
        keep = {
            k: getattr(c, k)
            for k in ("render", "seed_render", "val_render", "uniform_render", "frames_per_round", "val_frames")
        }
        keep.update(val_seed=c.val_seed, epochs=c.epochs, finetune=c.finetune, lr=c.lr, real_test=c.real_test)
        rule = dataclasses.asdict(c.rule)
        if not rule.get("min_recall"):  # added later: at its default it stays out (older folders resume)
            rule.pop("min_recall", None)
        keep.update(groups=self.groups, rule=rule, sim2real=config_fingerprints(self.s2r)["eval"])
        return hashlib.sha1(json.dumps(keep, sort_keys=True, default=str).encode()).hexdigest()[:12]

    def _render_cfg(self, extra: Sequence[str], out: Path | None = None) -> DictConfig:
        return compose_config("render", [*extra, f"output_dir={out if out is not None else self.out / 'unused'}"])

    def _shares(self, prior: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        return {g: normalise(w) for g, w in prior.items() if g in self.groups}

    def render_set(self, render_overrides: Sequence[str], out: Path, n: int, seed: int) -> Path:
        """Render ``n`` frames with ``seed`` into ``out`` (in process, or through ``render_launcher``); a set
        finished with the same overrides is kept (the render job itself resumes a part-finished one)."""
        from simvision.dataset.job import run as render

        full = [*render_overrides, f"num_frames={n}", f"seed={seed}"]
        key = hashlib.sha1(json.dumps(full).encode()).hexdigest()  # in process or sharded: the same frames
        marker = out / RENDER_DONE
        done = _read_json(marker)
        if done is not None:
            if done.get("key") != key:
                raise ValueError(f"{out} was rendered with other overrides; use a new output_dir")
            return out
        t0 = time.perf_counter()
        if self.cfg.render_launcher:
            from simvision.dataset.merge import merge_shards

            shards_dir = out.parent / f"{out.name}_shards"
            cmd = launcher_command(full, shards_dir, self.cfg.render_launcher, self.cfg.render_shards)
            log.info("render %s through hydra/launcher=%s (%d shards)", out, self.cfg.render_launcher, len(cmd))
            proc = subprocess.run(cmd, check=False)
            if proc.returncode != 0:
                raise RuntimeError(
                    f"render of {out} through hydra/launcher={self.cfg.render_launcher} failed (exit "
                    f"{proc.returncode}); its logs are under {shards_dir}; rerun to resume"
                )
            shards = sorted(p for p in shards_dir.glob("shard_*") if p.is_dir())
            if out.exists():  # no marker: a merge stopped half-way; the shards hold every frame, merge again
                shutil.rmtree(out)
            merge_shards(shards, out, progress=self.cfg.progress)
        else:
            render(self._render_cfg(full, out))
        _write_json(marker, {"key": key, "overrides": full, "seconds": time.perf_counter() - t0})
        return out

    def _read(self, path: Path) -> list[Any]:
        from simvision.formats.select import read_source

        return read_source(dataclasses.replace(self.s2r.synthetic, path=str(path)), seed=self.s2r.split_seed)

    def validation_set(self) -> list[Any]:
        if self._val is None:
            self.render_set(
                [*self.cfg.render, *self.cfg.val_render], self.val_dir, self.cfg.val_frames, self.cfg.val_seed
            )
            self._val = self._read(self.val_dir)
        return self._val

    def real_test(self) -> list[Any]:
        if self._real is None:
            from simvision.formats.select import read_source

            rt = self.s2r.real_test
            self._real = (
                read_source(rt, seed=self.s2r.split_seed, field="real_test") if self.cfg.real_test and rt else []
            )
        return self._real

    # ------------------------------------------------------------------ rounds

    def round_dir(self, arm: str, seed: int, r: int) -> Path:
        return self.out / "shared" / f"s{seed}" / "round_0" if r == 0 else self.out / arm / f"s{seed}" / f"round_{r}"

    def render_overrides(self, arm: str, r: int, weights: dict[str, dict[str, float]]) -> list[str]:
        if r == 0:
            return [*self.cfg.render, *self.cfg.seed_render]
        if arm == "uniform":
            return [*self.cfg.render, *self.cfg.uniform_render]
        return [*self.cfg.render, *overrides(weights, self.knob_scene, self.bins)]

    def run_round(self, arm: str, seed: int, r: int) -> dict[str, Any]:
        """Render, train, evaluate and reweight round ``r`` of ``arm`` (a finished one is read back)."""
        from simvision.formats.classes import ClassMapping
        from simvision.sim2real.ablation import Sim2RealData, Sim2RealRunner
        from simvision.sim2real.analysis import analyse, write_analysis

        rdir = self.round_dir(arm, seed, r)
        done = _read_json(rdir / "eval.json")
        if done is not None:
            if done.get("fingerprint") != self.fingerprint:
                raise ValueError(
                    f"{rdir / 'eval.json'} was made with another loop or sim2real config (fingerprint "
                    f"{done.get('fingerprint')} != {self.fingerprint}); use a new output_dir"
                )
            return done
        t0 = time.perf_counter()
        val = self.validation_set()  # rendered once, before any round (a real_test may point at it in tests)
        if r == 0:
            weights = self.seed_weights
        elif arm == "uniform":
            weights = self.base_weights
        else:
            prev = _read_json(self.round_dir(arm, seed, r - 1) / "weights.json")
            weights = prev["next_weights"]["loop"]
        render_ov = self.render_overrides(arm, r, weights)
        frames = self.render_set(render_ov, rdir / "frames", self.cfg.frames_per_round, 1000 * seed + r)
        sources = [self.round_dir(arm, seed, i) / "frames" for i in range(r)] + [frames]
        records = [rec for src in sources for rec in self._read(src)]
        base = ClassMapping(self.classes)
        real = self.real_test()
        real_aliases = (self.s2r.real_test.aliases if self.s2r.real_test else None) or {}
        data = Sim2RealData(
            self.classes,
            records,
            [],
            real,
            base.with_aliases(self.s2r.synthetic.aliases or {}),
            base.with_aliases(real_aliases),
        )
        s2r = dataclasses.replace(
            self.s2r, output_dir=str(rdir), synthetic=dataclasses.replace(self.s2r.synthetic, path=str(frames))
        )
        runner = Sim2RealRunner(s2r, data, {**self.s2r_args, "loop": self.args})
        init: Path | None = None
        if r > 0 and self.cfg.finetune:  # the last round's weights (its best.pt when it had a validation split)
            previous = dataclasses.replace(s2r, output_dir=str(self.round_dir(arm, seed, r - 1)))
            init = Sim2RealRunner(previous, data).weights("train")
        t = self.s2r.train
        lr = self.cfg.lr if self.cfg.lr is not None else (t.finetune_lr if init is not None else t.lr)
        log.info("%s seed %d round %d: training on %d frames (%d rounds)", arm, seed, r, len(records), r + 1)
        model, info = runner.train("train", "synthetic", k=0, seed=seed, epochs=self.cfg.epochs, lr=lr, init_from=init)
        analysis = analyse(
            model,
            val,
            data.synthetic_mapping,
            self.classes,
            runner.device,
            root=self.val_dir,
            cfg=self.s2r.analysis,
            max_side=self.s2r.model.max_size,
            batch_size=self.s2r.eval.batch_size,
            progress=self.cfg.progress,
        )
        write_analysis(analysis, rdir)
        syn_ap = next((s["ap50"] for s in analysis["strata"] if s["key"] == "all"), None)
        real_metrics = runner.evaluate(model) if real else None
        stats = [
            StratumStats.from_recall(s["key"], s["level"], s["n_objects"], s["recall"])
            for s in analysis["strata"]
            if s["key"] in self.groups
        ]
        loop_next = next_weights(stats, weights, self.rule)
        _write_json(
            rdir / "weights.json",
            {
                "arm": arm if r else "shared",
                "seed": seed,
                "round": r,
                "weights": weights,
                "render_overrides": render_ov,
                "render_seed": 1000 * seed + r,
                "next_weights": {"loop": loop_next, "uniform": self.base_weights},
                "rule": dataclasses.asdict(self.rule),
            },
        )
        real_ap = float(real_metrics["map_50"]) if real_metrics else None
        result: dict[str, Any] = {
            "arm": arm if r else "shared",
            "seed": seed,
            "round": r,
            "frames": self.cfg.frames_per_round * (r + 1),
            "real_ap50": real_ap,
            "synthetic_val_ap50": syn_ap,
            "real": {k: real_metrics[k] for k in ("map", "map_50", "per_class")} if real_metrics else None,
            "weights": weights,
            "strata": [
                {k: s[k] for k in ("key", "level", "n_objects", "recall", "recall_interval", "ap50", "ap50_interval")}
                for s in analysis["strata"]
            ],
            "train": {k: info.get(k) for k in ("epochs_run", "final_loss", "train_s", "checkpoint")},
            "train_images": len(records),
            "val_images": len(val),
            "real_test_images": len(real),
            "seconds": time.perf_counter() - t0,
            "fingerprint": self.fingerprint,
        }
        _write_json(rdir / "eval.json", result)  # last: its presence marks the round finished
        log.info(
            "%s seed %d round %d: %d frames, synthetic val AP50 %s, real AP50 %s (%.0f s)",
            arm,
            seed,
            r,
            result["frames"],
            _f(syn_ap),
            _f(real_ap),
            result["seconds"],
        )
        return result

    def run_arm(self, arm: str, seed: int) -> list[dict[str, Any]]:
        out = []
        best, since = None, 0
        for r in range(self.cfg.rounds):
            rec = {**self.run_round(arm, seed, r), "arm": arm}
            out.append(rec)
            score = rec["real_ap50"] if rec["real_ap50"] is not None else rec["synthetic_val_ap50"]
            if score is not None and (best is None or score > best):
                best, since = score, 0
            else:
                since += 1
            if self.cfg.patience and since >= self.cfg.patience and r + 1 < self.cfg.rounds:
                log.info("%s seed %d: no better AP50 for %d rounds, stopping after round %d", arm, seed, since, r)
                break
        return out

    def run(self) -> dict[str, Any]:
        records: list[dict[str, Any]] = []
        for seed in self.cfg.seeds:
            for arm in self.cfg.arms:
                records += self.run_arm(arm, seed)
                write_report(self.report(records), self.out)
        doc = self.report(records)
        files = write_report(doc, self.out)
        doc["files"] = {k: str(v) for k, v in files.items()}
        return doc

    def report(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "records": records,
            "summary": summarise(records),
            "classes": self.classes,
            "groups": self.groups,
            "config": self.args,
            "sim2real": self.s2r_args,
        }


def _f(v: float | None, digits: int = 3) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


# ------------------------------------------------------------------ report


def _mean_std(values: Sequence[float | None]) -> tuple[float | None, float | None]:
    vals = [float(v) for v in values if v is not None]
    if not vals:
        return None, None
    mean = sum(vals) / len(vals)
    std = (sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) ** 0.5 if len(vals) > 1 else None
    return mean, std


def summarise(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (arm, round): frames rendered, seeds, mean and sample std over seeds of real and synthetic-val
    AP50; per round also the loop - uniform difference, paired by seed (mean and std)."""
    by: dict[tuple[str, int], dict[int, dict[str, Any]]] = {}
    for r in records:
        by.setdefault((r["arm"], r["round"]), {})[r["seed"]] = r
    out = []
    for (arm, rnd), rs in sorted(by.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        entry: dict[str, Any] = {"arm": arm, "round": rnd, "frames": next(iter(rs.values()))["frames"]}
        entry["seeds"] = sorted(rs)
        for key in ("real_ap50", "synthetic_val_ap50"):
            entry[key], entry[f"{key}_std"] = _mean_std([r[key] for r in rs.values()])
        out.append(entry)
    for rnd in sorted({k[1] for k in by}):
        loop, uni = by.get(("loop", rnd), {}), by.get(("uniform", rnd), {})
        paired = sorted(set(loop) & set(uni))
        if not paired:
            continue
        entry = {"arm": "loop - uniform", "round": rnd, "frames": loop[paired[0]]["frames"], "seeds": paired}
        for key in ("real_ap50", "synthetic_val_ap50"):
            diffs = [loop[s][key] - uni[s][key] for s in paired if loop[s][key] is not None and uni[s][key] is not None]
            entry[key], entry[f"{key}_std"] = _mean_std(diffs)
        out.append(entry)
    return out


def _pm(mean: float | None, std: float | None) -> str:
    return _f(mean) + (f" ± {std:.3f}" if std is not None else "")


def loop_markdown(doc: dict[str, Any], plot_name: str | None = None) -> str:
    records = doc["records"]
    lines = [
        "# Closed loop",
        "",
        "Generated by `simvision-loop` (docs/closed_loop.md). AP50 on the real test set (torchmetrics COCO mAP@0.5)",
        "and on the fixed synthetic validation set (101-point AP50 of the error analysis, all objects).",
        "",
        "## Loop vs uniform at equal frames rendered (mean ± std over seeds; the difference paired by seed)",
        "",
        "| arm | round | frames rendered | seeds | real AP50 | synthetic val AP50 |",
        "|---|---|---|---|---|---|",
    ]
    for e in doc.get("summary") or summarise(records):
        lines.append(
            f"| {e['arm']} | {e['round']} | {e['frames']} | {len(e['seeds'])} | "
            f"{_pm(e['real_ap50'], e['real_ap50_std'])} | "
            f"{_pm(e['synthetic_val_ap50'], e['synthetic_val_ap50_std'])} |"
        )
    lines += [
        "",
        "## Every round",
        "",
        "| arm | seed | round | frames rendered | real AP50 | synthetic val AP50 |",
        "|---|---|---|---|---|---|",
    ]
    for r in records:
        lines.append(
            f"| {r['arm']} | {r['seed']} | {r['round']} | {r['frames']} | {_f(r['real_ap50'])} | "
            f"{_f(r['synthetic_val_ap50'])} |"
        )
    lines += ["", "## Weights each round rendered with (shares per knob group)", ""]
    for r in records:
        if r["arm"] == "uniform" and r["round"] > 0:
            continue
        lines.append(f"- {r['arm']} seed {r['seed']} round {r['round']}: " + _weights_text(r["weights"]))
    lines += ["", "## Per-stratum AP50 (recall), first vs last round", ""]
    for (arm, seed), rs in _by_arm(records).items():
        first, last = rs[0], rs[-1]
        lines += [
            f"### {arm}, seed {seed}: round {first['round']} vs round {last['round']}",
            "",
            "| stratum | level | objects | AP50 first | AP50 last | recall first | recall last |",
            "|---|---|---|---|---|---|---|",
        ]
        before = {(s["key"], s["level"]): s for s in first["strata"]}
        for s in sorted(last["strata"], key=lambda s: (s["key"], s["level"])):
            b = before.get((s["key"], s["level"]), {})
            lines.append(
                f"| {s['key']} | {s['level']} | {s['n_objects']} | {_f(b.get('ap50'))} | {_f(s['ap50'])} | "
                f"{_f(b.get('recall'))} | {_f(s['recall'])} |"
            )
        lines.append("")
    if plot_name:
        lines += [f"![AP50 vs frames rendered]({plot_name})", ""]
    return "\n".join(lines)


def _weights_text(weights: dict[str, dict[str, float]]) -> str:
    return "; ".join(f"{g}: " + ", ".join(f"{k} {v:.2f}" for k, v in w.items()) for g, w in weights.items() if w)


def _by_arm(records: Sequence[dict[str, Any]]) -> dict[tuple[str, int], list[dict[str, Any]]]:
    out: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in records:
        out.setdefault((r["arm"], r["seed"]), []).append(r)
    return out


def plot_loop(doc: dict[str, Any], path: Path) -> Path:
    """Left: real and synthetic-val AP50 vs frames rendered, loop vs uniform (mean over seeds). Right: the
    recall per stratum (the knob groups' first) of the first and last round of each arm (first seed)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import numpy as np

    records = doc["records"]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 3.8))
    colours = {"loop": "tab:orange", "uniform": "tab:blue"}
    for arm in ("loop", "uniform"):
        for key, style in (("real_ap50", "-"), ("synthetic_val_ap50", "--")):
            pts: dict[int, list[float]] = {}
            for r in records:
                if r["arm"] == arm and r[key] is not None:
                    pts.setdefault(r["frames"], []).append(r[key])
            if pts:
                xs = sorted(pts)
                ax.plot(xs, [float(np.mean(pts[x])) for x in xs], style, marker="o", color=colours[arm],
                        label=f"{arm} {'real' if key == 'real_ap50' else 'synthetic val'}")  # fmt: skip
    ax.set_xlabel("frames rendered")
    ax.set_ylabel("AP50")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    groups = _by_arm(records)
    bars: list[tuple[str, list[dict[str, Any]]]] = []
    for (arm, _seed), rs in groups.items():
        if not any(b[0].startswith(arm) for b in bars):
            bars += [(f"{arm} r{rs[0]['round']}", rs[0]["strata"]), (f"{arm} r{rs[-1]['round']}", rs[-1]["strata"])]
    # the strata of the knob groups first (what the rule reads and steers), then the others; their recall
    knobs = {g for r in records for g in (r.get("weights") or {})}
    found = {(s["key"], s["level"]) for _, st in bars for s in st if s.get("recall") is not None}
    levels = sorted(found - {("all", "all")}, key=lambda kv: (kv[0] not in knobs, kv))[:18]
    width = 0.8 / max(1, len(bars))
    for i, (name, strata) in enumerate(bars):
        rec = {(s["key"], s["level"]): s.get("recall") for s in strata}
        bx.bar(np.arange(len(levels)) + i * width, [rec.get(lv) or 0.0 for lv in levels], width, label=name)
    bx.set_xticks(np.arange(len(levels)) + 0.4 - width / 2)
    bx.set_xticklabels([f"{k}={v}" for k, v in levels], rotation=60, ha="right", fontsize=6)
    bx.set_ylabel("recall per stratum (synthetic val)")
    bx.set_ylim(bottom=0)
    bx.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_report(doc: dict[str, Any], out: Path) -> dict[str, Path]:
    files = {"json": out / "loop.json", "md": out / "loop.md", "html": out / "loop.html", "plot": out / "loop.png"}
    _write_json(files["json"], doc)
    plot_loop(doc, files["plot"])
    md = loop_markdown(doc, files["plot"].name)
    files["md"].write_text(md)
    files["html"].write_text(markdown_to_html(md, "simvision closed loop"))
    return files


def run_loop(cfg: DictConfig | LoopConfig) -> dict[str, Any]:
    """Run the loop of a composed ``conf/loop.yaml`` (or a ``LoopConfig``); returns the report."""
    typed, args = plain_loop_config(cfg)
    return LoopRunner(typed, args).run()
