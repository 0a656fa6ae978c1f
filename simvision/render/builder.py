"""SceneSpec -> Blender scene -> rendered passes. The only code that touches bpy/BlenderProc
besides :mod:`simvision.render.runtime`."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from simvision.labels.geometry import BLENDER_TO_OPENCV_CAM, camera_normals
from simvision.render import runtime
from simvision.render.infinigen_assets import append_variant, box_uvs, cached_surface
from simvision.render.settings import RenderSettings, blender_look
from simvision.render.street_materials import slot_material
from simvision.scene.shapes import Mesh, cuboid, merge
from simvision.scene.spec import MaterialSpec, SceneSpec
from simvision.scene.tabletop.settle import remove_fallen

_RENDER_DEFAULTS = RenderSettings()
INSTANCE_KEY = "sv_instance"
RIM_THICKNESS_M = 0.02  # the invisible drop rim's boxes (scene.table_rim_m)
KEEP_ON_TABLE_DAMPING = {"angular_damping": 0.6, "linear_damping": 0.2}  # BlenderProc's defaults: 0.1, 0.04
CATEGORY_KEY = "category_id"
NORMALS_KEY = "normals"  # BlenderProc loads this output key by default
NORMALS_NODE = "sv_normals_output"


# the daylight plane outside a window: this far out from the wall, and this much larger than the opening each way
DAYLIGHT_DISTANCE_M = 0.6
DAYLIGHT_MARGIN_M = 2.5


@dataclass
class RenderedView:
    rgb: np.ndarray  # (H, W, 3) uint8
    depth: np.ndarray  # (H, W) float32 metres, 0 = no surface
    instance: np.ndarray  # (H, W) int32 instance ids, 0 = background / unlabelled
    semantic: np.ndarray  # (H, W) int32 category ids
    # (H, W, 3) float32 unit normals in the camera frame (OpenCV axes), 0 off surfaces; None unless
    # the renderer was asked for normals (output.normals)
    normals: np.ndarray | None = None


# object index in spec.objects -> (location, rotation_euler) after the rigid-body drop
SettledPoses = dict[int, tuple[list[float], list[float]]]


@dataclass
class BuiltScene:
    """What the labeller needs from Blender after physics: the objects' final world poses."""

    poses_world: dict[int, np.ndarray]  # object index in spec.objects -> 4x4 (rigid, no scale)
    settled: SettledPoses | None = None  # the same poses as Blender's location + Euler rotation


def render_setting(cfg: Any, name: str) -> Any:
    """One render setting, or its schema default (scripts and tests may pass partial settings)."""
    value = cfg.get(name) if hasattr(cfg, "get") else getattr(cfg, name, None)
    return getattr(_RENDER_DEFAULTS, name) if value is None else value


def light_bounces(bounces: int) -> dict[str, int]:
    """render.max_bounces as BlenderProc's set_light_bounces arguments (no volume bounces)."""
    return {
        "diffuse_bounces": bounces,
        "glossy_bounces": bounces,
        "max_bounces": bounces,
        "transmission_bounces": bounces,
        "transparent_max_bounces": bounces,
        "volume_bounces": 0,
    }


def use_physics_worker(setting: Any, gpu: bool) -> bool:
    """render.physics_worker (auto | true | false): auto uses it when Cycles renders on a GPU."""
    value = str(setting).lower()
    return gpu if value == "auto" else value == "true"


