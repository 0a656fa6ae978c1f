"""Render time of each Infinigen room material: full node tree vs camera-only (indirect rays see the mean).

    python scripts/probe_room_materials.py [CACHE_DIR] [--size 160x120] [--samples 16]
    python scripts/probe_room_materials.py [CACHE_DIR] --baked [--bake-px 512] [--bake-normal-blur 1] [--save DIR]
    python scripts/probe_room_materials.py [CACHE_DIR] --baked --only TableWood --bake-normal-blur 0 --save DIR
    python scripts/probe_room_materials.py [CACHE_DIR] --baked --only TableWood --no-bump --save DIR

``--baked``: compare the full material with the baked one (``scene.infinigen.room_shading=baked``,
baked into CACHE_DIR if missing) instead: columns full, baked, speed-up, mean |diff| baked vs full,
and the one-off bake time (seconds, from the helper's log; "cached" when it was baked before).
``--save DIR`` writes each material's full and baked frames side by side (PNG) for looking at.
``--bake-normal-blur`` is ``scene.infinigen.bake_normal_blur`` (texels; 0 = the raw baked normal map);
``--only`` keeps the listed material classes (comma-separated, e.g. ``TableWood``). ``--no-bump`` adds the full
material with its bump unlinked (a third frame, and its differences and mean grey against the other two).

For each class of ``ROOM_MATERIALS`` (seed 0, generated into CACHE_DIR if missing, default
/tmp/simvision-probe-materials) a small room is built in one Blender process: a 6 m floor, two walls
and a table top all in the material, a grey ball on the table, a sun and a grey world; the camera looks
down at the table from 1.5 m so indirect bounces between the surfaces matter. It is rendered with
the material as cached ("full"), with :func:`~simvision.render.infinigen_assets.camera_only` applied
("camera-only", what ``scene.infinigen.indirect_shading=mean`` builds) and with the flat mean Principled
alone ("flat"). Prints one row per class: CPU seconds (all threads) of the second of two renders (the
first compiles the kernels and loads images), and the mean of the camera-only image's absolute difference from the
full one (0-255 scale). Noisy on shared cores: the three variants of one class run back to back.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cache", nargs="?", default="/tmp/simvision-probe-materials")
    parser.add_argument("--size", default="160x120")
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--baked", action="store_true")
    parser.add_argument("--bake-px", type=int, default=512)
    parser.add_argument("--bake-m", type=float, default=2.0)
    parser.add_argument("--save", default="")
    parser.add_argument("--bake-normal-blur", type=float, default=1.0)
    parser.add_argument("--only", default="", help="comma-separated material classes, e.g. TableWood")
    parser.add_argument(
        "--no-bump",
        action="store_true",
        help="with --baked: also render the full material with its bump (the Displacement output) unlinked",
    )
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))

    from simvision.render.infinigen_assets import append_material, box_uvs, camera_only, prepare
    from simvision.scene.infinigen_library import room_materials

    cfg = SimpleNamespace(
        cache_dir=args.cache,
        seed=0,
        material_variants=1,
        room_materials=True,
        room_shading="baked" if args.baked else "full",
        bake_px=args.bake_px,
        bake_m=args.bake_m,
        bake_normal_blur=args.bake_normal_blur,
    )
    wanted = sorted({m for found in room_materials(cfg).values() for m in found}, key=lambda m: m.blend)
    if args.only:
        wanted = [m for m in wanted if m.cls in args.only.split(",")]
    prepare(wanted)
    bake_s: dict[str, str] = {}
    if args.baked:  # the helper logs "simvision: baked <material> in <s> s" once per material
        for line in (wanted[0].version_dir / "generate.log").read_text().splitlines():
            if line.startswith("simvision: baked "):
                bake_s[line.split()[2]] = line.split()[4]

    import bpy

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = args.samples
    scene.cycles.use_denoising = False
    scene.render.resolution_x, scene.render.resolution_y = width, height
    scene.render.resolution_percentage = 100
    world = bpy.data.worlds.new("probe")
    world.use_nodes = True
    world.node_tree.nodes["Background"].inputs["Color"].default_value = (0.3, 0.3, 0.3, 1)
    scene.world = world
    sun = bpy.data.objects.new("sun", bpy.data.lights.new("sun", "SUN"))
    sun.data.energy = 3.0
    sun.rotation_euler = (0.6, 0.3, 0.0)
    scene.collection.objects.link(sun)
    cam = bpy.data.objects.new("cam", bpy.data.cameras.new("cam"))
    cam.location = (0.0, -1.2, 1.0)
    cam.rotation_euler = (0.9, 0.0, 0.0)
    scene.collection.objects.link(cam)
    scene.camera = cam

    def box(name: str, size: tuple[float, float, float], loc: tuple[float, float, float]) -> object:
        sx, sy, sz = (s / 2 for s in size)
        v = [(x, y, z) for x in (-sx, sx) for y in (-sy, sy) for z in (-sz, sz)]
        f = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
        mesh = bpy.data.meshes.new(name)
        mesh.from_pydata(v, [], f)
        box_uvs(bpy, mesh)  # as the builder gives room surfaces: "UVMap" in metres, Generated in metres
        mesh.use_auto_texspace = False
        mesh.texspace_location = (0.5, 0.5, 0.5)
        mesh.texspace_size = (0.5, 0.5, 0.5)
        obj = bpy.data.objects.new(name, mesh)
        obj.location = loc
        scene.collection.objects.link(obj)
        return obj

    room = [
        box("floor", (6, 6, 0.02), (0, 0, -0.76)),
        box("wall", (0.02, 6, 3), (-1.5, 0, 0.7)),
        box("wall", (6, 0.02, 3), (0, 1.5, 0.7)),
        box("top", (1.2, 0.8, 0.03), (0, 0, -0.015)),
    ]
    bpy.ops.mesh.primitive_uv_sphere_add(segments=32, ring_count=16, radius=0.08, location=(0, 0, 0.08))
    ball = bpy.context.active_object
    grey = bpy.data.materials.new("grey")
    grey.use_nodes = True
    grey.node_tree.nodes["Principled BSDF"].inputs["Roughness"].default_value = 0.2
    ball.data.materials.append(grey)

    def render() -> tuple[float, np.ndarray]:
        bpy.ops.render.render()
        t0 = time.process_time()  # CPU seconds of all render threads: steadier than wall clock on shared cores
        bpy.ops.render.render()
        seconds = time.process_time() - t0
        scene.render.filepath = "/tmp/simvision-probe-frame.png"
        bpy.data.images["Render Result"].save_render(scene.render.filepath)
        image = bpy.data.images.load(scene.render.filepath, check_existing=False)
        px = np.array(image.pixels[:], dtype=np.float64).reshape(height, width, 4)[..., :3] * 255
        bpy.data.images.remove(image)
        return seconds, px

    print(f"{width}x{height}, {args.samples} spp, CPU seconds of the second render")
    if args.baked:
        print(f"bake: {args.bake_px} px on {args.bake_m:g} m ({1000 * args.bake_m / args.bake_px:.1f} mm texels)")
        print(f"{'material':24s} {'full':>6s} {'baked':>6s} {'speed-up':>8s} {'mean |diff|':>11s} {'bake s':>7s}")
    else:
        print(f"{'material':24s} {'full':>6s} {'camera-only':>11s} {'flat':>6s} {'speed-up':>8s} {'mean |diff|':>11s}")

    def without_bump(mat: object) -> object:
        """A copy of ``mat`` whose Material Output has no Displacement input (no bump)."""
        copy = mat.copy()
        for node in copy.node_tree.nodes:
            if node.type == "OUTPUT_MATERIAL":
                for link in list(node.inputs["Displacement"].links):
                    copy.node_tree.links.remove(link)
        return copy

    def render_each(materials: dict) -> tuple[dict, dict]:
        """Each material on every room surface in turn: (name -> seconds, name -> image)."""
        times, images = {}, {}
        for name, mat in materials.items():
            for obj in room:
                obj.data.materials.clear()
                obj.data.materials.append(mat)
            times[name], images[name] = render()
        return times, images

    for m in wanted:
        if args.baked:
            full = append_material(bpy, m.blend, m.material_name)
            baked = append_material(bpy, m.baked_blend, m.baked_name)
            variants = {"full": full, "baked": baked}
            if args.no_bump:
                variants["full, no bump"] = without_bump(full)
            times, images = render_each(variants)
            diff = float(np.abs(images["baked"] - images["full"]).mean())
            print(
                f"{m.module + '.' + m.cls:24s} {times['full']:6.2f} {times['baked']:6.2f} "
                f"{times['full'] / times['baked']:7.2f}x {diff:11.2f} {bake_s.get(m.material_name, 'cached'):>7s}",
                flush=True,
            )
            if args.no_bump:
                flat_full = images["full, no bump"]
                to_full, to_baked = (float(np.abs(flat_full - images[k]).mean()) for k in ("full", "baked"))
                print(
                    f"{'':24s} full without its bump: mean |diff| vs full {to_full:.2f}, "
                    f"vs baked {to_baked:.2f}; mean grey full "
                    f"{images['full'].mean():.1f}, no bump {flat_full.mean():.1f}, baked {images['baked'].mean():.1f}",
                    flush=True,
                )
            if args.save:
                import cv2

                side = np.concatenate([images[k] for k in variants], axis=1)
                Path(args.save).mkdir(parents=True, exist_ok=True)
                cv2.imwrite(
                    str(Path(args.save) / f"{m.cls}.png"), np.clip(side[::-1, :, ::-1], 0, 255).astype(np.uint8)
                )
            continue
        full = append_material(bpy, m.blend, m.material_name)
        wrapped = full.copy()
        camera_only(bpy, wrapped)
        flat = bpy.data.materials.new("flat")
        flat.use_nodes = True
        p = flat.node_tree.nodes["Principled BSDF"]
        p.inputs["Base Color"].default_value = (*full["sv_mean_color"], 1.0)
        p.inputs["Roughness"].default_value = float(full["sv_mean_roughness"])
        p.inputs["Metallic"].default_value = float(full["sv_mean_metallic"])
        times, images = render_each({"full": full, "camera-only": wrapped, "flat": flat})
        diff = float(np.abs(images["camera-only"] - images["full"]).mean())
        print(
            f"{m.module + '.' + m.cls:24s} {times['full']:6.2f} {times['camera-only']:11.2f} {times['flat']:6.2f} "
            f"{times['full'] / times['camera-only']:7.2f}x {diff:11.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
