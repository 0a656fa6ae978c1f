"""Where the YAML configs, scene layouts and assets live.

The package is installed editable from a checkout (``make setup``), so the top-level ``conf/``,
``scenes/`` and ``assets/`` sit beside it. ``SIMVISION_HOME`` points elsewhere for other installs.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(os.environ.get("SIMVISION_HOME", Path(__file__).resolve().parents[2]))
CONF_DIR = REPO_ROOT / "conf"
SCENES_DIR = REPO_ROOT / "scenes"
ASSETS_DIR = REPO_ROOT / "assets"