def configure_cycles(bpy: Any, bproc: Any, render_cfg: Any, gpu: bool = False) -> dict[str, Any]:
    """Apply the quality and speed settings of ``render_cfg`` to Cycles; return what was set.

    Denoising is one OIDN/OptiX pass inside Cycles, guided by Cycles' own denoising albedo and
    normal. ``bproc.init`` also puts BlenderProc's compositor denoiser (a second OIDN pass on
    the finished image) into the node tree; it is removed here, together with the diffuse-colour
    and normal passes only it needed, so an image is denoised exactly once.
    """
    get = functools.partial(render_setting, render_cfg)
    scene, layer = bpy.context.scene, bpy.context.view_layer
    bproc.renderer.set_denoiser(None)  # drops the compositor Denoise node and Cycles' denoiser
    layer.use_pass_normal = False
    layer.use_pass_diffuse_color = False
    denoiser = str(get("denoiser")).upper()
    enabled = denoiser != "NONE"
    scene.cycles.use_denoising = enabled
    layer.cycles.use_denoising = enabled
    if enabled:
        scene.cycles.denoiser = denoiser
        scene.cycles.denoising_input_passes = "RGB_ALBEDO_NORMAL"
        scene.cycles.denoising_prefilter = str(get("denoising_prefilter")).upper()
        scene.cycles.denoising_quality = str(get("denoising_quality")).upper()
        scene.cycles.denoising_use_gpu = bool(get("denoise_on_gpu")) and gpu
    bproc.renderer.set_max_amount_of_samples(int(get("samples")))
    threshold = float(get("noise_threshold"))
    bproc.renderer.set_noise_threshold(threshold)  # 0 switches adaptive sampling off
    scene.cycles.adaptive_min_samples = int(get("adaptive_min_samples"))
    bounces = int(get("max_bounces"))
    bproc.renderer.set_light_bounces(**light_bounces(bounces))
    scene.render.use_persistent_data = bool(get("persistent_data"))
    scene.cycles.seed = 0  # a fixed Cycles seed: the same scene renders to the same pixels
    view_transform, look = str(get("view_transform")), str(get("look"))
    scene.view_settings.view_transform = view_transform  # bproc.init set Filmic; the exposure is per scene
    scene.view_settings.look = blender_look(view_transform, look)
    return {
        "samples": int(get("samples")),
        "denoiser": denoiser,
        "denoising_prefilter": scene.cycles.denoising_prefilter if enabled else None,
        "denoising_quality": scene.cycles.denoising_quality if enabled else None,
        "denoise_on_gpu": bool(scene.cycles.denoising_use_gpu) if enabled else False,
        "adaptive_sampling": bool(scene.cycles.use_adaptive_sampling),
        "noise_threshold": threshold,
        "adaptive_min_samples": int(scene.cycles.adaptive_min_samples),
        "max_bounces": bounces,
        "persistent_data": bool(scene.render.use_persistent_data),
        "physics_worker": use_physics_worker(get("physics_worker"), gpu),
        "view_transform": view_transform,
        "look": look,
    }


def clear_scene_data(bpy: Any, bproc: Any) -> None:
    """BlenderProc's ``clean_up`` (the camera kept): every data block but the scene "Scene", the camera
    "Camera" and texts removed, custom scene properties, world and keyframes reset. BlenderProc removes the
    blocks one ``remove`` at a time, and each removal searches the whole file for the block's users, so a
    dressed street's thousand-odd meshes, materials, images and node groups took about 0.7 s a scene; one
    ``batch_remove`` of the same blocks does the search once. BlenderProc's ``clean_up`` then finds nothing
    left to remove and does the rest as before."""
    doomed = []
    for attr in dir(bpy.data):
        blocks = getattr(bpy.data, attr)
        if attr == "texts" or not isinstance(blocks, bpy.types.bpy_prop_collection) or not hasattr(blocks, "remove"):
            continue
        for block in blocks:
            if isinstance(block, bpy.types.Scene) and block.name == "Scene":
                continue
            if isinstance(block, (bpy.types.Object, bpy.types.Camera)) and block.name == "Camera":
                continue
            doomed.append(block)
    if doomed:
        bpy.data.batch_remove(doomed)
    bproc.clean_up(clean_up_camera=False)


