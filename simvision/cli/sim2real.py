"""``simvision-sim2real``: does synthetic data help a detector on real images, and for which classes?

    simvision-sim2real synthetic.path=out/street                       # the whole ablation, one table
    simvision-sim2real mode=train train_on=synthetic synthetic.path=out/street
    simvision-sim2real mode=train train_on=real k=16 init_checkpoint=<run>/runs/train_synthetic_k0_s0/checkpoint.pt
    simvision-sim2real mode=evaluate checkpoint=<run>/runs/.../checkpoint.pt
    simvision-sim2real mode=analyse checkpoint=<run>/runs/.../best.pt synthetic.path=out/street_val
Runs resume from their checkpoints when started again with the same ``hydra.run.dir`` / ``output_dir``.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import hydra
from omegaconf import DictConfig

from simvision.config.paths import CONF_DIR
from simvision.io.folder import DatasetError
from simvision.sim2real.config import Sim2RealConfig, plain_config, register_sim2real_configs

register_sim2real_configs()
log = logging.getLogger("simvision.sim2real")

MODES = ("ablation", "train", "evaluate", "analyse")


def run(cfg: DictConfig | Sim2RealConfig) -> dict[str, Any]:
    """Run the configured mode; returns its results (the ablation's summary rows and table, or metrics)."""
    from simvision.sim2real.ablation import Sim2RealRunner, analyse_checkpoint, load_data, run_ablation
    from simvision.sim2real.augment import check_train
    from simvision.sim2real.checkpoint import load_checkpoint

    c, args = plain_config(cfg)
    if c.mode not in MODES:
        raise ValueError(f"unknown mode {c.mode!r}; choose one of {MODES}")
    check_train(c.train)
    out = Path(c.output_dir)
    if c.mode == "analyse":  # the synthetic validation split (train.val_fraction > 0), else all of synthetic
        if not c.checkpoint:
            raise ValueError("mode=analyse needs checkpoint=<path to checkpoint.pt or best.pt>")
        result, n_images = analyse_checkpoint(c, c.checkpoint, args)
        result["files"] = {"json": str(out / "analysis.json"), "md": str(out / "analysis.md")}
        weakest = [f"{s['key']}={s['level']} recall {s['recall']:.3f}" for s in result["strata"][:5]]
        print(f"\nanalysis of {n_images} images written to {out}; weakest: {'; '.join(weakest)}\n")
        return result
    if c.mode == "ablation":
        result = run_ablation(c, args)
        print("\n" + result.table + "\n")
        log.info("ablation written to %s", result.files["md"].resolve())
        return {
            "summary": result.summary,
            "rows": result.rows,
            "table": result.table,
            "files": {k: str(v) for k, v in result.files.items()},
        }
    data = load_data(c, need_synthetic=c.mode == "train" and c.train_on in ("synthetic", "mixed"))
    runner = Sim2RealRunner(c, data, args)
    if c.mode == "train":
        finetune = c.init_checkpoint is not None
        epochs = {
            "synthetic": c.train.epochs_synthetic,
            "mixed": c.train.epochs_synthetic,
            "real": c.train.epochs_finetune if finetune else c.train.epochs_real,
        }[c.train_on]
        k = 0 if c.train_on == "synthetic" else c.k
        row = runner.run(
            f"train_{c.train_on}_k{k}_s{c.seed}",
            c.train_on,
            c.train_on,
            k=k,
            seed=c.seed,
            epochs=epochs,
            lr=c.train.finetune_lr if finetune else c.train.lr,
            init_from=Path(c.init_checkpoint) if c.init_checkpoint else None,
        )
    else:
        if not c.checkpoint:
            raise ValueError("mode=evaluate needs checkpoint=<path to checkpoint.pt>")
        model = runner.new_model(c.seed)
        load_checkpoint(c.checkpoint, model=model)
        row = {"checkpoint": c.checkpoint, **runner.evaluate(model)}
        out.mkdir(parents=True, exist_ok=True)
        (out / "evaluate.json").write_text(json.dumps(row, indent=2))
    per_class = ", ".join(
        f"{n}: AP50 {v['ap50'] if v['ap50'] is not None else '-'}" for n, v in row["per_class"].items()
    )
    print(f"\nmAP {row['map']:.4f}  mAP50 {row['map_50']:.4f}  ECE {row['calibration']['ece']:.4f}  ({per_class})\n")
    return row


@hydra.main(config_path=str(CONF_DIR), config_name="sim2real", version_base="1.3")
def _app(cfg: DictConfig) -> None:
    try:
        run(cfg)
    except (FileNotFoundError, DatasetError) as exc:  # a path to fix, not a bug: no traceback
        print(f"simvision-sim2real: error: {exc}", file=sys.stderr)
        sys.exit(2)


def main() -> None:
    _app()


if __name__ == "__main__":
    main()
