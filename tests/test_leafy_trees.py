"""Leafy street trees: a factory's geometry-node instances (a tree's twigs with their leaves) cached as a crown
of instances (``scene.vegetation.foliage_triangles``), rebuilt exactly on every copy, rendered by Cycles and
unlabelled. Infinigen's TreeFactory takes minutes here, so the asset is built in the test: a trunk and a
skeleton whose geometry nodes instance leaf clusters (and a material-less placeholder, as Infinigen's branches
are) on points; the caching, loading and rendering are the code the street uses."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import TINY

pytestmark = [
    pytest.mark.blender,
    pytest.mark.skipif(importlib.util.find_spec("infinigen") is None, reason="infinigen is not installed"),
]

LEAVES = 60  # instances of the leaf clusters
PLACEHOLDERS = 7  # instances of the material-less square


def _street(out: Path, cache: Path) -> list[str]:
    return [
        f"output_dir={out}",
        "scene=street",
        "num_frames=1",
        "seed=8",
        *TINY,
        "render.resolution=[128,48]",
        "output.card=false",
        "scene.road=[straight]",
        "scene.conditions.weather={clear:1.0,overcast:0.0,fog:0.0,rain:0.0}",
        "scene.conditions.time_of_day={day:1.0,low_sun:0.0,dusk:0.0,night:0.0}",
        "scene.camera_hfov_deg=[80,80]",
        "scene.assets=infinigen",
        "scene.infinigen.variants=1",
        f"scene.infinigen.cache_dir={cache}",
        "scene.vegetation.factories={tree:trees.TreeFactory,bush:'',grass:'',rock:''}",
        "scene.vegetation.tree_spacing_m=[6,7]",
        "scene.vegetation.tree_probability=1.0",
    ]


def _material(bpy, name: str, colour: tuple[float, float, float]):
    mat = bpy.data.materials.new(name)
    mat.use_nodes = True
    mat.node_tree.nodes["Principled BSDF"].inputs["Base Color"].default_value = (*colour, 1.0)
    return mat


def _leaf_cluster(bpy, rng: np.random.Generator):
    """40 quads scattered in a 0.6 m cube, green (80 triangles)."""
    vertices, faces = [], []
    for _ in range(40):
        c, u, v = rng.uniform(-0.3, 0.3, 3), rng.normal(size=3), rng.normal(size=3)
        u, v = 0.06 * u / np.linalg.norm(u), 0.06 * v / np.linalg.norm(v)
        k = len(vertices)
        vertices += [tuple(c - u - v), tuple(c + u - v), tuple(c + u + v), tuple(c - u + v)]
        faces.append((k, k + 1, k + 2, k + 3))
    mesh = bpy.data.meshes.new("leaf_cluster")
    mesh.from_pydata(vertices, [], faces)
    mesh.materials.append(_material(bpy, "leaf", (0.05, 0.35, 0.04)))
    return bpy.data.objects.new("a_leaf_cluster", mesh)


def _box(bpy, name: str, lo, hi):
    (x0, y0, z0), (x1, y1, z1) = lo, hi
    corners = [(x, y, z) for z in (z0, z1) for y in (y0, y1) for x in (x0, x1)]
    quads = [(0, 2, 3, 1), (4, 5, 7, 6), (0, 1, 5, 4), (2, 6, 7, 3), (0, 4, 6, 2), (1, 3, 7, 5)]
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata(corners, [], quads)
    return mesh


def build_tree(bpy, seed: int = 0):
    """A trunk (the asset's root) with a skeleton child whose geometry nodes instance, on 67 points, a leaf
    cluster or a material-less 2 m square, each rotated and scaled by point attributes (as Infinigen's
    trees instance twigs and branch placeholders from a collection outside the scene)."""
    rng = np.random.default_rng(seed)
    trunk_mesh = _box(bpy, "trunk", (-0.15, -0.15, 0.0), (0.15, 0.15, 4.0))
    trunk_mesh.materials.append(_material(bpy, "bark", (0.2, 0.12, 0.06)))
    trunk = bpy.data.objects.new("test_tree", trunk_mesh)
    bpy.context.scene.collection.objects.link(trunk)
    square = bpy.data.meshes.new("placeholder")
    square.from_pydata([(-1, -1, 0), (1, -1, 0), (1, 1, 0), (-1, 1, 0)], [], [(0, 1, 2, 3)])
    parts = bpy.data.collections.new("test_tree_parts")  # not linked to the scene
    parts.objects.link(_leaf_cluster(bpy, rng))
    parts.objects.link(bpy.data.objects.new("b_placeholder", square))
    n = LEAVES + PLACEHOLDERS
    direction = rng.normal(size=(n, 3))
    points = 1.6 * direction / np.linalg.norm(direction, axis=1, keepdims=True) + [0.4, 0.0, 5.0]
    skeleton_mesh = bpy.data.meshes.new("skeleton")
    skeleton_mesh.vertices.add(n)
    skeleton_mesh.vertices.foreach_set("co", points.astype(np.float32).ravel())
    which = np.r_[np.zeros(LEAVES), np.ones(PLACEHOLDERS)].astype(np.int32)
    skeleton_mesh.attributes.new("which", "INT", "POINT").data.foreach_set("value", which)
    for attr, values in (("rot", rng.uniform(0, 2 * np.pi, (n, 3))), ("size", rng.uniform(0.5, 1.3, (n, 3)))):
        skeleton_mesh.attributes.new(attr, "FLOAT_VECTOR", "POINT").data.foreach_set(
            "vector", values.astype(np.float32).ravel()
        )
    skeleton = bpy.data.objects.new("skeleton", skeleton_mesh)
    bpy.context.scene.collection.objects.link(skeleton)
    skeleton.parent = trunk
    tree = bpy.data.node_groups.new("test_instances", "GeometryNodeTree")
    tree.interface.new_socket("Geometry", in_out="INPUT", socket_type="NodeSocketGeometry")
    tree.interface.new_socket("Geometry", in_out="OUTPUT", socket_type="NodeSocketGeometry")
    nodes, links = tree.nodes, tree.links
    group_in, group_out = nodes.new("NodeGroupInput"), nodes.new("NodeGroupOutput")
    info = nodes.new("GeometryNodeCollectionInfo")
    info.inputs["Collection"].default_value = parts
    info.inputs["Separate Children"].default_value = True
    info.inputs["Reset Children"].default_value = True
    on_points = nodes.new("GeometryNodeInstanceOnPoints")
    on_points.inputs["Pick Instance"].default_value = True
    named = {}
    for attr, kind in (("which", "INT"), ("rot", "FLOAT_VECTOR"), ("size", "FLOAT_VECTOR")):
        node = nodes.new("GeometryNodeInputNamedAttribute")
        node.data_type = kind
        node.inputs["Name"].default_value = attr
        named[attr] = node.outputs["Attribute"]
    euler = nodes.new("FunctionNodeEulerToRotation")
    links.new(named["rot"], euler.inputs["Euler"])
    links.new(group_in.outputs["Geometry"], on_points.inputs["Points"])
    links.new(info.outputs["Instances"], on_points.inputs["Instance"])
    links.new(named["which"], on_points.inputs["Instance Index"])
    links.new(euler.outputs["Rotation"], on_points.inputs["Rotation"])
    links.new(named["size"], on_points.inputs["Scale"])
    links.new(on_points.outputs["Instances"], group_out.inputs["Geometry"])
    skeleton.modifiers.new("instances", "NODES").node_group = tree
    return trunk


def instance_vertices(bpy, owner_names: set[str]) -> np.ndarray:
    """World positions of every vertex of every instance whose instancer is one of ``owner_names``, sorted."""
    depsgraph = bpy.context.evaluated_depsgraph_get()
    out = []
    for inst in depsgraph.object_instances:
        if inst.is_instance and inst.parent is not None and inst.parent.original.name in owner_names:
            mesh = inst.instance_object.original.data
            co = np.empty(3 * len(mesh.vertices), dtype=np.float32)
            mesh.vertices.foreach_get("co", co)
            homogeneous = np.c_[co.reshape(-1, 3), np.ones(len(mesh.vertices))]
            out.append(homogeneous @ np.array(inst.matrix_world, dtype=np.float64).T)
    points = np.concatenate(out)[:, :3] if out else np.zeros((0, 3))
    return points[np.lexsort(points.T[::-1])]


def _variant(cache: Path, budget: int):
    from simvision.scene.infinigen_library import Variant

    folder = cache / f"leafy-{budget}"
    return Variant(
        "vegetation:tree",
        "TestTree",
        0,
        str(folder / "0.blend"),
        str(folder / "0.npz"),
        "test",
        0,
        foliage_triangles=budget,
    )


@pytest.fixture(scope="module")
def cached(tmp_path_factory, renderer) -> dict:
    """The hand-built tree cached twice (crown parts kept whole, and decimated to 40 triangles), with the world
    positions of its leaf instances' vertices before caching."""
    import bpy

    cache = tmp_path_factory.mktemp("leafy_cache")
    renderer.bproc.clean_up(clean_up_camera=False)
    out = {}
    for budget in (10_000, 40):
        trunk = build_tree(bpy)
        before = instance_vertices(bpy, {"skeleton"})
        from simvision.render.infinigen_assets import cache_asset

        variant = _variant(cache, budget)
        cache_asset(bpy, variant, trunk)
        out[budget] = (variant, before)
        renderer.bproc.clean_up(clean_up_camera=False)
    return out


def test_crown_keeps_every_leaf_instance_exactly(cached, renderer) -> None:
    """Loaded at a pose and scale, the crown's instances put every leaf vertex where the asset had it (under
    the same pose); placeholders without a material are left out; the recorded bounds hold every instance."""
    import bpy
    from mathutils import Matrix

    from simvision.render.infinigen_assets import append_variant
    from simvision.scene.infinigen_library import variant_bounds

    variant, before = cached[10_000]
    renderer.bproc.clean_up(clean_up_camera=False)
    leaf_vertices = 160  # 40 quads
    assert len(before) == LEAVES * leaf_vertices + PLACEHOLDERS * 4
    with np.load(variant.npz) as data:
        assert int(data["instances"]) == LEAVES
    obj = append_variant(bpy, variant.blend, variant.object_name, "tree_a", shared=True)
    obj.location, obj.rotation_euler, obj.scale = (3.0, -2.0, 0.5), (0.0, 0.0, 0.7), (1.5, 1.5, 1.5)
    bpy.context.view_layer.update()
    after = instance_vertices(bpy, {"tree_a_crown"})
    pose = np.array(Matrix.LocRotScale((3.0, -2.0, 0.5), Matrix.Rotation(0.7, 3, "Z"), (1.5, 1.5, 1.5)))
    # the trunk is centred on the origin with its base at z = 0, so caching moved nothing: the pose alone
    expected = (np.c_[before, np.ones(len(before))] @ pose.T)[:, :3]
    assert len(after) == LEAVES * leaf_vertices  # the placeholders' squares are gone
    assert _matched(expected, after) == len(after)  # and every leaf vertex is where it was
    lo, hi = variant_bounds(variant.npz)
    local = (np.c_[after, np.ones(len(after))] @ np.linalg.inv(pose).T)[:, :3]
    assert np.all(local >= lo - 1e-4) and np.all(local <= hi + 1e-4)


def _matched(expected: np.ndarray, actual: np.ndarray, tol: float = 1e-4) -> int:
    """How many of ``actual``'s points have a point of ``expected`` within ``tol``."""
    from scipy.spatial import cKDTree

    dist, _ = cKDTree(expected).query(actual)
    return int(np.sum(dist < tol))


def test_copies_share_one_crown_and_its_parts_are_unlabelled_and_decimated(cached, renderer) -> None:
    import bpy

    from simvision.render.infinigen_assets import append_variant

    variant, _ = cached[40]
    renderer.bproc.clean_up(clean_up_camera=False)
    a = append_variant(bpy, variant.blend, variant.object_name, "tree_a", shared=True)
    b = append_variant(bpy, variant.blend, variant.object_name, "tree_b", shared=True)
    crowns = [o for o in bpy.data.objects if o.name in ("tree_a_crown", "tree_b_crown")]
    assert [c.parent for c in sorted(crowns, key=lambda c: c.name)] == [a, b]
    assert crowns[0].data == crowns[1].data  # one set of points...
    assert crowns[0].modifiers[0].node_group == crowns[1].modifiers[0].node_group  # ...and one node group
    from simvision.render.infinigen_assets import _crown_parts

    parts = _crown_parts(crowns[0])
    assert len(parts) == 1 and parts[0].pass_index == 0 and all(parts[0].data.materials)
    parts[0].data.calc_loop_triangles()
    assert 0 < len(parts[0].data.loop_triangles) <= 40  # decimated from 80
    assert parts[0].name not in bpy.context.scene.objects  # instanced from outside the scene


def test_leafy_street_renders_leaves_as_background(cached, tmp_path: Path, compose_cfg, renderer) -> None:
    """A street job whose trees have crowns (the hand-built tree in the cache where the config looks): labels
    stay exact. Built again: every tree has its crown, the crowns change the rendered pixels (removing them
    changes the image), and where leaves hide a labelled object its pixels become 0, never another id."""
    import bpy
    from pycocotools.coco import COCO

    from simvision.dataset.job import run
    from simvision.dataset.job_config import validate_job_config
    from simvision.render.infinigen_assets import cache_asset
    from simvision.scene.base import load_scene
    from simvision.scene.street.vegetation import vegetation_variants
    from tests.label_checks import assert_annotations_match_instance_maps

    cache, out = tmp_path / "cache", tmp_path / "street"
    cfg = compose_cfg(*_street(out, cache))
    (tree_variant,) = vegetation_variants(cfg.scene.vegetation, cfg.scene.infinigen)["tree"]
    assert tree_variant.foliage_triangles > 0 and f"-l{tree_variant.foliage_triangles}-" in tree_variant.npz
    renderer.bproc.clean_up(clean_up_camera=False)
    cache_asset(bpy, tree_variant, build_tree(bpy))  # the hand-built tree stands in for Infinigen's
    assert run(cfg).frames == 1  # generates the street's materials, finds the tree cached
    records = [json.loads(line) for line in (out / "metadata" / "frames.jsonl").read_text().splitlines()]
    assert all(sum(v["kind"] == "tree" for v in r["container"]["vegetation"]) >= 4 for r in records)
    coco = COCO(str(out / "annotations" / "instances.json"))
    assert_annotations_match_instance_maps(out, coco, coco.loadAnns(coco.getAnnIds()))

    scene = load_scene(cfg.scene, validate_job_config(cfg), (128, 48))
    seed = [8, 0]
    spec = scene.sample(0, seed, 1, rng=np.random.default_rng(np.random.SeedSequence(seed)))
    trees = [o for o in spec.scenery if o.asset.get("part") == "tree"]
    renderer.build(spec)
    crowns = [o for o in bpy.context.scene.objects if o.name.endswith("_crown")]
    assert len(crowns) == len(trees) >= 4 and all(c.parent is not None for c in crowns)
    with_leaves = renderer.render(spec)
    for c in crowns:
        bpy.data.objects.remove(c)
    without = renderer.render(spec)
    labelled = {o.instance_id for o in spec.objects}
    changed = 0
    for a, b in zip(with_leaves, without, strict=True):
        changed += int(np.any(a.rgb != b.rgb, axis=-1).sum())
        assert set(np.unique(a.instance).tolist()) <= labelled | {0}
        hidden = a.instance != b.instance  # leaves in front of a labelled object: its pixels become 0
        assert np.all(a.instance[hidden] == 0)
        assert np.all(a.depth[hidden] <= b.depth[hidden] + 1e-3)
    assert changed > 50


def test_an_asset_without_instances_gets_no_crown(tmp_path: Path, renderer) -> None:
    """foliage_triangles on an asset that instances nothing caches the plain mesh: no crown, no bounds."""
    import bpy

    from simvision.render.infinigen_assets import cache_asset

    renderer.bproc.clean_up(clean_up_camera=False)
    trunk = build_tree(bpy)
    bpy.data.objects.remove(bpy.data.objects["skeleton"])
    variant = _variant(tmp_path, 500)
    cache_asset(bpy, variant, trunk)
    with bpy.data.libraries.load(variant.blend) as (src, _):
        assert list(src.objects) == [variant.object_name]
    with np.load(variant.npz) as data:
        assert "bounds" not in data and "instances" not in data and len(data["faces"]) == 12
