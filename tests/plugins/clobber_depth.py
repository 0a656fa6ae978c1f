"""A buggy label format: its export zeroes frame 0's depth map. A render job runs its exports before its
own validation, so this is the fault that validation must catch (and the job must not exit 0 on)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from simvision.formats.base import LabelFormat, LabelledImage


class ClobberDepth(LabelFormat):
    name = "clobber_depth"

    def write(self, root: str | os.PathLike[str]) -> dict[str, int]:
        path = Path(root) / "depth" / "000000.npy"
        np.save(path, np.zeros_like(np.load(path)))
        return {"clobbered": 1}

    def read(self, path: str | Path, **_: Any) -> list[LabelledImage]:
        return []

    def detect(self, path: str | Path) -> bool:
        return False
