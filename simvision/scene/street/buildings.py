"""Backdrop buildings lining the street: unlabelled scenery."""

from __future__ import annotations

import numpy as np

from simvision.scene.shapes import cuboid
from simvision.scene.street.meshes import (
    PartsBuilder,
    PartsMesh,
    RecordingSampler,
    box,
    face_normals,
)


def make_building(
    *, rng: np.random.Generator, width: float | None = None, depth: float | None = None, height: float | None = None
) -> PartsMesh:
    """A block building: the facade (+x) has a door; every facade has a grid of protruding windows.

    ``width`` is the facade length along y, ``depth`` the extent along x; unspecified sizes are sampled.
    """
    s = RecordingSampler(rng)
    width = s.u("width", 8.0, 30.0) if width is None else float(width)
    depth = s.u("depth", 8.0, 20.0) if depth is None else float(depth)
    height = s.u("height", 6.0, 40.0) if height is None else float(height)
    s.params.update(width=width, depth=depth, height=height)
    floor_h, spacing = s.u("floor_height", 2.8, 3.6), s.u("window_spacing", 2.4, 4.0)
    win_w, win_h = s.u("window_width", 0.9, 1.6), s.u("window_height", 1.1, 1.8)
    door_w, door_h = s.u("door_width", 1.0, 2.2), s.u("door_height", 2.1, 2.6)
    door_y = s.u("door_offset", -0.3, 0.3) * width
    parapet = s.u("parapet", 0.0, 0.8)
    parts = PartsBuilder(("wall", "glass", "door", "roof"))
    v, f = cuboid((depth, width, height))
    roof = face_normals(v, f)[:, 2] > 0.9
    parts.add((v, f), np.where(roof, parts.sid("roof"), parts.sid("wall")))
    if parapet > 0.05:
        parts.add(box((0, 0, height + parapet / 2), (depth + 0.1, width + 0.1, parapet)), "wall")
        parts.add(box((0, 0, height + 0.05), (depth - 0.4, width - 0.4, 0.1)), "roof")
    floors = max(1, int(height // floor_h))
    sill = s.u("sill_height", 0.8, 1.0)
    for axis, sign, facade_len in ((0, 1.0, width), (0, -1.0, width), (1, 1.0, depth), (1, -1.0, depth)):
        columns = max(1, int(facade_len // spacing))
        offsets = (np.arange(columns) - (columns - 1) / 2) * (facade_len / columns)
        for floor in range(floors):
            z = floor * floor_h + sill + win_h / 2
            if z + win_h / 2 > height - 0.3:
                continue
            for t in offsets:
                if axis == 0 and sign > 0 and floor == 0 and abs(t - door_y) < (door_w + win_w) / 2 + 0.3:
                    continue
                if axis == 0:
                    parts.add(box((sign * depth / 2, t, z), (0.1, win_w, win_h)), "glass")
                else:
                    parts.add(box((t, sign * width / 2, z), (win_w, 0.1, win_h)), "glass")
    parts.add(box((depth / 2, door_y, door_h / 2), (0.12, door_w, door_h)), "door")
    return parts.finish("building", s.params)
