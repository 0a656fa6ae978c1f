"""``simvision-render``: the Hydra app that renders one dataset (one shard per Hydra job).

Exit codes: 0 done; 1 rendered, but the shard's own validation failed; 2 bad input, a busy folder or a
write error (one line naming the field or file); 130 Ctrl-C (what was written is kept, rerun to resume).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from simvision.config import CONF_DIR, ConfigError
from simvision.dataset.job_config import register_configs
from simvision.scene.assets import AssetError

# Ray (hydra/launcher=ray_*) would start its workers with `uv run` when it sees one in the parent
# process, outside the project and so without simvision; the workers must use this interpreter.
os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
register_configs()
log = logging.getLogger("simvision")


@hydra.main(config_path=str(CONF_DIR), config_name="render", version_base="1.3")
def _app(cfg: DictConfig) -> None:
    from simvision.dataset.job import InvalidDatasetError, OutputError, run  # noqa: PLC0415
    from simvision.dataset.job_config import check_preset  # noqa: PLC0415
    from simvision.render.infinigen_assets import InfinigenAssetError  # noqa: PLC0415 - no Blender import
    from simvision.render.runtime import RenderDeviceError  # noqa: PLC0415 - no Blender import

    try:
        runtime = HydraConfig.get().runtime
        preset = runtime.choices.get("experiment")
        if preset:
            sources = [Path(s.path) for s in runtime.config_sources if s.schema == "file"]
            check_preset(str(preset), sources)
        run(cfg)
    except (ConfigError, AssetError, OutputError, RenderDeviceError) as exc:
        # one line naming the field or file, nothing rendered
        print(f"simvision-render: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except InfinigenAssetError as exc:  # generating the assets failed: one line naming them, then the helper's tail
        print(f"simvision-render: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except InvalidDatasetError as exc:  # rendered, but the end-of-run validation failed
        print(f"simvision-render: error: {exc}", file=sys.stderr)
        sys.exit(1)


def main() -> None:
    try:
        _app()
    except KeyboardInterrupt as exc:  # Ctrl-C: what was written is kept (the render loop's frames included)
        frames = getattr(exc, "frames", 0)
        print(f"simvision-render: interrupted after {frames} frames; rerun to resume", file=sys.stderr)
        sys.exit(130)


if __name__ == "__main__":
    main()
