"""Label maths against geometry we control (no Blender)."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from simvision.labels.boxes import amodal_box, tight_box, truncation, visible_fraction
from simvision.labels.geometry import (
    box_corners,
    intrinsics_from_hfov,
    look_at,
    project,
    rasterize_silhouette,
    transform,
    world_points,
)
from simvision.labels.rle import coco_rle, decode_rle, encode_rle
from simvision.scene.shapes import CLASS_SHAPES, DISTRACTOR_SHAPES, cuboid, make_shape

K = np.array([[100.0, 0.0, 49.5], [0.0, 100.0, 39.5], [0.0, 0.0, 1.0]])  # 100 x 80 image


def square_triangles(half: float, z: float) -> np.ndarray:
    a, b, c, d = [-half, -half, z], [half, -half, z], [half, half, z], [-half, half, z]
    return np.array([[a, b, c], [a, c, d]], dtype=np.float64)


def test_silhouette_of_a_square_has_the_projected_area() -> None:
    # a 0.2 m square at 1 m with f = 100 px covers 20 x 20 pixels
    mask = rasterize_silhouette(square_triangles(0.1, 1.0), K, 100, 80)
    assert abs(int(mask.sum()) - 400) <= 45
    box = tight_box(mask)
    assert box is not None
    assert box[2] == pytest.approx(20, abs=1.5) and box[3] == pytest.approx(20, abs=1.5)
    assert box[0] + box[2] / 2 == pytest.approx(50, abs=1)


def test_silhouette_clips_triangles_behind_the_camera() -> None:
    # a long floor strip from behind the camera to 5 m ahead: only the part ahead is drawn
    tri = np.array([[[-0.5, 0.5, -1.0], [0.5, 0.5, -1.0], [0.0, 0.5, 5.0]]])
    mask = rasterize_silhouette(tri, K, 100, 80)
    assert mask.any()
    assert not mask[:39].any()  # nothing above the horizon row (y = 0.5 is below the camera)


def test_tight_box_equals_pycocotools_box_of_the_rle() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        mask = np.zeros((37, 53), dtype=bool)
        y0, x0 = rng.integers(0, 30), rng.integers(0, 45)
        mask[y0 : y0 + rng.integers(1, 7), x0 : x0 + rng.integers(1, 8)] = True
        mask[rng.integers(0, 37), rng.integers(0, 53)] = True
        rle = encode_rle(mask)
        coco_box = mask_utils.toBbox({"size": rle["size"], "counts": rle["counts"].encode()}).tolist()
        assert tight_box(mask) == coco_box
        assert (mask_utils.decode({"size": rle["size"], "counts": rle["counts"].encode()}) == mask).all()
    assert tight_box(np.zeros((4, 4), dtype=bool)) is None


def test_rle_encode_decode_round_trip() -> None:
    rng = np.random.default_rng(5)
    for shape in [(37, 53), (1, 1), (6, 4)]:
        for mask in (rng.random(shape) > 0.6, np.zeros(shape, bool), np.ones(shape, bool)):
            rle = encode_rle(mask)
            assert isinstance(rle["counts"], str) and rle["size"] == list(shape)
            back = decode_rle(rle)
            assert back.dtype == bool and back.shape == shape and (back == mask).all()
            assert (decode_rle(coco_rle(rle)) == mask).all()  # counts already bytes


def test_amodal_box_is_the_projected_cube_clipped_to_the_image() -> None:
    corners = box_corners(np.array([0.0, 0.0, 2.0]), np.array([0.2, 0.2, 0.2]))
    box = amodal_box(corners, K, 100, 80)
    # nearest face at z = 1.9: half width 0.1 * 100 / 1.9 = 5.26 px around the centre 49.5 (+0.5 edge)
    assert box == pytest.approx([50 - 5.263, 40 - 5.263, 10.526, 10.526], abs=1e-2)
    shifted = box_corners(np.array([0.5, 0.0, 1.0]), np.array([0.2, 0.2, 0.2]))
    clipped = amodal_box(shifted, K, 100, 80)
    assert clipped is not None and clipped[0] + clipped[2] == pytest.approx(100.0)
    assert amodal_box(box_corners(np.array([0, 0, -3.0]), np.ones(3)), K, 100, 80) is None


def test_truncation_of_a_square_half_outside_the_image() -> None:
    # centre the square on the right border: half of it lies outside the image
    pad = 50
    tris = square_triangles(0.1, 1.0)
    tris[..., 0] += 0.505
    sil = rasterize_silhouette(tris, K, 100, 80, pad=pad)
    assert truncation(sil, pad) == pytest.approx(0.5, abs=0.06)
    centred = rasterize_silhouette(square_triangles(0.1, 1.0), K, 100, 80, pad=pad)
    assert truncation(centred, pad) == 0.0


def test_visible_fraction_is_clamped_and_zero_when_hidden() -> None:
    assert visible_fraction(0, 100) == 0.0
    assert visible_fraction(50, 100) == 0.5
    assert visible_fraction(103, 100) == 1.0


def test_world_points_invert_the_projection_of_a_depth_map() -> None:
    """A camera looking down at the ground plane z = 0: every pixel's depth along the optical axis puts its
    world point back on that plane, at the pixel it projects to; no depth is NaN."""
    cam_to_world = look_at(np.array([0.5, -3.0, 2.0]), np.array([0.0, 0.5, 0.0]), roll_rad=0.1)
    h, w = 80, 100
    u, v = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    rays = np.stack([u, v, np.ones_like(u)], axis=-1) @ np.linalg.inv(K).T @ cam_to_world[:3, :3].T
    t = -cam_to_world[2, 3] / rays[..., 2]  # where each ray meets z = 0 (it points down: t > 0)
    depth = t.copy()  # the camera-frame z of that point: the ray's own z is 1 in camera coordinates
    depth[:4, :4] = 0.0
    points = world_points(depth, K, cam_to_world)
    assert np.isnan(points[:4, :4]).all()
    ok = np.isfinite(points[..., 0])
    assert ok.sum() == h * w - 16 and np.abs(points[ok][:, 2]).max() < 1e-9
    back = project(transform(points[ok], np.linalg.inv(cam_to_world)), K)
    assert np.allclose(back, np.stack([u[ok], v[ok]], axis=-1))


def test_look_at_points_the_optical_axis_at_the_target() -> None:
    cam_to_world = look_at(np.array([1.0, -2.0, 1.5]), np.array([0.0, 0.0, 0.2]), roll_rad=0.3)
    world_to_cam = np.linalg.inv(cam_to_world)
    target_cam = transform(np.array([[0.0, 0.0, 0.2]]), world_to_cam)
    Kc = intrinsics_from_hfov(60, 64, 48)
    assert project(target_cam, Kc)[0] == pytest.approx([31.5, 23.5])
    assert np.allclose(cam_to_world[:3, :3] @ cam_to_world[:3, :3].T, np.eye(3))


@pytest.mark.parametrize("kind", sorted({**CLASS_SHAPES, **DISTRACTOR_SHAPES}))
def test_procedural_shapes_are_closed_outward_meshes(kind: str) -> None:
    shape = make_shape(kind, rng=np.random.default_rng(7))
    v, f = shape.vertices, shape.faces
    directed = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    assert len(np.unique(directed, axis=0)) == len(directed)  # each directed edge once
    reverse = {tuple(e) for e in directed[:, ::-1]}
    assert all(tuple(e) in reverse for e in directed)  # every edge has its twin: watertight
    volume = np.einsum("ij,ij->i", v[f[:, 0]], np.cross(v[f[:, 1]], v[f[:, 2]])).sum() / 6
    assert volume > 0  # outward winding
    assert v[:, 2].min() == pytest.approx(0.0, abs=2e-3)


def test_cuboid_dimensions() -> None:
    v, _ = cuboid((0.1, 0.2, 0.3))
    assert np.allclose(v.max(0) - v.min(0), [0.1, 0.2, 0.3])