class SceneBuilder:
    """SceneSpec -> Blender objects, materials, lights and world; rigid-body physics; final poses.

    Knows nothing about render settings or outputs, so the benchmark's plain-BlenderProc baseline
    builds exactly the same scenes with it.
    """

    def __init__(self, bpy: Any, bproc: Any) -> None:
        self.bpy = bpy
        self.bproc = bproc
        self.placed: list[Any] = []  # the last built scene's objects (MeshObject), in spec.objects order

    def _material(self, name: str, spec: MaterialSpec | dict[str, Any]) -> Any:
        m = spec if isinstance(spec, MaterialSpec) else MaterialSpec(**spec)
        bpy = self.bpy
        mat = bpy.data.materials.new(name)
        mat.use_nodes = True
        nodes, links = mat.node_tree.nodes, mat.node_tree.links
        bsdf = nodes.get("Principled BSDF")
        bsdf.inputs["Base Color"].default_value = (*m.base_color, 1.0)
        bsdf.inputs["Roughness"].default_value = m.roughness
        bsdf.inputs["Metallic"].default_value = m.metallic
        if m.emission_color is not None and m.emission_strength > 0:
            bsdf.inputs["Emission Color"].default_value = (*m.emission_color, 1.0)
            bsdf.inputs["Emission Strength"].default_value = m.emission_strength
        coords = None
        if m.texture or m.puddles > 0 or m.image_texture:
            coords = nodes.new("ShaderNodeTexCoord")
        if m.image_texture:
            image = nodes.new("ShaderNodeTexImage")
            image.image = bpy.data.images.load(m.image_texture, check_existing=True)
            image.projection = "BOX"
            image.projection_blend = 0.2
            mapping = nodes.new("ShaderNodeMapping")
            mapping.inputs["Scale"].default_value = (m.texture_scale,) * 3
            links.new(coords.outputs["Object"], mapping.inputs["Vector"])
            links.new(mapping.outputs["Vector"], image.inputs["Vector"])
            links.new(image.outputs["Color"], bsdf.inputs["Base Color"])
        elif m.texture:
            mapping = nodes.new("ShaderNodeMapping")
            mapping.inputs["Scale"].default_value = (m.texture_scale,) * 3
            links.new(coords.outputs["Object"], mapping.inputs["Vector"])
            node_type = {
                "noise": "ShaderNodeTexNoise",
                "voronoi": "ShaderNodeTexVoronoi",
                "checker": "ShaderNodeTexChecker",
                "wave": "ShaderNodeTexWave",
            }[m.texture]
            tex = nodes.new(node_type)
            links.new(mapping.outputs["Vector"], tex.inputs["Vector"])
            factor = tex.outputs["Distance"] if m.texture == "voronoi" else tex.outputs["Fac"]
            mix = nodes.new("ShaderNodeMix")
            mix.data_type = "RGBA"
            links.new(factor, mix.inputs["Factor"])
            mix.inputs[6].default_value = (*m.base_color, 1.0)
            mix.inputs[7].default_value = (*(m.second_color or m.base_color), 1.0)
            links.new(mix.outputs[2], bsdf.inputs["Base Color"])
        if m.puddles > 0:
            # large-scale noise thresholded at the coverage: mirror-like water where it is below
            noise = nodes.new("ShaderNodeTexNoise")
            noise.inputs["Scale"].default_value = 0.15
            noise.inputs["Detail"].default_value = 4.0
            links.new(coords.outputs["Object"], noise.inputs["Vector"])
            ramp = nodes.new("ShaderNodeValToRGB")
            ramp.color_ramp.elements[0].position = float(np.clip(0.32 + 0.36 * m.puddles, 0, 1))
            ramp.color_ramp.elements[0].color = (0.02, 0.02, 0.02, 1.0)
            ramp.color_ramp.elements[1].position = float(np.clip(0.34 + 0.36 * m.puddles, 0, 1))
            ramp.color_ramp.elements[1].color = (m.roughness, m.roughness, m.roughness, 1.0)
            links.new(noise.outputs["Fac"], ramp.inputs["Fac"])
            links.new(ramp.outputs["Color"], bsdf.inputs["Roughness"])
        return mat

    def _surface(self, name: str, spec: dict[str, Any], infinigen: dict[str, Any] | None) -> Any:
        """A room surface's material: the cached Infinigen one when the scene names it, else our own."""
        if infinigen is None:
            return self._material(name, spec)
        return cached_surface(self.bpy, infinigen)

    def _mesh_object(
        self,
        name: str,
        vertices: np.ndarray,
        faces: np.ndarray,
        smooth: bool,
        category_id: int,
        instance_id: int,
        face_slots: np.ndarray | None = None,
    ) -> Any:
        bpy = self.bpy
        mesh = bpy.data.meshes.new(name)
        mesh.vertices.add(len(vertices))
        mesh.vertices.foreach_set("co", np.asarray(vertices, dtype=np.float32).ravel())
        mesh.loops.add(3 * len(faces))
        mesh.loops.foreach_set("vertex_index", np.asarray(faces, dtype=np.int32).ravel())
        mesh.polygons.add(len(faces))
        mesh.polygons.foreach_set("loop_start", np.arange(0, 3 * len(faces), 3, dtype=np.int32))
        mesh.polygons.foreach_set("use_smooth", np.full(len(faces), smooth, dtype=bool))
        if face_slots is not None:
            mesh.polygons.foreach_set("material_index", np.asarray(face_slots, dtype=np.int32))
        mesh.update(calc_edges=True)
        mesh.validate()
        obj = bpy.data.objects.new(name, mesh)
        bpy.context.scene.collection.objects.link(obj)
        return self._tagged(obj, category_id, instance_id)

    def _tagged(self, obj: Any, category_id: int, instance_id: int) -> Any:
        """Give a new Blender object its label ids and wrap it as a BlenderProc MeshObject."""
        bpy = self.bpy
        obj[CATEGORY_KEY] = int(category_id)
        # the object-index pass identifies objects; BlenderProc maps it to the properties above
        obj.pass_index = len(bpy.context.scene.objects)
        obj[INSTANCE_KEY] = int(instance_id)
        return self.bproc.types.MeshObject(obj)

    def _static(
        self,
        name: str,
        size: tuple[float, float, float],
        location: tuple[float, float, float],
        material: Any,
        physics: bool,
        mesh: Mesh | None = None,
    ) -> Any:
        """A static box ``size`` (base at ``location``), or ``mesh`` in its place, in ``material``."""
        v, f = cuboid(size) if mesh is None else mesh
        obj = self._mesh_object(name, v, f, False, 0, 0)
        obj.set_location(location)
        mesh = obj.blender_obj.data
        mesh.materials.append(material)
        if material.get("sv_source"):  # an Infinigen material: texture coordinates in metres on every side
            self._metre_coordinates(mesh)
        if physics:
            obj.enable_rigidbody(active=False, collision_shape="MESH", friction=0.8)
        return obj

    def _drop_rim(self, spec: SceneSpec) -> list[Any]:
        """``spec.physics["rim_m"]`` (scene.table_rim_m) on a table: four passive boxes that high, 2 cm thick,
        standing just outside the top's edges, so objects sliding or rolling to an edge stop there; the caller
        deletes them after the drop. None otherwise."""
        height = float(spec.physics.get("rim_m", 0.0))
        c = spec.container
        if height <= 0 or c.get("kind") != "table":
            return []
        sx, sy = (float(v) for v in c["top_size"])
        w = RIM_THICKNESS_M
        boxes = [((w, sy + 2 * w, height), (s * (sx + w) / 2, 0.0, 0.0)) for s in (-1, 1)]
        boxes += [((sx, w, height), (0.0, s * (sy + w) / 2, 0.0)) for s in (-1, 1)]
        rim = []
        for i, (size, location) in enumerate(boxes):
            v, f = cuboid(size)
            obj = self._mesh_object(f"drop_rim_{i}", v, f, False, 0, 0)
            obj.set_location(location)
            obj.enable_rigidbody(active=False, collision_shape="MESH", friction=0.8)
            rim.append(obj)
        return rim

    def _metre_coordinates(self, mesh: Any) -> None:
        """Texture coordinates in metres for Infinigen materials: box-projected "UVMap" (plaster, fabric read
        UVs), and Generated coordinates (what unlinked texture nodes read) = object coordinates in metres,
        not the bounding box stretched to 0..1 (a 6 m floor and a 3 cm top would scale differently)."""
        box_uvs(self.bpy, mesh)
        mesh.use_auto_texspace = False
        mesh.texspace_location = (0.5, 0.5, 0.5)
        mesh.texspace_size = (0.5, 0.5, 0.5)

    def _container(self, spec: SceneSpec) -> None:
        c = spec.container
        if c["kind"] == "none":  # free-floating objects (tests, custom layouts)
            return
        infinigen = spec.background.get("infinigen_materials", {})  # scene.infinigen.room_materials
        mat = self._surface("container", c["material"], infinigen.get("container"))
        if c["kind"] == "table":
            sx, sy = c["top_size"]
            t, h, leg = c["thickness"], c["height"], c["leg_width"]
            self._static("table_top", (sx, sy, t), (0, 0, -t), mat, True)
            for ix in (-1, 1):
                for iy in (-1, 1):
                    loc = (ix * (sx / 2 - leg), iy * (sy / 2 - leg), -h)
                    self._static("table_leg", (leg, leg, h - t), loc, mat, False)
            floor_z = -h
        else:
            sx, sy = c["inner_size"]
            wh, wt = c["wall_height"], c["wall_thickness"]
            self._static("bin_floor", (sx + 2 * wt, sy + 2 * wt, wt), (0, 0, -wt), mat, True)
            for s in (-1, 1):
                self._static("bin_wall", (wt, sy + 2 * wt, wh), (s * (sx / 2 + wt / 2), 0, 0), mat, True)
                self._static("bin_wall", (sx, wt, wh), (0, s * (sy / 2 + wt / 2), 0), mat, True)
            floor_z = -wt
        bg = spec.background
        room_x, room_y, room_z = bg["room_size"]
        floor = self._surface("floor", bg["floor"], infinigen.get("floor"))
        walls = self._surface("walls", bg["walls"], infinigen.get("walls"))
        self._static("floor", (room_x, room_y, 0.02), (0, 0, floor_z - 0.02), floor, True)
        windows = {int(w["wall"]): w for w in bg.get("infinigen_windows", [])}
        for index, s in ((0, -1), (1, 1)):
            self._wall(index, (0.02, room_y, room_z), (s * room_x / 2, 0, floor_z), walls, windows.get(index))
        self._wall(2, (room_x, 0.02, room_z), (0, room_y / 2, floor_z), walls, windows.get(2))

    def _wall(
        self,
        index: int,
        size: tuple[float, float, float],
        location: tuple[float, float, float],
        material: Any,
        window: dict[str, Any] | None,
    ) -> None:
        """Wall ``index`` (0: -x, 1: +x, 2: +y), with the opening of its window (``background.infinigen_windows``)
        cut out: one mesh of up to four boxes round the opening, so Infinigen's wall materials, which read object
        coordinates, run on across it; and the daylight outside the opening."""
        if window is None:
            self._static("wall", size, location, material, False)
            return
        opening = window["opening"]
        along = 1 if index < 2 else 0  # the wall runs along y (walls 0, 1) or x (wall 2)
        length, height = size[along], size[2]
        a0, a1 = opening["along_m"] - opening["width_m"] / 2, opening["along_m"] + opening["width_m"] / 2
        z0, z1 = opening["bottom_m"], opening["bottom_m"] + opening["height_m"]
        parts = []
        for (lo, hi), (bottom, top) in (
            ((-length / 2, a0), (0.0, height)),
            ((a1, length / 2), (0.0, height)),
            ((a0, a1), (0.0, z0)),
            ((a0, a1), (z1, height)),
        ):
            if hi - lo > 1e-6 and top - bottom > 1e-6:
                piece = list(size)
                piece[along], piece[2] = hi - lo, top - bottom
                offset = np.zeros(3)
                offset[along], offset[2] = (lo + hi) / 2, bottom
                v, f = cuboid((piece[0], piece[1], piece[2]))
                parts.append((v + offset, f))
        self._static("wall", size, location, material, False, mesh=merge(*parts))
        self._daylight(index, along, location, window)

    def _daylight(self, index: int, along: int, location: tuple[float, float, float], window: dict[str, Any]) -> None:
        """An emitting plane outside the window's opening in wall ``index`` (running along axis ``along``), larger
        than it: the bright sky a photo sees through a window, and the daylight that falls into the room through
        it (unlabelled)."""
        opening = window["opening"]
        across = 1 - along
        size = [0.0, 0.0, opening["height_m"] + 2 * DAYLIGHT_MARGIN_M]
        size[along], size[across] = opening["width_m"] + 2 * DAYLIGHT_MARGIN_M, 0.01
        centre = list(location)
        centre[along] = opening["along_m"]
        centre[across] += (-1.0 if index == 0 else 1.0) * DAYLIGHT_DISTANCE_M  # outwards
        centre[2] += opening["bottom_m"] - DAYLIGHT_MARGIN_M
        v, f = cuboid((size[0], size[1], size[2]))
        obj = self._mesh_object(f"daylight_{index}", v, f, False, 0, 0)
        obj.set_location(centre)
        mat = self.bpy.data.materials.new(f"daylight_{index}")
        mat.use_nodes = True
        nodes, links = mat.node_tree.nodes, mat.node_tree.links
        nodes.clear()
        emission = nodes.new("ShaderNodeEmission")
        emission.inputs["Color"].default_value = (*window["daylight_color"], 1.0)
        emission.inputs["Strength"].default_value = float(window["daylight"])
        links.new(emission.outputs["Emission"], nodes.new("ShaderNodeOutputMaterial").inputs["Surface"])
        obj.blender_obj.data.materials.append(mat)

    def _world(self, spec: SceneSpec) -> None:
        """World background (flat colour, or a physical Nishita sky), exposure, light sampling.

        Fog is not a Cycles volume here: volume scattering also scatters the object-index pass and
        breaks the labels; it is composited on the exact depth instead (render/effects.py).
        """
        bpy = self.bpy
        bg = spec.background
        scene = bpy.context.scene
        world = scene.world
        world.use_nodes = True
        nodes, links = world.node_tree.nodes, world.node_tree.links
        nodes.clear()
        out = nodes.new("ShaderNodeOutputWorld")
        background = nodes.new("ShaderNodeBackground")
        links.new(background.outputs["Background"], out.inputs["Surface"])
        sky = bg.get("sky")
        if sky and not sky.get("overcast") and sky["sun_elevation_deg"] > -8:
            tex = nodes.new("ShaderNodeTexSky")
            tex.sky_type = "NISHITA"
            tex.sun_elevation = np.radians(sky["sun_elevation_deg"])
            tex.sun_rotation = np.radians(90.0 - sky["sun_azimuth_deg"])  # Blender measures from +y
            tex.sun_disc = bool(sky["sun_disc"])
            tex.air_density = sky["air_density"]
            tex.dust_density = sky["dust_density"]
            links.new(tex.outputs["Color"], background.inputs["Color"])
            background.inputs["Strength"].default_value = sky["strength"] if sky["sun_elevation_deg"] > -3 else 0.02
        else:  # flat: indoor ambient, overcast sky or night
            background.inputs["Color"].default_value = (*bg["world_color"], 1.0)
            background.inputs["Strength"].default_value = float(bg["world_strength"])
        world["category_id"] = 0
        scene.view_settings.exposure = float(bg.get("exposure_ev", 0.0))
        scene.cycles.use_light_tree = bool(bg.get("light_tree", False))

    def _lights(self, spec: SceneSpec) -> None:
        for i, ls in enumerate(spec.lights):
            light = self.bproc.types.Light(light_type=ls.type, name=f"light_{i}")
            light.set_location(ls.location)
            direction = np.asarray(ls.target) - np.asarray(ls.location)
            light.set_rotation_mat(self.bproc.camera.rotation_from_forward_vec(direction))
            light.set_color(ls.color)
            light.set_energy(ls.energy)
            data = light.blender_obj.data
            if ls.type == "AREA":
                data.size = ls.size
            elif ls.type == "SPOT":
                data.spot_size = ls.size
                data.spot_blend = 0.3
            elif ls.type == "SUN":
                data.angle = max(ls.size, 0.0)

    def _place(self, name: str, o: Any, smooth: bool) -> Any:
        """Create one ObjectSpec in Blender with its material(s) and initial pose."""
        if o.asset.get("kind") == "blend":  # a cached asset with its own materials (Infinigen)
            shared = bool(o.asset.get("instanced"))  # static scenery (street vegetation): linked duplicates
            blender_obj = append_variant(self.bpy, str(o.asset["path"]), str(o.asset["object"]), name, shared)
            obj = self._tagged(blender_obj, o.category_id, o.instance_id)
            obj.set_location(o.location)
            obj.set_rotation_euler(o.rotation_euler)
            if "scale" in o.asset:
                obj.set_scale([float(o.asset["scale"])] * 3)
            return obj
        obj = self._mesh_object(
            name, o.vertices, o.faces, smooth, o.category_id, o.instance_id, o.face_slots if o.slot_materials else None
        )
        materials = obj.blender_obj.data.materials
        dressed = o.asset.get("materials") or {}  # scene.assets=infinigen street: slot -> material record
        if o.slot_materials:
            for slot, m in o.slot_materials.items():
                record = dressed.get(slot)
                mat_name = f"{name}_{slot}"
                materials.append(
                    self._material(mat_name, m) if record is None else slot_material(self.bpy, mat_name, record, m)
                )
            if any(r.get("kind") == "infinigen" for r in dressed.values()):
                self._metre_coordinates(obj.blender_obj.data)
        else:
            materials.append(self._material(f"{name}_mat", o.material))
        obj.set_location(o.location)
        obj.set_rotation_euler(o.rotation_euler)
        return obj

    @staticmethod
    def _ride(obj: Any, carrier: Any) -> None:
        """Parent ``obj`` to ``carrier`` so that its location and rotation (already set) are in the carrier's
        frame: it follows the carrier through the drop and is labelled where it ends."""
        child = obj.blender_obj
        child.parent = carrier.blender_obj
        child.matrix_parent_inverse.identity()

    def build(self, spec: SceneSpec, settled: SettledPoses | None = None) -> BuiltScene:
        """Create the scene, drop the objects with rigid-body physics, return their final poses.

        ``settled`` are the final poses of an earlier simulation of the same spec (the physics
        worker's); the objects are then placed there directly and nothing is simulated. Both ways
        give the same Blender scene: BlenderProc's simulation also ends by setting these values.
        """
        bproc = self.bproc
        clear_scene_data(self.bpy, bproc)
        self._world(spec)
        self._container(spec)
        self._lights(spec)
        for i, o in enumerate(spec.scenery):
            self._place(f"scenery_{i}", o, smooth=False)
        objects = []
        simulate = spec.physics.get("max_time", 0.0) > 0 and settled is None
        # keep_on_table: more damping, so objects that land on others settle instead of rolling or sliding off
        damping = KEEP_ON_TABLE_DAMPING if spec.physics.get("keep_on_table") else {}
        for i, o in enumerate(spec.objects):
            obj = self._place(f"obj_{i}", o, smooth=o.asset.get("shape") not in ("box", "barrier", "fallen_cargo"))
            if o.parent:  # rides on a labelled object (food in a bowl): posed in its frame, no rigid body
                self._ride(obj, next(objects[j] for j, p in enumerate(spec.objects[:i]) if p.instance_id == o.parent))
            elif simulate:
                obj.enable_rigidbody(active=True, collision_shape="CONVEX_HULL", mass=0.2, friction=0.6, **damping)
            elif settled is not None and i in settled:
                location, rotation = settled[i]
                obj.set_location(location)
                obj.set_rotation_euler(rotation)
            objects.append(obj)
        self.placed = objects
        if objects and simulate:
            rim = self._drop_rim(spec)
            with runtime.quiet():
                bproc.object.simulate_physics_and_fix_final_poses(
                    min_simulation_time=spec.physics["min_time"],
                    max_simulation_time=spec.physics["max_time"],
                    check_object_interval=0.5,
                )
            for obj in rim:  # the drop is over: nothing of the rim is rendered or labelled
                self.bpy.data.objects.remove(obj.blender_obj, do_unlink=True)
        if settled is not None:
            self.bpy.context.view_layer.update()
        return BuiltScene(
            {i: np.array(obj.get_local2world_mat()) for i, obj in enumerate(objects)},
            {i: settled_pose(obj) for i, obj in enumerate(objects)},
        )


