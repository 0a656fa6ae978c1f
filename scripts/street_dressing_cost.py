"""Cost of the dressed street (scene.assets=infinigen) against the procedural one, same seed, dash-cam set-up.

    python scripts/street_dressing_cost.py OUT_DIR [--frames 3] [--resolution 621 188] [--samples 16]
        [--cache DIR] [--sheet docs/street_dressing.png] [--ablate] [--parts] [--set OVERRIDE ...]
        [--against EARLIER_OUT_DIR]

Renders the same street frames twice (procedural, then infinigen; the Infinigen materials are generated into
``--cache`` first if missing, outside the timed loop) and prints, per run, the job's loop seconds per frame,
its ratio to the procedural run and the build / render stage seconds per frame from ``throughput.json``.

``--ablate`` adds dressed runs with one part of the dressing switched off each (vegetation, shop fronts,
props). ``--parts`` adds dressed runs that say where the render time goes: the street trees, the bushes or
the verge grass left out (``no_trees``, ``no_bushes``, ``no_grass``), and one group of materials at a time
rendered as a plain Principled BSDF in its mean colour (``plain_<group>``: the road and open ground, the
vehicles, the people, cones and shop fronts, the cached Infinigen surfaces, the vegetation's materials); a
plain run is a diagnostic (the builder's material functions are swapped in this process), not a setting.
``--set`` passes extra Hydra overrides to every run. With ``--sheet`` it writes a contact sheet: one row per
run (plain RGB). ``--against`` compares every run with the same run in an earlier ``OUT_DIR`` (another commit,
same seed): the mean absolute RGB difference per frame (grey levels) and whether the instance and class maps
are the same bytes.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir

import simvision.render.builder as builder
import simvision.render.street_materials as street_materials
from simvision.config import CONF_DIR
from simvision.dataset.job import run
from simvision.dataset.job_config import register_configs
from simvision.dataset.preview import sheet_of_files, write_rgb_png
from simvision.render.street_materials import FLAT_KINDS

# --parts: the dressed slot kinds (street_materials.slot_material) of each group made plain
PLAIN_GROUPS = {
    "road": FLAT_KINDS,
    "vehicles": frozenset({"car_paint", "tinted_glass", "window_glass", "rubber", "rim", "plate"}),
    "people_cones_shops": frozenset(
        {"fabric", "skin", "worn_plastic", "reflective_sheeting", "shop_sign", "shop_window", "lit_window"}
    ),
}
DRESSED = ["scene.assets=infinigen"]
# the builder's material functions a plain run swaps (restored before every run)
SWAPPED = (
    (builder, "slot_material"),
    (builder, "cached_surface"),
    (street_materials, "cached_surface"),
    (builder, "append_variant"),
)


def _plain(mat: Any, colour: Any, roughness: float) -> Any:
    """``mat`` with its node tree replaced by one Principled BSDF (``colour`` linear RGB)."""
    mat.use_nodes = True
    tree = mat.node_tree
    tree.nodes.clear()
    bsdf = tree.nodes.new("ShaderNodeBsdfPrincipled")
    bsdf.inputs["Base Color"].default_value = (*[float(c) for c in colour[:3]], 1.0)
    bsdf.inputs["Roughness"].default_value = float(roughness)
    out = tree.nodes.new("ShaderNodeOutputMaterial")
    tree.links.new(bsdf.outputs["BSDF"], out.inputs["Surface"])
    return mat


def _make_plain(group: str) -> None:
    """Swap the builder's material functions so that ``group``'s materials render plain (this process only)."""
    if group in PLAIN_GROUPS:
        kinds, slot_material = PLAIN_GROUPS[group], builder.slot_material

        def plain_slot(bpy: Any, name: str, record: dict[str, Any], base: Any) -> Any:
            if record.get("kind") not in kinds:
                return slot_material(bpy, name, record, base)
            return _plain(bpy.data.materials.new(name), base.base_color, base.roughness)

        builder.slot_material = plain_slot
    elif group == "infinigen":  # the cached sidewalk, kerb and facade materials, in their baked mean colour
        cached_surface = builder.cached_surface

        def plain_surface(bpy: Any, record: dict[str, Any]) -> Any:
            mat = cached_surface(bpy, record)
            return _plain(mat, mat.get("sv_mean_color", [0.5] * 3), mat.get("sv_mean_roughness", 0.5))

        builder.cached_surface = street_materials.cached_surface = plain_surface
    elif group == "vegetation":  # every material a cached asset brings along (trees, bushes, grass, rocks)
        append_variant = builder.append_variant

        def plain_variant(bpy: Any, *args: Any, **kwargs: Any) -> Any:
            before = set(bpy.data.materials.keys())
            obj = append_variant(bpy, *args, **kwargs)
            for name in set(bpy.data.materials.keys()) - before:
                _plain(bpy.data.materials[name], [0.1, 0.15, 0.05], 0.6)
            return obj

        builder.append_variant = plain_variant


def _runs(args: argparse.Namespace) -> dict[str, tuple[list[str], str]]:
    """Run name -> (its overrides, the material group it renders plain or "")."""
    runs = {"procedural": (["scene.assets=procedural"], ""), "infinigen": (DRESSED, "")}
    if args.ablate:
        for part in ("vegetation", "shop_fronts", "props"):
            runs[f"no_{part}"] = ([*DRESSED, f"scene.{part}.enabled=false"], "")
    if args.parts:
        for name, override in (
            ("trees", "tree_probability"),
            ("bushes", "bush_probability"),
            ("grass", "grass_per_m"),
        ):
            runs[f"no_{name}"] = ([*DRESSED, f"scene.vegetation.{override}=0"], "")
        for group in (*PLAIN_GROUPS, "infinigen", "vegetation"):
            runs[f"plain_{group}"] = (DRESSED, group)
    return runs


def _difference(before: Path, after: Path) -> str:
    """Mean absolute RGB difference per frame (grey levels) and whether the label maps are the same bytes."""
    import numpy as np  # noqa: PLC0415
    from PIL import Image  # noqa: PLC0415

    names = sorted(p.name for p in (after / "images").glob("*.png"))
    if not names or not all((before / "images" / n).is_file() for n in names):
        return "not comparable (missing frames)"
    diffs = [
        np.abs(
            np.asarray(Image.open(before / "images" / n).convert("RGB"), dtype=np.float64)
            - np.asarray(Image.open(after / "images" / n).convert("RGB"), dtype=np.float64)
        ).mean()
        for n in names
    ]
    labels = [(sub, n) for sub in ("instance", "semantic") for n in names]
    same = all((before / sub / n).read_bytes() == (after / sub / n).read_bytes() for sub, n in labels)
    return f"RGB {' '.join(f'{d:.2f}' for d in diffs)} grey levels a frame; labels {'the same' if same else 'DIFFER'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--frames", type=int, default=3)
    parser.add_argument("--resolution", type=int, nargs=2, default=[621, 188])
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--cache", default="")
    parser.add_argument("--sheet", default="")
    parser.add_argument("--width", type=int, default=330)  # keeps a 3 x 2 sheet under 400 KB
    parser.add_argument("--ablate", action="store_true", help="also time the dressed street without each part")
    parser.add_argument("--parts", action="store_true", help="also time it without each vegetation kind, and plain")
    parser.add_argument("--set", action="append", default=[], help="extra Hydra override for every run")
    parser.add_argument("--against", default="", help="an earlier OUT_DIR: per-run pixel and label differences")
    args = parser.parse_args()
    register_configs()
    out = Path(args.out)
    originals = [getattr(module, attr) for module, attr in SWAPPED]
    rows = {}
    for name, (run_overrides, plain) in _runs(args).items():
        overrides = [
            "scene=street",
            f"output_dir={out / name}",
            f"num_frames={args.frames}",
            f"seed={args.seed}",
            f"render.resolution=[{args.resolution[0]},{args.resolution[1]}]",
            f"render.samples={args.samples}",
            "render.device=cpu",
            "scene.camera_hfov_deg=[78,84]",
            "scene.camera_height=[1.6,1.7]",
            "scene.infinigen.material_variants=1",
            *run_overrides,
            *args.set,
        ]
        if args.cache:
            overrides.append(f"scene.infinigen.cache_dir={args.cache}")
        for (module, attr), original in zip(SWAPPED, originals, strict=True):
            setattr(module, attr, original)
        _make_plain(plain)
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose(config_name="render", overrides=overrides)
        run(cfg)
        t = json.loads((out / name / "throughput.json").read_text())
        n = t["frames"]
        rows[name] = {
            "frames": n,
            "loop_s_per_frame": t["loop_seconds"] / n,
            "build_s_per_frame": t["stage_seconds"]["build"] / n,
            "render_s_per_frame": t["stage_seconds"]["render"] / n,
        }
        from hydra.core.global_hydra import GlobalHydra  # noqa: PLC0415

        GlobalHydra.instance().clear()
    res = f"{args.resolution[0]}x{args.resolution[1]}, {args.samples} spp"
    base = rows["procedural"]["loop_s_per_frame"]
    for name, r in rows.items():
        print(
            f"{name:24s} {res}: {r['frames']} frames, loop {r['loop_s_per_frame']:.2f} s/frame "
            f"({r['loop_s_per_frame'] / base:.2f}x procedural; build {r['build_s_per_frame']:.2f} s, "
            f"render {r['render_s_per_frame']:.2f} s)"
        )
    if args.against:
        for name in rows:
            print(f"{name:24s} against {args.against}: {_difference(Path(args.against) / name, out / name)}")
    if args.sheet:
        paths = [p for a in rows for p in sorted((out / a / "images").glob("*.png"))[: args.frames]]
        write_rgb_png(args.sheet, sheet_of_files(paths, args.frames, args.width))


if __name__ == "__main__":
    main()
