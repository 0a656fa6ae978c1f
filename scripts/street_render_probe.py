"""Where one built street scene's render time goes: build it once, render it again after each change.

    python scripts/street_render_probe.py [--scene 0] [--seed 11] [--set OVERRIDE ...]
        [--variants base,no:_crown,plainmat:Brick_|Tile_,override,nodenoise] [--profile-build 30]

The scene is the ``street_dressing_cost.py`` set-up (640x480, 16 spp, CPU, dash-camera, ``scene.assets=infinigen``
unless ``--set scene.assets=procedural``); one view of scene ``--scene`` of ``--seed`` is built with
``Renderer.build`` and rendered with ``Renderer.render`` once per variant, each variant undone before the next.
Prints the build seconds, then per variant the render seconds and the image's mean RGB (a change that alters
the picture shows there). A diagnostic: the changes are made to the built file in this process, not settings.
``--profile-build N`` builds the scene a second time (as the next scene of a job would be: the file cleared
first) under cProfile and prints its N costliest calls by cumulative time, then renders as usual.

Variants, comma-separated; ``+`` joins changes into one variant. ``GROUP`` is a substring of object names,
``MATS`` ``|``-separated substrings of material names:

  base                 the scene as built
  no:GROUP             those objects left out of the render
  noshadow:GROUP       ... invisible to shadow rays
  noindirect:GROUP     ... invisible to diffuse, glossy and transmission rays
  plainmat:MATS        those materials made one default Principled BSDF
  nodisp:MATS          ... without their displacement
  nobump:MATS          ... without the bump on their Principled BSDFs' normals
  thin:SHARE           every tree crown with SHARE of its twigs (a fixed random pick), each scaled up to keep the
                       crown's leaf area (the twig's scale times 1/sqrt(SHARE))
  override             every material replaced by one Principled BSDF (the view layer's override)
  nodenoise            no denoising
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
from hydra import compose, initialize_config_dir

from simvision.config import CONF_DIR
from simvision.dataset.job import prepare_assets, validate_job_config
from simvision.dataset.job_config import register_configs
from simvision.dataset.shards import scene_seed
from simvision.scene.base import load_scene

VISIBILITY = ("visible_camera", "visible_shadow", "visible_diffuse", "visible_glossy", "visible_transmission")
INDIRECT = ("visible_diffuse", "visible_glossy", "visible_transmission")


def _plain(mat: Any) -> Any:
    copy = mat.copy()
    copy.use_nodes = True
    tree = copy.node_tree
    tree.nodes.clear()
    bsdf, out = tree.nodes.new("ShaderNodeBsdfPrincipled"), tree.nodes.new("ShaderNodeOutputMaterial")
    tree.links.new(bsdf.outputs["BSDF"], out.inputs["Surface"])
    return copy


def _no_displacement(mat: Any) -> Any:
    copy = mat.copy()
    for link in list(copy.node_tree.get_output_node("CYCLES").inputs["Displacement"].links):
        copy.node_tree.links.remove(link)
    return copy


def _no_bump(mat: Any) -> Any:
    copy = mat.copy()
    for node in copy.node_tree.nodes:
        if node.bl_idname == "ShaderNodeBsdfPrincipled":
            for name in ("Normal", "Coat Normal"):
                for link in list(node.inputs[name].links):
                    copy.node_tree.links.remove(link)
    return copy


MATERIAL_CHANGES = {"plainmat": _plain, "nodisp": _no_displacement, "nobump": _no_bump}


def _swap_materials(objects: Any, change: Any, patterns: list[str], undo: list) -> None:
    """Every slot whose material's name contains one of ``patterns`` gets ``change(material)`` (one per material)."""
    made: dict[str, Any] = {}
    for obj in objects:
        slots = getattr(getattr(obj, "data", None), "materials", None)
        for i, mat in enumerate(slots or []):
            if mat is not None and any(p in mat.name for p in patterns):
                if mat.name not in made:
                    made[mat.name] = change(mat)
                undo.append((slots, i, mat))
                slots[i] = made[mat.name]


def _thin(objects: Any, share: float, undo: list) -> None:
    """Give every crown (``<tree>_crown``, a point per twig) a copy of its points with ``share`` of them kept and
    their ``sv_scale`` times 1/sqrt(share); ``undo`` gets (object, its mesh)."""
    import bmesh  # noqa: PLC0415

    rng = np.random.default_rng(0)
    thinned: dict[str, Any] = {}
    for obj in objects:
        if not obj.name.endswith("_crown"):
            continue
        mesh = obj.data
        if mesh.name not in thinned:
            copy = mesh.copy()
            bm = bmesh.new()
            bm.from_mesh(copy)
            scale = bm.verts.layers.float_vector["sv_scale"]
            for vert in bm.verts:
                vert[scale] = vert[scale] * (1.0 / share) ** 0.5
            bmesh.ops.delete(bm, geom=[v for v in bm.verts if rng.uniform() > share], context="VERTS")
            bm.to_mesh(copy)
            bm.free()
            thinned[mesh.name] = copy
            print(f"thin {mesh.name}: {len(mesh.vertices)} -> {len(copy.vertices)} twigs")
        undo.append((obj, mesh))
        obj.data = thinned[mesh.name]


