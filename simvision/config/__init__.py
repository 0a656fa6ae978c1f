"""The ground floor of configuration: paths, the class table and the checks each block's validator uses.

Schemas live with the subsystem they configure (scene types in ``simvision/scene/``, render
settings in ``simvision/render/settings.py``, the render job in ``simvision/dataset/job_config.py``);
this package imports nothing of simvision above it.
"""

from simvision.config.checks import ConfigError
from simvision.config.paths import ASSETS_DIR, CONF_DIR, REPO_ROOT, SCENES_DIR

__all__ = ["ASSETS_DIR", "CONF_DIR", "ConfigError", "REPO_ROOT", "SCENES_DIR"]
