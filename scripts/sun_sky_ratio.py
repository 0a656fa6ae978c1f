"""How strong the street's clear-day sun is against its sky: the light each puts on flat ground, rendered.

    python scripts/sun_sky_ratio.py                       # the default sun (scene.conditions.sun_strength=4)
    python scripts/sun_sky_ratio.py --strength 4 12 24    # several

For each sun elevation, a white matte plane seen from above is rendered in Cycles under the street's clear sky
alone, then with its sun (both as ``simvision.scene.street.sky`` builds them: the Nishita sky's strength, air and
dust from ``sky_background``, the sun lamp's strength from ``sun_lights``), in linear light. The sun's share is
(with - sky) / sky: the ratio of direct to diffuse light on the ground. A clear day's, by the ASHRAE clear-sky
model (diffuse on the ground = C x the direct normal light, C = 0.058 in January to 0.136 in July), is
sin(elevation) / C; printed beside it. A ratio far below it is a hazy, flat light with pale shadows.
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

import numpy as np

from simvision.scene.conditions import CLEAR_SUN_STRENGTH, Conditions
from simvision.scene.street.sky import sky_background, sun_lights

ASHRAE_C = (0.058, 0.136)  # diffuse / direct normal on clear days, January and July


def _conditions(elevation: float) -> Conditions:
    return Conditions(
        time_of_day="day", sun_elevation_deg=elevation, sun_azimuth_deg=90.0, glare=False, weather="clear",
        fog_density=0.0, wetness=0.0, puddle_coverage=0.0, rain_streaks=0, exposure_ev=0.0, motion_blur_px=0.0,
        sensor_noise=0.0, lens_dirt=False, preset="none",
    )  # fmt: skip


class _Plane:
    """A white matte plane under a sky, seen from straight above by an orthographic camera."""

    def __init__(self, bpy: object, samples: int, out: Path) -> None:
        self.bpy, self.out = bpy, out
        bpy.ops.wm.read_factory_settings(use_empty=True)
        scene = bpy.context.scene
        scene.render.engine = "CYCLES"
        scene.cycles.samples, scene.cycles.device = samples, "CPU"
        scene.render.resolution_x = scene.render.resolution_y = 16
        scene.view_settings.view_transform = "Standard"
        bpy.ops.mesh.primitive_plane_add(size=200)
        material = bpy.data.materials.new("white")
        material.use_nodes = True
        bsdf = material.node_tree.nodes["Principled BSDF"]
        bsdf.inputs["Base Color"].default_value = (1, 1, 1, 1)
        bsdf.inputs["Roughness"].default_value = 1.0
        bpy.context.object.data.materials.append(material)
        camera = bpy.data.cameras.new("camera")
        camera.type, camera.ortho_scale = "ORTHO", 1.0
        obj = bpy.data.objects.new("camera", camera)
        scene.collection.objects.link(obj)
        obj.location = (0.0, 0.0, 5.0)
        scene.camera = obj
        self.scene, self.sun = scene, None

    def sky(self, record: dict) -> None:
        bpy = self.bpy
        world = bpy.data.worlds.new("sky")
        self.scene.world = world
        world.use_nodes = True
        nodes, links = world.node_tree.nodes, world.node_tree.links
        nodes.clear()
        background = nodes.new("ShaderNodeBackground")
        links.new(background.outputs[0], nodes.new("ShaderNodeOutputWorld").inputs[0])
        tex = nodes.new("ShaderNodeTexSky")
        tex.sky_type = "NISHITA"
        tex.sun_elevation = math.radians(record["sun_elevation_deg"])
        tex.sun_disc = False
        tex.air_density, tex.dust_density = record["air_density"], record["dust_density"]
        links.new(tex.outputs[0], background.inputs[0])
        background.inputs[1].default_value = record["strength"]

    def light(self, elevation: float, strength: float | None) -> None:
        bpy = self.bpy
        if self.sun is not None:
            bpy.data.objects.remove(self.sun)
            self.sun = None
        if strength is None:
            return
        data = bpy.data.lights.new("sun", "SUN")
        data.energy = strength
        self.sun = bpy.data.objects.new("sun", data)
        self.scene.collection.objects.link(self.sun)
        self.sun.rotation_euler = (math.radians(90.0 - elevation), 0.0, 0.0)

    def luminance(self, tag: str) -> float:
        """The plane's mean linear luminance (Rec. 709 weights)."""
        bpy = self.bpy
        path = self.out / f"{tag}.exr"
        self.scene.render.filepath = str(path)
        self.scene.render.image_settings.file_format = "OPEN_EXR"
        bpy.ops.render.render(write_still=True)
        image = bpy.data.images.load(str(path))
        rgb = np.asarray(image.pixels[:], dtype=np.float64).reshape(-1, 4)[:, :3].mean(axis=0)
        bpy.data.images.remove(image)
        return float(rgb @ np.array([0.2126, 0.7152, 0.0722]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--strength", type=float, nargs="+", default=[CLEAR_SUN_STRENGTH], help="scene.conditions.sun_strength"
    )
    parser.add_argument("--elevations", type=float, nargs="+", default=[8.0, 15.0, 25.0, 40.0, 65.0])
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0, help="the sky's air and dust are drawn from this seed")
    args = parser.parse_args()
    import bpy  # the bpy wheel: a plain Blender session, no BlenderProc needed

    print("| sun elevation | sky's air / dust | " + " | ".join(f"sun {s:g}: direct / sky" for s in args.strength)
          + " | clear day (ASHRAE, C 0.136-0.058) |")  # fmt: skip
    print("|---" * (3 + len(args.strength)) + "|")
    with tempfile.TemporaryDirectory() as tmp:
        plane = _Plane(bpy, args.samples, Path(tmp))
        for elevation in args.elevations:
            conditions = _conditions(elevation)
            sky = sky_background(conditions, np.random.default_rng(args.seed))["sky"]
            plane.sky(sky)
            plane.light(elevation, None)
            diffuse = plane.luminance("sky")
            ratios = []
            for strength in args.strength:
                (sun,) = sun_lights(conditions, strength)
                plane.light(elevation, sun.energy)
                ratios.append((plane.luminance(f"sun{strength:g}") - diffuse) / diffuse)
            low, high = (math.sin(math.radians(elevation)) / c for c in reversed(ASHRAE_C))
            haze = f"{sky['air_density']:.2f} / {sky['dust_density']:.2f}"
            cells = " | ".join(f"{r:.2f}" for r in ratios)
            print(f"| {elevation:g} | {haze} | {cells} | {low:.1f}-{high:.1f} |")


if __name__ == "__main__":
    main()