def settled_pose(obj: Any) -> tuple[list[float], list[float]]:
    """An object's location and Euler rotation as exact floats (what the physics worker returns)."""
    return [float(v) for v in obj.blender_obj.location], [float(v) for v in obj.blender_obj.rotation_euler]


def set_normals_output(bpy: Any, enabled: bool) -> None:
    """Add (or remove) the compositor output of Cycles' Normal pass, world space, as a float EXR.

    The pass and its output exist only while enabled, so renders without normals are exactly what
    they were before; switching it off again (another job in the same process) removes both.
    """
    from blenderproc.python.utility.GlobalStorage import GlobalStorage  # noqa: PLC0415
    from blenderproc.python.utility.Utility import Utility  # noqa: PLC0415

    scene = bpy.context.scene
    scene.use_nodes = True
    tree = scene.node_tree
    node = tree.nodes.get(NORMALS_NODE)
    bpy.context.view_layer.use_pass_normal = enabled  # the layer node's Normal socket exists only then
    if enabled and node is None:
        layer_node = Utility.get_the_one_node_with_type(tree.nodes, "CompositorNodeRLayers")
        node = tree.nodes.new("CompositorNodeOutputFile")
        node.name = NORMALS_NODE
        node.base_path = Utility.get_temporary_directory()
        node.format.file_format = "OPEN_EXR"
        node.format.color_mode = "RGB"
        node.format.color_depth = "32"
        node.file_slots.values()[0].path = "sv_normals_"
        # through Separate/Combine Color: the EXR gets R, G, B channels (x, y, z), which OpenCV reads
        separate = tree.nodes.new("CompositorNodeSeparateColor")
        separate.name = f"{NORMALS_NODE}_separate"
        combine = tree.nodes.new("CompositorNodeCombineColor")
        combine.name = f"{NORMALS_NODE}_combine"
        tree.links.new(layer_node.outputs["Normal"], separate.inputs["Image"])
        for channel in ("Red", "Green", "Blue"):
            tree.links.new(separate.outputs[channel], combine.inputs[channel])
        tree.links.new(combine.outputs["Image"], node.inputs["Image"])
        Utility.add_output_entry(
            {"key": NORMALS_KEY, "path": f"{node.base_path}/sv_normals_%04d.exr", "version": "2.0.0"}
        )
    elif not enabled and node is not None:
        for name in (NORMALS_NODE, f"{NORMALS_NODE}_separate", f"{NORMALS_NODE}_combine"):
            if tree.nodes.get(name) is not None:
                tree.nodes.remove(tree.nodes[name])
        if GlobalStorage.is_in_storage("output"):
            outputs = GlobalStorage.get("output")
            outputs[:] = [o for o in outputs if o.get("key") != NORMALS_KEY]


