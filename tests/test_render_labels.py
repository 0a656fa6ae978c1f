"""Labels from real Cycles renders of geometry we control (tiny frames, CPU)."""

from __future__ import annotations

import numpy as np
import pytest

from simvision.labels.derive import coco_annotations, label_objects
from simvision.labels.geometry import intrinsics_from_hfov, look_at
from simvision.scene.shapes import cuboid
from simvision.scene.spec import CameraSpec, LightSpec, MaterialSpec, ObjectSpec, SceneSpec

pytestmark = pytest.mark.blender

W, H = 96, 72


def cube(
    instance_id: int, size: float | tuple[float, float, float], location: list[float], category_id: int = 1
) -> ObjectSpec:
    dims = (size, size, size) if isinstance(size, float) else size
    v, f = cuboid(dims)
    v = v - np.array([0, 0, dims[2] / 2])  # centre the cube on its location
    return ObjectSpec(
        instance_id=instance_id,
        class_name="box" if instance_id else None,
        category_id=category_id,
        asset={"kind": "procedural", "shape": "box"},
        material=MaterialSpec([0.6, 0.5, 0.4], 0.5, 0.0),
        location=location,
        rotation_euler=[0.0, 0.0, 0.0],
        vertices=v,
        faces=f,
    )


def scene(objects: list[ObjectSpec], camera_position: list[float], target: list[float]) -> SceneSpec:
    K = intrinsics_from_hfov(50.0, W, H)
    cam = CameraSpec(K.tolist(), W, H, look_at(np.array(camera_position), np.array(target)).tolist())
    light = LightSpec("SUN", [0, -3, 5], [0, 0, 0], 5500.0, [1, 1, 1], 3.0)
    return SceneSpec(
        scene_index=0,
        seed=[0, 0],
        scene_name="test",
        container={"kind": "none"},
        objects=objects,
        lights=[light],
        cameras=[cam],
        background={"world_color": [0.05, 0.05, 0.05], "world_strength": 0.2},
        physics={"min_time": 0.0, "max_time": 0.0},
    )


def render_and_label(renderer, spec: SceneSpec):
    built = renderer.build(spec)
    view = renderer.render(spec)[0]
    cam = spec.cameras[0]
    world_to_cam = np.linalg.inv(np.asarray(cam.cam_to_world))
    labels = label_objects(spec.objects, built.poses_world, view.instance, np.asarray(cam.K), world_to_cam)
    return view, labels


