"""Footprints of the room's static pieces (furniture, chairs, wall decor): axis-aligned rectangles, so a long
kitchen run fits along a wall where the circle round it could not (no Blender)."""

from __future__ import annotations

import numpy as np
import pytest

from simvision.scene.tabletop.sampler import CLUTTER_KEEP_OUT_M, Footprint


def _box(depth: float, width: float, tall: float = 1.0) -> np.ndarray:
    """The corners of a piece ``depth`` along x, ``width`` along y, centred in xy, standing on z = 0."""
    return np.array([[x, y, z] for x in (-depth / 2, depth / 2) for y in (-width / 2, width / 2) for z in (0, tall)])


def test_a_turned_footprint_swaps_its_extents_and_moves_with_its_centre() -> None:
    kitchen = _box(0.86, 4.06)
    along_x_wall = Footprint.of(kitchen, np.array([-2.5, 0.3]), 0.0)
    assert along_x_wall.lo == pytest.approx([-2.93, -1.73]) and along_x_wall.hi == pytest.approx([-2.07, 2.33])
    along_back_wall = Footprint.of(kitchen, np.array([0.4, 2.5]), -np.pi / 2)  # front (+x) now faces -y
    assert along_back_wall.lo == pytest.approx([-1.63, 2.07]) and along_back_wall.hi == pytest.approx([2.43, 2.93])


def test_a_long_kitchen_clears_the_table_where_its_circle_would_not() -> None:
    room_half = 3.0
    table = Footprint.around(np.zeros(2), np.array([0.6, 0.4]) + CLUTTER_KEEP_OUT_M)
    depth, width = 0.86, 4.06
    centre = np.array([-room_half + depth / 2 + 0.05, 0.0])  # back to the x = -3 wall
    kitchen = Footprint.of(_box(depth, width), centre, 0.0)
    assert not kitchen.overlaps(table)
    circle_radius = np.hypot(depth, width) / 2  # the old test: the centre this far out past the keep-out
    assert not np.any(np.abs(centre) > np.array([0.6, 0.4]) + CLUTTER_KEEP_OUT_M + circle_radius)
    moved_in = Footprint.of(_box(depth, width), centre + np.array([1.5, 0.0]), 0.0)
    assert moved_in.overlaps(table)


def test_overlap_with_a_gap_and_touching_pieces() -> None:
    a = Footprint(np.array([0.0, 0.0]), np.array([1.0, 1.0]))
    touching = Footprint(np.array([1.0, 0.0]), np.array([2.0, 1.0]))
    near = Footprint(np.array([1.03, 0.2]), np.array([2.0, 0.8]))
    diagonal = Footprint(np.array([1.2, 1.2]), np.array([2.0, 2.0]))
    assert not a.overlaps(touching) and a.overlaps(touching, gap=0.01)
    assert not a.overlaps(near) and a.overlaps(near, gap=0.05) and near.overlaps(a, gap=0.05)  # symmetric
    assert not a.overlaps(diagonal, gap=0.1)  # apart along both axes
    assert a.overlaps(Footprint(np.array([0.2, 0.2]), np.array([0.4, 0.4])))  # inside


@pytest.mark.parametrize(
    ("a", "b", "gap", "crosses"),
    [
        ((-2.0, 0.5), (3.0, 0.5), 0.0, True),  # straight through
        ((0.5, -3.0), (0.5, -0.5), 0.0, False),  # stops short of it
        ((0.5, -3.0), (0.5, -0.5), 0.6, True),  # ... but within the gap
        ((-2.0, 1.5), (3.0, 1.5), 0.0, False),  # parallel, above it
        ((-2.0, 1.5), (3.0, 1.5), 0.6, True),
        ((-1.0, 2.5), (2.5, -1.0), 0.0, True),  # diagonal through a corner region
        ((-1.0, 3.5), (3.5, -1.0), 0.0, False),  # diagonal passing the corner (1, 1) outside
        ((0.2, 0.2), (0.8, 0.8), 0.0, True),  # wholly inside
    ],
)
def test_a_sight_line_crossing_a_footprint(a, b, gap: float, crosses: bool) -> None:
    unit = Footprint(np.array([0.0, 0.0]), np.array([1.0, 1.0]))
    assert unit.crosses(np.array(a, dtype=float), np.array(b, dtype=float), gap) is crosses
    assert unit.crosses(np.array(b, dtype=float), np.array(a, dtype=float), gap) is crosses  # either direction