class Renderer:
    """Holds per-process render settings; builds (with :class:`SceneBuilder`) and renders one
    SceneSpec at a time. ``normals`` adds the camera-frame normals to every view (output.normals)."""

    def __init__(self, render_cfg: Any, temp_dir: str | None = None, normals: bool = False) -> None:
        self.cfg = render_cfg
        self.normals = bool(normals)
        with runtime.quiet():
            device, threads = render_setting(render_cfg, "device"), render_setting(render_cfg, "threads")
            self.info = runtime.start(device, threads, temp_dir)
        self.bproc = runtime.blenderproc()
        import bpy  # noqa: PLC0415

        self.bpy = bpy
        if not runtime.once("label_passes"):  # compositor outputs must be added once per process
            self.bproc.renderer.enable_depth_output(activate_antialiasing=False)
            self.bproc.renderer.enable_segmentation_output(
                map_by=[CATEGORY_KEY, INSTANCE_KEY], default_values={CATEGORY_KEY: 0, INSTANCE_KEY: 0}
            )
        self.settings = configure_cycles(bpy, self.bproc, render_cfg, gpu=self.info.device != "CPU")
        set_normals_output(bpy, self.normals)  # after configure_cycles, which switches the pass off
        self.builder = SceneBuilder(bpy, self.bproc)

    def build(self, spec: SceneSpec, settled: SettledPoses | None = None) -> BuiltScene:
        """Create the scene, drop the objects with rigid-body physics (unless ``settled`` gives
        the outcome), return their final poses.

        With ``spec.physics["keep_on_table"]`` (scene.keep_on_table), objects that ended off the table
        or out of the bin are deleted from the Blender scene and from ``spec.objects`` (so from the
        labels), and recorded in ``spec.physics["removed"]``; the poses returned are the kept objects'.
        """
        built = self.builder.build(spec, settled)
        if not spec.physics.get("keep_on_table"):
            return built
        placed = self.builder.placed
        gone, poses = remove_fallen(spec, built.poses_world)
        for i in gone:
            self.bpy.data.objects.remove(placed[i].blender_obj, do_unlink=True)
        if gone:
            kept = [i for i in range(len(placed)) if i not in gone]
            built = BuiltScene(poses, {new: settled_pose(placed[old]) for new, old in enumerate(kept)})
            self.builder.placed = [placed[i] for i in kept]
        return built

    # -- rendering ------------------------------------------------------------------------------
    def render(self, spec: SceneSpec) -> list[RenderedView]:
        """Render every camera of the scene in one Cycles call (RGB, depth, segmentation, normals)."""
        bproc = self.bproc
        bproc.utility.reset_keyframes()
        cam0 = spec.cameras[0]
        bproc.camera.set_intrinsics_from_K_matrix(np.asarray(cam0.K), cam0.width, cam0.height)
        for cam in spec.cameras:
            cam_to_world_gl = np.asarray(cam.cam_to_world) @ BLENDER_TO_OPENCV_CAM
            bproc.camera.add_camera_pose(cam_to_world_gl)
        render = self.bpy.context.scene.render
        if self.settings["persistent_data"]:
            # Cycles keeps its scene between the views of this render call, but starts fresh for
            # every scene: state carried over from the previous scene changes the noise pattern,
            # so the same scene would not render to the same pixels (switching it off frees it).
            render.use_persistent_data = False
            render.use_persistent_data = True
        with runtime.quiet():
            data = bproc.renderer.render(verbose=False)
        runtime.release_memory()
        views = []
        for i in range(len(spec.cameras)):
            depth = np.asarray(data["depth"][i], dtype=np.float32)
            depth = np.where(np.isfinite(depth) & (depth < 1e5), depth, 0.0).astype(np.float32)
            normals = None
            if self.normals:
                world_to_cam = np.linalg.inv(np.asarray(spec.cameras[i].cam_to_world))
                normals = camera_normals(np.asarray(data[NORMALS_KEY][i]), world_to_cam, depth > 0)
            views.append(
                RenderedView(
                    rgb=np.asarray(data["colors"][i], dtype=np.uint8)[..., :3],
                    depth=depth,
                    instance=np.asarray(data[f"{INSTANCE_KEY}_segmaps"][i], dtype=np.int32),
                    semantic=np.asarray(data[f"{CATEGORY_KEY}_segmaps"][i], dtype=np.int32),
                    normals=normals,
                )
            )
        return views
