"""Config schemas, composition helpers and validation."""

from simvision.config.paths import ASSETS_DIR, CONF_DIR, REPO_ROOT, SCENES_DIR
from simvision.config.schema import register_configs

__all__ = ["ASSETS_DIR", "CONF_DIR", "REPO_ROOT", "SCENES_DIR", "register_configs"]