def test_cube_depth_matches_hand_computed_distance(renderer) -> None:
    # a 0.4 m cube centred 2 m in front of the camera: its front face is at 1.8 m depth
    spec = scene([cube(1, 0.4, [0.0, 2.0, 0.0])], [0.0, 0.0, 0.0], [0.0, 2.0, 0.0])
    view, labels = render_and_label(renderer, spec)
    assert view.depth[H // 2, W // 2] == pytest.approx(1.8, abs=1e-3)
    assert view.depth[0, 0] == 0.0  # nothing behind: no surface
    assert view.instance[H // 2, W // 2] == 1 and view.semantic[H // 2, W // 2] == 1
    (label,) = labels
    rec = label.record
    # pose in camera frame: 2 m straight ahead along +z (OpenCV axes)
    assert np.allclose(np.asarray(rec["pose_cam"])[:3, 3], [0.0, 0.0, 2.0], atol=1e-5)
    assert rec["visible_fraction"] == pytest.approx(1.0, abs=0.08)
    # hand-computed projected width of the front face: 0.4 m at 1.8 m
    fx = spec.cameras[0].K[0][0]
    assert rec["bbox"][2] == pytest.approx(0.4 * fx / 1.8, abs=1.5)
    corners = np.asarray(rec["bbox3d"]["corners_cam"])
    assert corners[:, 2].min() == pytest.approx(1.8, abs=1e-5)


def test_mask_box_equals_coco_box_and_class_ids(renderer) -> None:
    from pycocotools import mask as mask_utils

    spec = scene(
        [cube(1, 0.3, [-0.35, 2.0, 0.0], category_id=5), cube(2, 0.25, [0.35, 2.2, 0.1], category_id=2)],
        [0.0, 0.0, 0.0],
        [0.0, 2.0, 0.0],
    )
    view, labels = render_and_label(renderer, spec)
    anns = coco_annotations(labels, image_id=0)
    assert len(anns) == 2
    for ann in anns:
        rle = {"size": ann["segmentation"]["size"], "counts": ann["segmentation"]["counts"].encode()}
        decoded = mask_utils.decode(rle).astype(bool)
        assert (decoded == (view.instance == ann["instance_id"])).all()
        assert mask_utils.toBbox(rle).tolist() == ann["bbox"]
        assert ann["area"] == decoded.sum()
    # the semantic pass carries the class-table id of each instance
    for ann in anns:
        assert set(np.unique(view.semantic[view.instance == ann["instance_id"]])) == {ann["category_id"]}


def test_fully_hidden_object_has_zero_visibility_and_no_annotation(renderer) -> None:
    wall = cube(0, (1.2, 0.05, 1.2), [0.0, 1.5, 0.0], category_id=0)  # unlabelled occluder
    hidden = cube(1, 0.2, [0.0, 2.5, 0.0])
    spec = scene([wall, hidden], [0.0, 0.0, 0.0], [0.0, 2.0, 0.0])
    _, labels = render_and_label(renderer, spec)
    (label,) = labels
    assert label.record["visible_fraction"] == 0.0
    assert label.record["unoccluded_pixels"] > 40  # about 8.6 x 8.6 px unoccluded
    assert label.record["bbox"] is None and label.record["amodal_bbox"] is not None
    assert coco_annotations(labels, image_id=0) == []


def test_half_occluded_object_is_about_half_visible(renderer) -> None:
    # an occluder whose right edge sits on the camera's optical axis hides the left half of the cube
    occluder = cube(0, (0.6, 0.05, 0.8), [-0.3, 1.5, 0.0], category_id=0)
    target = cube(1, 0.3, [0.0, 2.5, 0.0])
    spec = scene([occluder, target], [0.0, 0.0, 0.0], [0.0, 2.5, 0.0])
    _, labels = render_and_label(renderer, spec)
    assert labels[0].record["visible_fraction"] == pytest.approx(0.5, abs=0.08)


def _data_names(bpy) -> dict[str, list[str]]:
    """Every data block's name in the Blender file, by collection (meshes, materials, images, ...)."""
    return {
        attr: sorted(b.name for b in getattr(bpy.data, attr))
        for attr in dir(bpy.data)
        if isinstance(getattr(bpy.data, attr), bpy.types.bpy_prop_collection)
    }


def test_a_new_scene_starts_from_a_clean_file_whatever_came_before(renderer) -> None:
    """The builder clears the last scene's data blocks in one batch: building scene B after scene A leaves
    the file exactly as building B after B does (no block of A's left, none of B's renamed), keeps the scene
    and its camera, and renders B to the same pixels and labels."""
    import bpy

    a = scene([cube(1, 0.3, [0.0, 2.0, 0.0]), cube(2, 0.2, [0.5, 2.5, 0.1])], [0.0, 0.0, 0.0], [0.0, 2.0, 0.0])
    a.objects[1].material = MaterialSpec([0.1, 0.2, 0.7], 0.3, 0.0)  # a second material only A has
    b = scene([cube(1, 0.25, [0.2, 2.2, 0.0])], [0.0, 0.0, 0.3], [0.0, 2.0, 0.0])
    render_and_label(renderer, a)
    names_after_a = _data_names(bpy)
    view_ab, labels_ab = render_and_label(renderer, b)
    names_ab = _data_names(bpy)
    view_bb, labels_bb = render_and_label(renderer, b)
    assert names_ab == _data_names(bpy)
    assert len(names_after_a["objects"]) > len(names_ab["objects"]) and len(names_after_a["materials"]) > len(
        names_ab["materials"]
    )
    assert "Scene" in names_ab["scenes"] and "Camera" in names_ab["objects"] and "Camera" in names_ab["cameras"]
    assert np.array_equal(view_ab.rgb, view_bb.rgb) and np.array_equal(view_ab.instance, view_bb.instance)
    assert [x.record for x in labels_ab] == [x.record for x in labels_bb]
