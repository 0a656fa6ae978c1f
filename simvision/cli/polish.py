"""``simvision-polish``: label-safe diffusion polishing of a rendered dataset, or texture pre-generation.

    simvision-polish out/demo model=/models/sd15 strength=0.3              # image polish in place
    simvision-polish out/demo --out out/demo_polished model=/models/sd15 \\
        controlnet=/models/controlnet-depth conditioning=depth
    simvision-polish --preset textures model=/models/sd15 prompts.cup="glazed ceramic"   # fill the cache

Settings are the fields of :class:`simvision.polish.config.PolishConfig`, starting from
``conf/polish/<preset>.yaml`` (``image`` by default, or a YAML path) with ``key=value`` overrides.
``--tiny`` swaps in a tiny random-weight pipeline (no weights needed): a plumbing smoke test only.
Nothing is downloaded; see docs/polish.md.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simvision.config.paths import CONF_DIR
from simvision.io.folder import DatasetError
from simvision.polish import MissingExtraError, PolishWeightsError
from simvision.polish.config import PolishConfig, PolishConfigError, to_polish_config

__all__ = ["load_config", "run", "main"]

log = logging.getLogger("simvision.polish")
TINY_MODEL_ID = "tiny-random"


def load_config(preset: str = "image", overrides: Sequence[str] = ()) -> PolishConfig:
    """``conf/polish/<preset>.yaml`` (or a YAML file path) with ``key=value`` overrides, validated."""
    from omegaconf import OmegaConf

    path = Path(preset)
    if path.suffix not in (".yaml", ".yml"):
        path = CONF_DIR / "polish" / f"{preset}.yaml"
    if not path.is_file():
        choices = sorted(p.stem for p in (CONF_DIR / "polish").glob("*.yaml"))
        raise PolishConfigError(f"polish preset {preset!r}: no {path} (choices: {', '.join(choices)} or a YAML path)")
    return to_polish_config(OmegaConf.load(path), overrides)


def run(
    cfg: PolishConfig,
    dataset: str | None = None,
    *,
    out_dir: str | None = None,
    frame_ids: list[int] | None = None,
    tiny: bool = False,
    progress: bool = True,
) -> Any:
    """Run the configured mode: ``image`` polishes ``dataset`` (returns a ``PolishSummary``); ``textures``
    fills the texture cache for every prompt (returns the PNG paths); ``none`` does nothing."""
    from simvision.polish import require_polish

    if cfg.mode == "none":
        log.info("polish.mode=none: nothing to do")
        return None
    require_polish()
    if cfg.mode == "textures":
        from simvision.polish.textures import TextureGenerator

        pipe = None
        if tiny:
            from simvision.polish.tiny import tiny_text2img_pipeline

            pipe = tiny_text2img_pipeline()
        gen = TextureGenerator(cfg, pipe=pipe, model_id=TINY_MODEL_ID if tiny else None)
        paths = gen.pregenerate()
        print(f"{len(paths)} textures in {gen.cache_dir} ({gen.calls} generated, {len(paths) - gen.calls} cached)")
        return paths
    if dataset is None:
        raise PolishConfigError("polish.mode=image needs a DATASET folder")
    from simvision.polish.dataset import polish_dataset
    from simvision.polish.image import ImagePolisher

    polisher = None
    if tiny:
        from simvision.polish.tiny import tiny_inpaint_pipeline

        polisher = ImagePolisher(
            cfg, pipe=tiny_inpaint_pipeline(controlnet=bool(cfg.controlnet)), model_id=TINY_MODEL_ID
        )
    summary = polish_dataset(dataset, cfg, out_dir=out_dir, polisher=polisher, frame_ids=frame_ids, progress=progress)
    print(summary.line())
    return summary


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="simvision-polish",
        description="Label-safe diffusion polishing (docs/polish.md). Positional KEY=VALUE arguments override "
        "PolishConfig fields, e.g. model=/models/sd15 strength=0.3 mask=objects action=flag.",
    )
    p.add_argument(
        "args", nargs="*", metavar="DATASET | KEY=VALUE", help="the dataset folder (mode=image) and/or overrides"
    )
    p.add_argument("--preset", default=None, help="conf/polish/<name>.yaml or a YAML path (default: image)")
    p.add_argument("--out", dest="out_dir", default=None, help="write a polished copy here (default: in place)")
    p.add_argument("--frames", default=None, help="comma-separated frame ids to polish (default: all)")
    p.add_argument("--tiny", action="store_true", help="tiny random-weight pipeline: plumbing smoke test, no weights")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point: 0 on success, 2 on a usage, config, weights or dataset error (one line)."""
    args = _parser().parse_intermixed_args(argv)
    overrides = [a for a in args.args if "=" in a]
    positional = [a for a in args.args if "=" not in a]
    if len(positional) > 1:
        print(f"simvision-polish: error: one DATASET expected, got {positional}", file=sys.stderr)
        return 2
    dataset = positional[0] if positional else None
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        cfg = load_config(args.preset or "image", overrides)
        frame_ids = [int(x) for x in args.frames.split(",") if x.strip()] if args.frames else None
        if dataset is not None and not Path(dataset).is_dir():
            raise DatasetError(f"{dataset}: not a folder")
        run(cfg, dataset, out_dir=args.out_dir, frame_ids=frame_ids, tiny=args.tiny, progress=not args.no_progress)
    except (PolishConfigError, PolishWeightsError, MissingExtraError, DatasetError, ValueError) as exc:
        print(f"simvision-polish: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