def _apply(bpy: Any, variant: str, objects: Any, plain: Any, undo: list) -> None:
    for part in variant.split("+"):
        kind, _, arg = part.partition(":")
        chosen = [o for o in objects if arg and arg in o.name]
        if kind == "base":
            continue
        if kind == "no":
            for obj in chosen:
                obj.hide_render = True
        elif kind in ("noshadow", "noindirect"):
            for obj in chosen:
                for attr in ("visible_shadow",) if kind == "noshadow" else INDIRECT:
                    setattr(obj, attr, False)
        elif kind in MATERIAL_CHANGES:
            _swap_materials(objects, MATERIAL_CHANGES[kind], arg.split("|"), undo)
        elif kind == "thin":
            _thin(objects, float(arg), undo)
        elif kind == "override":
            bpy.context.view_layer.material_override = plain
        elif kind == "nodenoise":
            bpy.context.scene.cycles.use_denoising = False
        else:
            raise SystemExit(f"--variants: unknown change {part!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scene", type=int, default=0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--set", action="append", default=[], help="extra Hydra override")
    parser.add_argument("--variants", default="base,override,nodenoise")
    parser.add_argument("--profile-build", type=int, default=0, help="profile a second build: print N rows")
    args = parser.parse_args()
    register_configs()
    overrides = [
        "scene=street",
        "output_dir=out/street_render_probe",
        f"seed={args.seed}",
        "render.resolution=[640,480]",
        "render.samples=16",
        "render.device=cpu",
        "scene.camera_hfov_deg=[78,84]",
        "scene.camera_height=[1.6,1.7]",
        "scene.infinigen.material_variants=1",
        "scene.assets=infinigen",
        *args.set,
    ]
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="render", overrides=overrides)
    class_ids = validate_job_config(cfg)
    width, height = (int(v) for v in cfg.render.resolution)
    scene = load_scene(cfg.scene, class_ids, (width, height))
    prepare_assets(scene.asset_requests())
    seed = scene_seed(int(cfg.seed), args.scene)
    spec = scene.sample(args.scene, seed, 1, rng=np.random.default_rng(np.random.SeedSequence(seed)))
    spec.cameras = spec.cameras[:1]
    from simvision.render.builder import Renderer  # noqa: PLC0415 - imports Blender

    renderer = Renderer(cfg.render)
    started = time.perf_counter()
    renderer.build(spec, None)
    print(f"build {time.perf_counter() - started:.2f} s")
    if args.profile_build:
        import cProfile  # noqa: PLC0415
        import pstats  # noqa: PLC0415

        again = scene.sample(args.scene, seed, 1, rng=np.random.default_rng(np.random.SeedSequence(seed)))
        again.cameras = again.cameras[:1]
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.runcall(renderer.build, again, None)
        print(f"second build {time.perf_counter() - started:.2f} s")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.profile_build)
        spec = again
    import bpy  # noqa: PLC0415

    objects = list(bpy.context.scene.objects)
    states = [(o, o.hide_render, *(getattr(o, a) for a in VISIBILITY)) for o in objects]
    plain = bpy.data.materials.new("sv_probe_plain")
    denoise = bool(bpy.context.scene.cycles.use_denoising)
    for variant in args.variants.split(","):
        undo: list = []
        _apply(bpy, variant, objects, plain, undo)
        started = time.perf_counter()
        views = renderer.render(spec)
        seconds = time.perf_counter() - started
        print(f"{variant:48s} {seconds:6.2f} s  mean RGB {views[0].rgb.mean():.1f}", flush=True)
        for change in reversed(undo):
            if len(change) == 2:  # (crown, its mesh)
                change[0].data = change[1]
            else:  # (material slots, index, material)
                slots, i, mat = change
                slots[i] = mat
        for obj, hidden, *visible in states:
            obj.hide_render = hidden
            for attr, value in zip(VISIBILITY, visible, strict=True):
                setattr(obj, attr, value)
        bpy.context.view_layer.material_override = None
        bpy.context.scene.cycles.use_denoising = denoise


if __name__ == "__main__":
    main()
