"""``simvision-loop``: the closed loop of issue 15 (docs/closed_loop.md).

    simvision-loop 'render=["scene=street","render.resolution=[320,240]"]' \
        'sim2real=["class_names=[car,person,traffic_cone]"]'
    simvision-loop ... rounds=6 patience=2 seeds=[0,1,2] arms=[loop,uniform]
    simvision-loop ... render_launcher=local render_shards=4          (each round's render through Hydra's joblib)
Resume: run again with the same ``output_dir`` (or ``hydra.run.dir``): finished rounds are read back.
Exit codes: 0 done; 2 bad input (one line naming the field or file).
"""

from __future__ import annotations

import logging
import sys

import hydra
from omegaconf import DictConfig

from simvision.config.checks import ConfigError
from simvision.config.paths import CONF_DIR
from simvision.io.folder import DatasetError
from simvision.loop.config import register_loop_configs

register_loop_configs()
log = logging.getLogger("simvision.loop")


@hydra.main(config_path=str(CONF_DIR), config_name="loop", version_base="1.3")
def _app(cfg: DictConfig) -> None:
    from simvision.loop.run import run_loop  # noqa: PLC0415 - torch and Blender load only when it runs

    try:
        doc = run_loop(cfg)
    except (ValueError, ConfigError, FileNotFoundError, DatasetError) as exc:  # input to fix: no traceback
        print(f"simvision-loop: error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}", file=sys.stderr)
        sys.exit(2)
    print(f"\nclosed loop: {len(doc['records'])} rounds; report {doc['files']['md']}\n")


def main() -> None:
    _app()


if __name__ == "__main__":
    main()
