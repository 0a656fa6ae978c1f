"""Infinigen's tableware into the on-disk cache, and from the cache into a scene.

:func:`prepare` (render process, before sampling) generates the variants a job needs that are not
yet cached, in helper Blender processes (``python -m simvision.render.infinigen_assets``; several at once
on a machine with the cores and memory, see :func:`helper_count`, each with a share of the work by expected
cost): Infinigen is imported there only, so the render process never runs its start-up code and its data
blocks (node groups, scratch objects) never enter the scenes that are rendered. A progress bar follows the
variants as the helpers report them (weighted by their expected cost, so its time left means something when
the trees come first); the helpers' output is captured into ``<cache>/<version>/generate.log``
and only shown, trimmed, if one fails; user logs stay clean.

Offline: importing Infinigen's asset modules calls ``infinigen.core.init.require_blender_addon`` for
Blender extensions (``antlandscape``, ``real_snow``, ``extra_mesh_objects``) that some of its other
assets need, and that function reaches for extensions.blender.org. :func:`offline_infinigen`
replaces it before the first import with one that never installs anything, and switches Blender's
online access off as well; matplotlib's "findfont" chatter (its label text) is silenced.

Each variant is spawned and finalised (``finalize_assets`` assigns the factory's materials: cups and
bowls have none before it), its parts are joined into one mesh (one instance, one class), modifiers
and transforms are applied, the mesh is moved so its base is at z = 0 centred on x and y, material
displacement is set to bump only (so the rendered silhouette is the cached triangles'), images are
packed, and the object is written alone with its materials to ``<seed>.blend``; then its triangles
go to ``<seed>.npz`` (written last: both files present = cached). :func:`append_variant` is what the
scene builder uses to bring one into a scene.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from simvision.config.checks import ConfigError
from simvision.render.memory import available_memory
from simvision.render.runtime import usable_cores
from simvision.scene.infinigen_library import MaterialVariant, Variant, missing

log = logging.getLogger("simvision")

# lines of the helper's captured output shown when it fails
_TAIL_LINES = 30


class InfinigenAssetError(RuntimeError):
    """Infinigen is not installed, or generating a variant failed (the message says which)."""


# seconds one helper spends generating a variant, to share the work between helper processes (measured on 2
# cores: trees 97-208 s, bushes 32-204 s; every other object and material under 2 s, a baked material a few s)
GENERATE_COST_S = {"TreeFactory": 150.0, "BushFactory": 90.0}
# peak resident memory of one helper (a tree's helper peaks near 4 GB)
HELPER_BYTES = 4 << 30
HELPERS_ENV = "SIMVISION_INFINIGEN_HELPERS"  # helper processes for a first-run generation (default: automatic)
_DONE = "simvision: generated "  # the helper's line after each variant


def generate_cost(v: Variant | MaterialVariant) -> float:
    """Expected seconds to generate ``v`` (:data:`GENERATE_COST_S`; 2 s for the rest, 4 s for a baked material)."""
    if isinstance(v, MaterialVariant):
        return 4.0 if v.shading == "baked" else 1.0
    return GENERATE_COST_S.get(v.factory, 2.0)


def helper_count(todo: int, setting: str | None = None) -> int:
    """Helper processes for ``todo`` variants: ``SIMVISION_INFINIGEN_HELPERS`` when set (a whole number >= 1),
    else one per two cores this process may use (a helper keeps about 1.2 busy) and per 4 GiB of available
    memory; never more than the variants."""
    setting = os.environ.get(HELPERS_ENV, "") if setting is None else setting
    if setting.strip():
        try:
            wanted = int(setting)
        except ValueError:
            wanted = 0
        if wanted < 1:
            raise ConfigError(f"{HELPERS_ENV}: expected a whole number >= 1, got {setting!r}")
        return max(1, min(wanted, todo))
    cores = usable_cores()
    available = available_memory()
    by_memory = cores if available is None else available // HELPER_BYTES
    return max(1, min(todo, cores // 2, by_memory))


def split_work(todo: list[Variant | MaterialVariant], helpers: int) -> list[list[Variant | MaterialVariant]]:
    """``todo`` in at most ``helpers`` batches of about equal expected time: the costliest variant first, each to
    the batch with the least work so far (a tree and a bush on different helpers). Deterministic."""
    batches: list[list[Variant | MaterialVariant]] = [[] for _ in range(max(1, helpers))]
    loads = [0.0] * len(batches)
    for v in sorted(todo, key=generate_cost, reverse=True):  # stable: equal costs keep the request's order
        i = loads.index(min(loads))
        batches[i].append(v)
        loads[i] += generate_cost(v)
    return [b for b in batches if b]


def _read_lines(index: int, stream: Any, lines: list[str], events: queue.Queue) -> None:
    for line in stream:
        lines.append(line)
        if line.startswith(_DONE):
            events.put((index, line[len(_DONE) :].split(" in ")[0]))
    events.put((index, None))  # the helper closed its output


def _run_helpers(
    batches: list[list[Variant | MaterialVariant]], timeout_s: float, bar: Any
) -> tuple[list[int], list[str]]:
    """One helper process per batch, all at once; their output is read line by line as they work (each
    generated variant advances ``bar`` by its expected cost). Returns their exit codes and outputs; all are
    killed past the timeout."""
    cost = {_name(v): generate_cost(v) for batch in batches for v in batch}
    total, done = len(cost), 0
    procs, outputs, threads = [], [[] for _ in batches], []
    events: queue.Queue = queue.Queue()
    deadline = time.monotonic() + timeout_s
    too_long = f"generating {total} Infinigen assets took over {timeout_s:g} s"
    try:
        for i, batch in enumerate(batches):
            request = json.dumps([{"type": type(v).__name__, **v.__dict__} for v in batch])
            proc = subprocess.Popen(
                [sys.executable, "-m", "simvision.render.infinigen_assets", request],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                errors="replace",
            )
            procs.append(proc)
            thread = threading.Thread(target=_read_lines, args=(i, proc.stdout, outputs[i], events), daemon=True)
            thread.start()
            threads.append(thread)
        open_streams = len(procs)
        while open_streams:
            try:
                _, name = events.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise InfinigenAssetError(too_long) from None
            if name is None:
                open_streams -= 1
            else:
                done += 1
                bar.set_postfix_str(f"{done}/{total} assets, last {name}", refresh=False)
                bar.update(cost.get(name, 0.0))
        codes = [proc.wait(timeout=max(1.0, deadline - time.monotonic())) for proc in procs]
    except subprocess.TimeoutExpired:
        raise InfinigenAssetError(too_long) from None
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for thread in threads:
            thread.join(timeout=5)
    return codes, ["".join(lines) for lines in outputs]


def prepare(
    wanted: list[Variant | MaterialVariant], timeout_s: float = 1800.0, helpers: int | None = None
) -> list[Variant | MaterialVariant]:
    """Generate the variants (objects and materials) of ``wanted`` not cached yet; return those generated.

    A one-off per cache: the work is shared between ``helpers`` helper processes (default :func:`helper_count`)
    with a progress bar; each variant is cached as soon as it is done, so an interrupted run keeps what it made.
    """
    todo = missing(wanted)
    count = helper_count(max(1, len(todo))) if helpers is None else helpers  # a bad setting fails every time
    if not todo:
        return []
    started = time.perf_counter()
    batches = split_work(todo, count)
    version_dir = todo[0].version_dir
    log.info(
        "Infinigen: generating %d assets not in the cache yet (%s) in %d helper process(es); a one-off: later "
        "jobs read them from %s",
        len(todo),
        ", ".join(sorted({_kind(v) for v in todo})),
        len(batches),
        version_dir,
    )
    bar_format = "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]"
    expected = sum(generate_cost(v) for v in todo)
    with tqdm(total=expected, desc="Infinigen assets (first run)", bar_format=bar_format, dynamic_ncols=True) as bar:
        codes, outputs = _run_helpers(batches, timeout_s, bar)
    log_file = version_dir / "generate.log"  # <cache>/<version>/generate.log, for inspection
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "a", encoding="utf-8") as fh:
        for batch, code, output in zip(batches, codes, outputs, strict=True):
            fh.write(f"== {time.strftime('%Y-%m-%d %H:%M:%S')} {len(batch)} variants, exit code {code}\n{output}\n")
    still = missing(todo)
    failed = [(code, output) for code, output in zip(codes, outputs, strict=True) if code != 0]
    if failed or still:
        code, output = failed[0] if failed else (0, outputs[0])
        tail = "\n".join(output.strip().splitlines()[-_TAIL_LINES:])
        raise InfinigenAssetError(
            f"generating Infinigen assets failed (exit code {code}; missing: "
            f"{', '.join(_name(v) for v in still) or 'none'}):\n{tail}"
        )
    log.info("generated %d Infinigen assets into the cache in %.1f s", len(todo), time.perf_counter() - started)
    return todo


def _kind(v: Variant | MaterialVariant) -> str:
    return f"{v.module}.{v.cls} material" if isinstance(v, MaterialVariant) else v.factory


def _name(v: Variant | MaterialVariant) -> str:
    return v.material_name if isinstance(v, MaterialVariant) else v.object_name


# -- the scene builder's side (render process) --------------------------------------------------
def append_variant(bpy: Any, blend: str, object_name: str, name: str, shared: bool = False) -> Any:
    """Bring the cached object with its materials into the current file as a new object ``name``.

    The file is read once per scene; every further copy in the scene shares its materials, images
    and node groups and gets its own copy of the mesh (the rigid-body drop applies scale to a mesh,
    which Blender refuses on a mesh with several users). Each copy has its own pose and ids.
    ``shared`` (static scenery such as street trees): every copy uses the one mesh datablock
    (linked duplicates), so many trees cost one tree's memory.
    """
    key = f"sv_infinigen:{blend}"
    mesh = next((m for m in bpy.data.meshes if m.get("sv_source") == key), None)
    crown = next((o for o in bpy.data.objects if o.get("sv_crown_source") == key), None)
    if mesh is not None and not shared:
        mesh = mesh.copy()
    elif mesh is None:
        crown_name = f"{object_name}_crown"  # Variant.crown_name: foliage kept as instances
        with bpy.data.libraries.load(blend, link=False) as (src, dst):
            if object_name not in src.objects:
                raise InfinigenAssetError(f"{blend}: no object {object_name!r} in the cached file")
            dst.objects = [object_name, *([crown_name] if crown_name in src.objects else [])]
        loaded = dst.objects[0]
        mesh = loaded.data
        mesh["sv_source"] = key
        bpy.data.objects.remove(loaded)  # the mesh and its materials stay (the mesh is kept below)
        if len(dst.objects) > 1:
            crown = dst.objects[1]  # the template every copy's crown copies (not in the scene)
            crown["sv_crown_source"] = key
            for part in _crown_parts(crown):
                part.pass_index = 0  # unlabelled: the instanced leaves read as background in the label passes
    obj = bpy.data.objects.new(name, mesh)
    bpy.context.scene.collection.objects.link(obj)
    if crown is not None:
        leaves = crown.copy()  # shares the points and the node group: the foliage is instanced, not copied
        del leaves["sv_crown_source"]
        leaves.name = f"{name}_crown"
        bpy.context.scene.collection.objects.link(leaves)
        leaves.parent = obj  # follows the object's pose and scale
        leaves.matrix_parent_inverse.identity()
        leaves.location, leaves.rotation_euler, leaves.scale = (0, 0, 0), (0, 0, 0), (1, 1, 1)
    return obj


def _crown_parts(crown: Any) -> list[Any]:
    """The objects a crown's geometry nodes instance (the collection its Collection Info node reads)."""
    out = []
    for modifier in crown.modifiers:
        group = getattr(modifier, "node_group", None)
        for node in group.nodes if group is not None else []:
            if node.bl_idname == "GeometryNodeCollectionInfo" and node.inputs["Collection"].default_value:
                out.extend(node.inputs["Collection"].default_value.all_objects)
    return out


def append_material(bpy: Any, blend: str, material_name: str) -> Any:
    """The cached Infinigen material (with its node groups), read once per scene and shared by its surfaces."""
    key = f"sv_infinigen:{blend}"
    mat = next((m for m in bpy.data.materials if m.get("sv_source") == key), None)
    if mat is not None:
        return mat
    with bpy.data.libraries.load(blend, link=False) as (src, dst):
        if material_name not in src.materials:
            raise InfinigenAssetError(f"{blend}: no material {material_name!r} in the cached file")
        dst.materials = [material_name]
    mat = dst.materials[0]
    mat["sv_source"] = key
    return mat


def cached_surface(bpy: Any, record: dict[str, Any]) -> Any:
    """The Blender material of a surface dressed in a cached Infinigen material (``record``: a
    :meth:`MaterialVariant.record`): the baked one (image textures, its normal map's strength set) with
    ``shading`` "baked", else the full node tree, seen only by camera rays with ``indirect`` "mean"."""
    if record.get("shading", "full") == "baked":  # scene.infinigen.room_shading: image textures only
        mat = append_material(bpy, str(record["baked_path"]), str(record["baked_material"]))
        for node in mat.node_tree.nodes:  # scene.infinigen.bake_normal_strength
            if node.bl_idname == "ShaderNodeNormalMap":
                node.inputs["Strength"].default_value = float(record.get("normal_strength", 1.0))
        return mat
    mat = append_material(bpy, str(record["path"]), str(record["material"]))
    if record.get("indirect", "full") == "mean":  # scene.infinigen.indirect_shading
        camera_only(bpy, mat)
    return mat


# the nodes camera_only adds to a material, by name (so it is applied once per material and scene)
_PROXY_MIX = "sv_camera_only_mix"
_CAMERA_BUMP = "sv_camera_only_bump"
# the input camera_only adds to this material's copy of a node group whose BSDFs take the camera rays' bump
_BUMP_SOCKET = "sv_camera_bump_normal"


def camera_only(bpy: Any, mat: Any) -> None:
    """Let only camera rays see ``mat``'s full node tree; every other ray (indirect bounces, glossy
    reflections in the objects) sees a Principled BSDF with the material's mean colour and roughness
    (custom properties ``sv_mean_color`` and ``sv_mean_roughness``: baked into the cached file by the helper,
    or set from a street material's recorded values, ``street_materials.flat_mean``). A Light Path "Is Camera
    Ray" drives a Mix Shader: Cycles' shader compiler skips the branch whose weight is 0, so the costly
    textures are not evaluated at indirect hits. The displacement (Cycles bump-maps it, at every hit of every
    ray, before any surface shader) moves onto the camera branch too: :func:`_displacement_as_camera_bump`.
    Applied once per material."""
    tree = mat.node_tree
    if tree is None or _PROXY_MIX in tree.nodes or "sv_mean_color" not in mat:
        return
    out = tree.get_output_node("CYCLES")  # the output Cycles renders
    if out is None or not out.inputs["Surface"].links:
        return
    _displacement_as_camera_bump(bpy, tree, out, out.inputs["Surface"].links[0].from_node)
    full = out.inputs["Surface"].links[0].from_socket  # after the move: a node group's twin may now give it
    proxy = tree.nodes.new("ShaderNodeBsdfPrincipled")
    proxy.name = "sv_mean_proxy"
    proxy.inputs["Base Color"].default_value = (*[float(c) for c in mat["sv_mean_color"]], 1.0)
    proxy.inputs["Roughness"].default_value = float(mat["sv_mean_roughness"])
    proxy.inputs["Metallic"].default_value = float(mat.get("sv_mean_metallic", 0.0))
    path = tree.nodes.new("ShaderNodeLightPath")
    mix = tree.nodes.new("ShaderNodeMixShader")
    mix.name = _PROXY_MIX
    tree.links.new(path.outputs["Is Camera Ray"], mix.inputs["Fac"])
    tree.links.new(proxy.outputs["BSDF"], mix.inputs[1])  # Fac 0: every ray but camera rays
    tree.links.new(full, mix.inputs[2])  # Fac 1: camera rays
    tree.links.new(mix.outputs["Shader"], out.inputs["Surface"])


def _displacement_as_camera_bump(bpy: Any, tree: Any, out: Any, surface: Any) -> bool:
    """Replace the output's displacement (``displacement_method`` BUMP: Cycles evaluates its height three
    times at every hit of every ray, whatever the surface branch) by a Bump node on the BSDFs that make up
    ``surface`` (through mix and add shaders and into node groups): the same bump for the rays that reach
    that branch, the camera rays, and none for the rest. Cycles bump-maps a displacement by its component
    along the normal, so the Bump node's height is that dot product, at distance 1. BSDFs whose Normal
    input is already linked (a normal map) keep their own normal. Returns whether the displacement moved
    (not when there is none, or no BSDF with a free Normal input)."""
    links = out.inputs["Displacement"].links
    if not links:
        return False
    normals = _free_bsdf_normals(bpy, surface, set())
    if not normals:
        return False
    nodes = tree.nodes
    geometry = nodes.new("ShaderNodeNewGeometry")
    along = nodes.new("ShaderNodeVectorMath")
    along.operation = "DOT_PRODUCT"
    tree.links.new(links[0].from_socket, along.inputs[0])
    tree.links.new(geometry.outputs["Normal"], along.inputs[1])
    bump = nodes.new("ShaderNodeBump")
    bump.name = _CAMERA_BUMP
    bump.inputs["Strength"].default_value = 1.0
    bump.inputs["Distance"].default_value = 1.0
    tree.links.new(along.outputs["Value"], bump.inputs["Height"])
    for socket in normals:
        tree.links.new(bump.outputs["Normal"], socket)
    tree.links.remove(links[0])
    return True


def _free_bsdf_normals(bpy: Any, node: Any, seen: set[str]) -> list[Any]:
    """The unlinked Normal inputs of the BSDFs whose closures ``node`` passes on (in ``node``'s tree); for a
    node group, :func:`_group_twin_normal`."""
    if node.name in seen:
        return []
    seen.add(node.name)
    if node.bl_idname == "ShaderNodeGroup":
        return _group_twin_normal(bpy, node)
    found = []
    normal = node.inputs.get("Normal")
    if normal is not None and not normal.is_linked and any(o.type == "SHADER" for o in node.outputs):
        found.append(normal)
    for socket in node.inputs:
        if socket.type == "SHADER":
            for link in socket.links:
                found += _free_bsdf_normals(bpy, link.from_node, seen)
    return found


def _group_twin_normal(bpy: Any, node: Any) -> list[Any]:
    """A node group on the surface's closure path, with BSDFs inside: its closures now come from a twin node
    (same inputs) of this material's own copy of the group, whose BSDFs take their normal from a new input
    (``_BUMP_SOCKET``); returned is that input, or nothing when the group has no such BSDF. A twin, not the
    node itself: the same node often outputs the displacement's height too (Infinigen's concrete), and the
    bump fed back into it would close a loop, which Blender breaks (the bump would be lost)."""
    tree, original = node.id_data, node.node_tree
    if original is None:
        return []
    group = original.copy()  # this material's own: the group's other users keep theirs
    inner = _group_bsdf_normals(bpy, group)
    if not inner:
        bpy.data.node_groups.remove(group)
        return []
    group.interface.new_socket(_BUMP_SOCKET, in_out="INPUT", socket_type="NodeSocketVector")
    entry = next((n for n in group.nodes if n.bl_idname == "NodeGroupInput"), None) or group.nodes.new("NodeGroupInput")
    for socket in inner:
        group.links.new(entry.outputs[_BUMP_SOCKET], socket)
    twin = tree.nodes.new("ShaderNodeGroup")
    twin.node_tree = group
    for i, socket in enumerate(node.inputs):  # the twin's sockets: the node's, then _BUMP_SOCKET
        if socket.is_linked:
            tree.links.new(socket.links[0].from_socket, twin.inputs[i])
        elif hasattr(socket, "default_value"):
            twin.inputs[i].default_value = socket.default_value
    for i, socket in enumerate(node.outputs):
        if socket.type == "SHADER":
            for link in list(socket.links):
                tree.links.new(twin.outputs[i], link.to_socket)
    return [twin.inputs[_BUMP_SOCKET]]


def _group_bsdf_normals(bpy: Any, group: Any) -> list[Any]:
    """:func:`_free_bsdf_normals` of every closure a node group outputs."""
    seen: set[str] = set()
    return [
        socket
        for n in group.nodes
        if n.bl_idname == "NodeGroupOutput" and n.is_active_output
        for s in n.inputs
        if s.type == "SHADER"
        for link in s.links
        for socket in _free_bsdf_normals(bpy, link.from_node, seen)
    ]


def box_uvs(bpy: Any, mesh: Any, scale: float = 1.0) -> None:
    """A "UVMap" layer by box projection in metres: each face projected along its dominant normal axis,
    so textures read in UV space keep their scale on every side of a cuboid (no stretching)."""
    layer = mesh.uv_layers.get("UVMap") or mesh.uv_layers.new(name="UVMap")
    co = np.empty(3 * len(mesh.vertices), dtype=np.float64)
    mesh.vertices.foreach_get("co", co)
    co = co.reshape(-1, 3)
    loop_vertex = np.empty(len(mesh.loops), dtype=np.int64)
    mesh.loops.foreach_get("vertex_index", loop_vertex)
    n_poly = len(mesh.polygons)
    normals = np.empty(3 * n_poly, dtype=np.float32)
    mesh.polygons.foreach_get("normal", normals)
    totals = np.empty(n_poly, dtype=np.int64)
    mesh.polygons.foreach_get("loop_total", totals)
    starts = np.empty(n_poly, dtype=np.int64)
    mesh.polygons.foreach_get("loop_start", starts)
    # every loop gets its polygon's dominant normal axis; the other two coordinates are its UV
    axis = np.argmax(np.abs(normals.reshape(-1, 3)), axis=1)
    loop_axis = np.repeat(axis, totals)  # Blender stores each polygon's loops contiguously, in polygon order
    if not np.array_equal(starts, np.cumsum(totals) - totals):
        loop_axis = np.zeros(len(mesh.loops), dtype=np.int64)
        loop_axis[np.concatenate([np.arange(s, s + t) for s, t in zip(starts, totals, strict=True)])] = np.repeat(
            axis, totals
        )
    keep = np.array([[1, 2], [0, 2], [0, 1]])[loop_axis]
    uv = np.take_along_axis(co[loop_vertex], keep, axis=1) * scale
    layer.data.foreach_set("uv", uv.astype(np.float32).ravel())


# -- the helper process ---------------------------------------------------------------------------
def offline_infinigen() -> None:
    """Make importing Infinigen's asset modules offline and quiet (call before importing them)."""
    import bpy  # noqa: PLC0415

    try:
        bpy.context.preferences.system.use_online_access = False
    except (AttributeError, RuntimeError, TypeError):  # read-only when Blender was started offline
        pass
    import infinigen.core.init as ig_init  # noqa: PLC0415

    def require_blender_addon(addon: str, fail: str = "fatal", allow_online: bool = False) -> bool:
        """Never installs: an add-on is either enabled already or reported missing."""
        present = f"bl_ext.blender_org.{addon}" in bpy.context.preferences.addons.keys()
        if not present and fail == "fatal":
            raise ValueError(f"Blender add-on {addon!r} is not installed (simvision runs Infinigen offline)")
        return present

    ig_init.require_blender_addon = require_blender_addon
    for name in ("matplotlib", "matplotlib.font_manager"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _join_parts(bpy: Any, obj: Any) -> Any:
    """One mesh object from an asset and its children, with modifiers and transforms applied."""
    parts = [obj, *[c for c in obj.children_recursive if c.type == "MESH"]]
    depsgraph = bpy.context.evaluated_depsgraph_get()
    for part in parts:
        for child in list(part.children):  # keep world poses when unparenting
            matrix = child.matrix_world.copy()
            child.parent = None
            child.matrix_world = matrix
    meshes = []
    for part in parts:
        evaluated = part.evaluated_get(depsgraph)
        mesh = bpy.data.meshes.new_from_object(evaluated, preserve_all_data_layers=True, depsgraph=depsgraph)
        mesh.transform(part.matrix_world)
        meshes.append(mesh)
    joined = bpy.data.objects.new(obj.name, meshes[0])
    bpy.context.scene.collection.objects.link(joined)
    for part in parts:
        bpy.data.objects.remove(part)
    if len(meshes) > 1:
        others = []
        for mesh in meshes[1:]:
            o = bpy.data.objects.new("part", mesh)
            bpy.context.scene.collection.objects.link(o)
            others.append(o)
        with bpy.context.temp_override(
            active_object=joined, selected_editable_objects=[joined, *others], object=joined
        ):
            bpy.ops.object.join()
    return joined


def _decimate_ratio(bpy: Any, obj: Any, ratio: float) -> None:
    """Collapse the object's mesh to ``ratio`` of its triangles; every user of the mesh gets the result.

    The modifier runs on a temporary visible object: a prototype in a hidden asset collection (a tree's
    twigs) is not evaluated by the depsgraph.
    """
    old = obj.data
    temp = bpy.data.objects.new("sv_decimate", old)
    bpy.context.scene.collection.objects.link(temp)
    mod = temp.modifiers.new("sv_decimate", "DECIMATE")
    mod.decimate_type = "COLLAPSE"
    mod.ratio = ratio
    mod.use_collapse_triangulate = True
    depsgraph = bpy.context.evaluated_depsgraph_get()
    mesh = bpy.data.meshes.new_from_object(
        temp.evaluated_get(depsgraph), preserve_all_data_layers=True, depsgraph=depsgraph
    )
    bpy.data.objects.remove(temp)
    old.user_remap(mesh)  # the object and any instancer of it now use the decimated mesh
    if old.users == 0:
        bpy.data.meshes.remove(old)


def _rebase(obj: Any, base_only: bool = False) -> np.ndarray:
    """Move the mesh so its base is at z = 0, centred on x and y, at the object's origin; return the shift
    subtracted. ``base_only``: centred on its lowest 5 % (a tree on its trunk, not on its crown)."""
    co = np.empty(3 * len(obj.data.vertices), dtype=np.float32)
    obj.data.vertices.foreach_get("co", co)
    co = co.reshape(-1, 3).astype(np.float64)
    lo, hi = co.min(axis=0), co.max(axis=0)
    if base_only:
        low = co[co[:, 2] <= lo[2] + 0.05 * (hi[2] - lo[2])]
        lo[:2], hi[:2] = low[:, :2].min(axis=0), low[:, :2].max(axis=0)
    offset = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]])
    co -= offset
    obj.data.vertices.foreach_set("co", co.astype(np.float32).ravel())
    obj.data.update()
    obj.location = (0.0, 0.0, 0.0)
    obj.rotation_euler = (0.0, 0.0, 0.0)
    obj.scale = (1.0, 1.0, 1.0)
    return offset


def _triangle_count(obj: Any) -> int:
    obj.data.calc_loop_triangles()
    return len(obj.data.loop_triangles)


def _decimate(bpy: Any, obj: Any, budget: int) -> None:
    """Collapse the mesh to at most ``budget`` triangles (Blender's Decimate modifier, applied), so
    the convex hull, the physics and the silhouette rasterising stay cheap; 0 = leave it as spawned."""
    if budget <= 0:
        return
    count = _triangle_count(obj)
    ratio = budget / max(count, 1)
    for _ in range(3):  # collapse lands near, not always under, the asked ratio
        if count <= budget:
            return
        mod = obj.modifiers.new("sv_decimate", "DECIMATE")
        mod.decimate_type = "COLLAPSE"
        mod.ratio = ratio
        mod.use_collapse_triangulate = True
        with bpy.context.temp_override(object=obj, active_object=obj):
            bpy.ops.object.modifier_apply(modifier=mod.name)
        count = _triangle_count(obj)
        ratio = 0.9 * budget / max(count, 1)  # of what is left


def _triangles(obj: Any) -> tuple[np.ndarray, np.ndarray]:
    mesh = obj.data
    mesh.calc_loop_triangles()
    co = np.empty(3 * len(mesh.vertices), dtype=np.float32)
    mesh.vertices.foreach_get("co", co)
    tris = np.empty(3 * len(mesh.loop_triangles), dtype=np.int32)
    mesh.loop_triangles.foreach_get("vertices", tris)
    return co.reshape(-1, 3).astype(np.float64), tris.reshape(-1, 3).astype(np.int64)


@dataclass
class _Foliage:
    """A factory's geometry-node instances, kept as instances: the meshes instanced and every instance's pose."""

    prototypes: list[Any]  # the instanced mesh objects (Infinigen's), by index
    index: np.ndarray  # (N,) which prototype each instance shows
    matrices: np.ndarray  # (N, 4, 4) each instance's world matrix (the prototype's mesh coordinates to world)


def _collect_instances(bpy: Any, root: Any) -> _Foliage:
    """The instances the asset's geometry nodes make (its own objects' instancers), before its parts are joined."""
    owners = {root.name, *(c.name for c in root.children_recursive)}
    depsgraph = bpy.context.evaluated_depsgraph_get()
    order: dict[str, int] = {}
    prototypes, index, matrices = [], [], []
    for inst in depsgraph.object_instances:
        if not inst.is_instance or inst.parent is None or inst.parent.original.name not in owners:
            continue
        proto = inst.instance_object.original
        if proto.type != "MESH" or proto.name in owners:
            continue
        if proto.name not in order:
            order[proto.name] = len(prototypes)
            prototypes.append(proto)
        index.append(order[proto.name])
        matrices.append(np.array(inst.matrix_world, dtype=np.float64))  # copied: the iterator reuses it
    # instanced meshes without a material or a triangle are placeholders (a tree's branches are 2 m squares
    # whose twigs are instanced in turn, and listed here as the tree's own instances): left out
    keep = [i for i, p in enumerate(prototypes) if any(p.data.materials) and _triangle_count(p) > 0]
    remap = np.full(len(prototypes), -1, dtype=np.int64)
    remap[keep] = np.arange(len(keep))
    idx = remap[np.asarray(index, dtype=np.int64)] if index else np.zeros(0, dtype=np.int64)
    mats = np.asarray(matrices, dtype=np.float64).reshape(-1, 4, 4)
    return _Foliage([prototypes[i] for i in keep], idx[idx >= 0], mats[idx >= 0])


def _crown(bpy: Any, variant: Variant, foliage: _Foliage, transform: np.ndarray) -> tuple[Any, np.ndarray, list[Any]]:
    """The point object that instances the foliage: one point per instance (its prototype, rotation and
    scale as point attributes) and a geometry-nodes modifier that puts the decimated prototypes (a
    collection not in the scene) on them. ``transform`` maps the asset's world to the cached object's
    frame. Returns the object, the bounds (2, 3) of every instance in that frame, and the decimated parts."""
    from mathutils import Matrix  # noqa: PLC0415

    name = variant.crown_name
    collection = bpy.data.collections.new(f"{name}_parts")
    lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
    for i, proto in enumerate(foliage.prototypes):
        # zero-padded names: Collection Info hands out separated children sorted by name, so in index order
        part = bpy.data.objects.new(f"{name}_part{i:03d}", proto.data.copy())
        bpy.context.scene.collection.objects.link(part)  # the decimation runs on an object in the scene
        _decimate(bpy, part, variant.foliage_triangles)
        bpy.context.scene.collection.objects.unlink(part)
        collection.objects.link(part)
        vertices, _ = _triangles(part)
        a, b = vertices.min(axis=0), vertices.max(axis=0)  # its box's corners, posed by every instance
        corners = np.array([[x, y, z, 1.0] for x in (a[0], b[0]) for y in (a[1], b[1]) for z in (a[2], b[2])])
        placed = np.einsum("nij,kj->nki", transform @ foliage.matrices[foliage.index == i], corners)[..., :3]
        if placed.size:
            placed = placed.reshape(-1, 3)
            lo, hi = np.minimum(lo, placed.min(axis=0)), np.maximum(hi, placed.max(axis=0))
    n = len(foliage.index)
    location = np.empty((n, 3))
    rotation = np.empty((n, 3))
    scale = np.empty((n, 3))
    for k, m in enumerate(transform @ foliage.matrices):
        loc, rot, size = Matrix(m.tolist()).decompose()
        location[k], rotation[k], scale[k] = loc, rot.to_euler("XYZ"), size
    mesh = bpy.data.meshes.new(name)
    mesh.vertices.add(n)
    mesh.vertices.foreach_set("co", location.astype(np.float32).ravel())
    mesh.attributes.new("sv_part", "INT", "POINT").data.foreach_set("value", foliage.index.astype(np.int32))
    for attr, values in (("sv_rotation", rotation), ("sv_scale", scale)):
        mesh.attributes.new(attr, "FLOAT_VECTOR", "POINT").data.foreach_set("vector", values.astype(np.float32).ravel())
    mesh.update()
    crown = bpy.data.objects.new(name, mesh)
    bpy.context.scene.collection.objects.link(crown)
    modifier = crown.modifiers.new("sv_crown", "NODES")
    modifier.node_group = _crown_nodes(bpy, name, collection)
    return crown, np.stack([lo, hi]), list(collection.objects)


def _crown_nodes(bpy: Any, name: str, collection: Any) -> Any:
    """Geometry nodes: the collection's objects (separate, by name) instanced on the points, each picked by
    the point's ``sv_part`` and posed by its ``sv_rotation`` (XYZ Euler) and ``sv_scale``."""
    tree = bpy.data.node_groups.new(name, "GeometryNodeTree")
    tree.interface.new_socket("Geometry", in_out="INPUT", socket_type="NodeSocketGeometry")
    tree.interface.new_socket("Geometry", in_out="OUTPUT", socket_type="NodeSocketGeometry")
    nodes, links = tree.nodes, tree.links
    group_in, group_out = nodes.new("NodeGroupInput"), nodes.new("NodeGroupOutput")
    parts = nodes.new("GeometryNodeCollectionInfo")
    parts.transform_space = "ORIGINAL"
    parts.inputs["Collection"].default_value = collection
    parts.inputs["Separate Children"].default_value = True
    parts.inputs["Reset Children"].default_value = True
    on_points = nodes.new("GeometryNodeInstanceOnPoints")
    on_points.inputs["Pick Instance"].default_value = True
    attributes = {}
    for attr, kind in (("sv_part", "INT"), ("sv_rotation", "FLOAT_VECTOR"), ("sv_scale", "FLOAT_VECTOR")):
        node = nodes.new("GeometryNodeInputNamedAttribute")
        node.data_type = kind
        node.inputs["Name"].default_value = attr
        attributes[attr] = node.outputs["Attribute"]
    to_rotation = nodes.new("FunctionNodeEulerToRotation")
    links.new(attributes["sv_rotation"], to_rotation.inputs["Euler"])
    links.new(group_in.outputs["Geometry"], on_points.inputs["Points"])
    links.new(parts.outputs["Instances"], on_points.inputs["Instance"])
    links.new(attributes["sv_part"], on_points.inputs["Instance Index"])
    links.new(to_rotation.outputs["Rotation"], on_points.inputs["Rotation"])
    links.new(attributes["sv_scale"], on_points.inputs["Scale"])
    links.new(on_points.outputs["Instances"], group_out.inputs["Geometry"])
    return tree


def generate(variant: Variant) -> None:
    """Spawn one variant with its materials and write its ``.blend`` and ``.npz`` (helper process)."""
    import importlib  # noqa: PLC0415

    import bpy  # noqa: PLC0415
    from infinigen.core.util.math import FixedSeed, int_hash  # noqa: PLC0415

    factory_cls = getattr(importlib.import_module(f"infinigen.assets.objects.{variant.module}"), variant.factory)
    with FixedSeed(int_hash((variant.factory, variant.seed))):
        kwargs = json.loads(variant.params) if variant.params else {}
        factory = factory_cls(variant.seed, **kwargs)  # positional: some factories name it ``seed`` (trees, grass)
        if variant.surface:  # scene.infinigen.surfaces: the surface (and a bowl's inside) made of this material
            module, cls = variant.surface.rsplit(".", 1)
            material_cls = getattr(importlib.import_module(f"infinigen.assets.materials.{module}"), cls)
            with FixedSeed(int_hash((variant.factory, variant.seed, variant.surface))):  # the shape's draws stay
                factory.surface = material_cls()()
            if hasattr(factory, "inside_surface"):
                factory.inside_surface = factory.surface
        if variant.instance_ratio > 0:  # the prototypes the factory instances (twigs with their leaves)
            for proto in [o for o in bpy.data.objects if o.type == "MESH" and not o.modifiers]:
                _decimate_ratio(bpy, proto, variant.instance_ratio)
        obj = factory.spawn_asset(0, **({"face_size": variant.face_size} if variant.face_size > 0 else {}))
        factory.finalize_assets([obj])  # the factory's material pass (cups and bowls have none before it)
    cache_asset(bpy, variant, obj)


def cache_asset(bpy: Any, variant: Variant, obj: Any) -> None:
    """Write a spawned asset (``obj`` and its children) as the variant's ``.blend`` and ``.npz``: parts
    joined, decimated, rebased, scaled; with ``foliage_triangles`` its geometry-node instances kept as a crown."""
    foliage = _collect_instances(bpy, obj) if variant.foliage_triangles > 0 else None
    if foliage is not None and not len(foliage.index):
        foliage = None  # nothing instanced (or only placeholders): no crown
    obj = _join_parts(bpy, obj)
    obj.name = variant.object_name
    _decimate(bpy, obj, int(getattr(variant, "max_triangles", 0) or 0))
    transform = np.eye(4)  # the asset's world -> the cached object's frame (what the mesh went through)
    transform[:3, 3] -= _rebase(obj, base_only=foliage is not None)
    if variant.size_m > 0:  # a factory not in metres (TARGET_SIZE): scale its largest extent to size_m
        dims = np.array(obj.dimensions, dtype=np.float64)
        factor = np.diag([*(3 * [float(variant.size_m) / dims.max()]), 1.0])
        obj.data.transform(factor.tolist())
        obj.data.update()
        transform = factor @ transform
        transform[:3, 3] -= _rebase(obj, base_only=foliage is not None)
    crown, bounds, parts = (None, None, []) if foliage is None else _crown(bpy, variant, foliage, transform)
    materials = [m for m in obj.data.materials if m is not None]
    if not materials:
        raise InfinigenAssetError(f"{variant.object_name}: Infinigen gave the asset no material")
    for mat in [*materials, *(m for part in parts for m in part.data.materials if m is not None)]:
        if hasattr(mat, "displacement_method"):
            mat.displacement_method = "BUMP"  # true displacement would move the silhouette off the cached mesh
        if mat.node_tree is not None:
            for node in mat.node_tree.nodes:
                image = getattr(node, "image", None)
                if image is not None and image.packed_file is None and image.source in ("FILE", "GENERATED"):
                    image.pack()
    vertices, faces = _triangles(obj)
    blend, npz = Path(variant.blend), Path(variant.npz)
    blend.parent.mkdir(parents=True, exist_ok=True)
    tmp_blend = blend.with_name(f".{blend.name}.{os.getpid()}.tmp.blend")
    bpy.data.libraries.write(str(tmp_blend), {obj} if crown is None else {obj, crown}, fake_user=True, compress=True)
    os.replace(tmp_blend, blend)
    tmp_npz = npz.with_name(f".{npz.stem}.{os.getpid()}.tmp.npz")
    extra = {} if bounds is None else {"bounds": bounds, "instances": np.int64(len(foliage.index))}
    names = np.array([m.name for m in materials])
    np.savez_compressed(tmp_npz, vertices=vertices, faces=faces, materials=names, **extra)
    os.replace(tmp_npz, npz)
    if crown is not None:
        bpy.data.objects.remove(crown)
    bpy.data.objects.remove(obj)
    bpy.data.orphans_purge(do_recursive=True)


# side of the square patch (metres) and of the image the mean colour and roughness are baked on
_MEAN_PATCH_M = 2.0
_MEAN_PIXELS = 48


def _mean_surface(bpy: Any, mat: Any) -> tuple[list[float], float, float]:
    """The material's mean diffuse colour, roughness and a metallic guess, baked once (Cycles) on a
    2 m square patch with the texture coordinates the builder gives room surfaces (metres)."""
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = 4
    mesh = bpy.data.meshes.new("sv_mean_patch")
    h = _MEAN_PATCH_M / 2
    mesh.from_pydata([(-h, -h, 0), (h, -h, 0), (h, h, 0), (-h, h, 0)], [], [(0, 1, 2, 3)])
    uv = mesh.uv_layers.new(name="UVMap")
    uv.data.foreach_set("uv", [0, 0, _MEAN_PATCH_M, 0, _MEAN_PATCH_M, _MEAN_PATCH_M, 0, _MEAN_PATCH_M])
    mesh.use_auto_texspace = False  # Generated = object coordinates in metres, as on the room surfaces
    mesh.texspace_location = (0.5, 0.5, 0.5)
    mesh.texspace_size = (0.5, 0.5, 0.5)
    mesh.materials.append(mat)
    patch = bpy.data.objects.new("sv_mean_patch", mesh)
    scene.collection.objects.link(patch)
    image = bpy.data.images.new("sv_mean_bake", _MEAN_PIXELS, _MEAN_PIXELS, float_buffer=True)
    target = mat.node_tree.nodes.new("ShaderNodeTexImage")
    target.image = image
    mat.node_tree.nodes.active = target
    means = {}
    try:
        for kind, passes in (("DIFFUSE", {"COLOR"}), ("GLOSSY", {"COLOR"}), ("ROUGHNESS", set())):
            with bpy.context.temp_override(
                object=patch, active_object=patch, selected_objects=[patch], selected_editable_objects=[patch]
            ):
                bpy.ops.object.bake(type=kind, pass_filter=passes, margin=0, use_clear=True)
            px = np.array(image.pixels[:], dtype=np.float64).reshape(-1, 4)[:, :3]
            means[kind] = px.mean(axis=0)
    finally:
        mat.node_tree.nodes.remove(target)
        bpy.data.images.remove(image)
        bpy.data.objects.remove(patch)
        bpy.data.meshes.remove(mesh)
    diffuse, glossy = means["DIFFUSE"], means["GLOSSY"]
    # a metal has (almost) no diffuse colour: its colour is the glossy one
    metal = float(diffuse.mean()) < 0.02 and float(glossy.mean()) > float(diffuse.mean())
    colour = glossy if metal else diffuse
    return [round(float(c), 5) for c in np.clip(colour, 0, 1)], round(float(means["ROUGHNESS"][0]), 5), float(metal)


def _write_material(bpy: Any, mat: Any, blend: Path) -> None:
    blend.parent.mkdir(parents=True, exist_ok=True)
    tmp_blend = blend.with_name(f".{blend.name}.{os.getpid()}.tmp.blend")
    bpy.data.libraries.write(str(tmp_blend), {mat}, fake_user=True, compress=True)
    os.replace(tmp_blend, blend)


def _bake_patch(bpy: Any, mat: Any, size_m: float) -> Any:
    """A square patch [-size_m/2, size_m/2]^2 at z = 0 in ``mat``, with the texture coordinates the builder
    gives room surfaces ("UVMap" and Generated both equal to object coordinates in metres) and a second
    UV layer "sv_bake" spanning the image once ([0, 1]^2), which the bake writes through."""
    h = size_m / 2
    mesh = bpy.data.meshes.new("sv_bake_patch")
    mesh.from_pydata([(-h, -h, 0), (h, -h, 0), (h, h, 0), (-h, h, 0)], [], [(0, 1, 2, 3)])
    metres = mesh.uv_layers.new(name="UVMap")
    metres.data.foreach_set("uv", [-h, -h, h, -h, h, h, -h, h])
    image = mesh.uv_layers.new(name="sv_bake")
    image.data.foreach_set("uv", [0, 0, 1, 0, 1, 1, 0, 1])
    mesh.uv_layers.active = image
    mesh.use_auto_texspace = False
    mesh.texspace_location = (0.5, 0.5, 0.5)
    mesh.texspace_size = (0.5, 0.5, 0.5)
    mesh.materials.append(mat)
    patch = bpy.data.objects.new("sv_bake_patch", mesh)
    bpy.context.scene.collection.objects.link(patch)
    return patch


def smooth_normal_map(pixels: np.ndarray, sigma: float) -> np.ndarray:
    """A tangent-space normal map (H, W, C >= 3, channels in [0, 1] encoding -1..1) smoothed by a Gaussian of
    ``sigma`` texels with mirrored edges (the map is mirror-tiled), its vectors renormalised (a flat average
    shortens them) and re-encoded; other channels (alpha) untouched. ``sigma`` 0 returns a copy."""
    out = np.array(pixels, dtype=np.float32, copy=True)
    if sigma <= 0:
        return out
    from scipy.ndimage import gaussian_filter  # noqa: PLC0415

    v = out[..., :3] * 2.0 - 1.0
    v = np.stack([gaussian_filter(v[..., c], sigma, mode="reflect") for c in range(3)], axis=-1)
    v /= np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-6)
    out[..., :3] = np.clip(v * 0.5 + 0.5, 0.0, 1.0)
    return out


def bake_material(
    bpy: Any, mat: Any, name: str, px: int, size_m: float, samples: int = 4, normal_blur: float = 0.0
) -> Any:
    """A light material ``name`` that looks like ``mat``: its base colour (the diffuse colour, or the glossy
    colour of a metal), roughness and tangent-space normal (its bump) baked by Cycles into ``px`` x ``px``
    images (packed) over a ``size_m`` square patch centred on the origin, read back through the "UVMap"
    (metres) mirror-tiled every ``size_m`` (a surface up to ``size_m`` across, centred on its object's
    origin as a table top is, shows no seam). Mirrored tiles flip the normal map's tangent directions,
    so the shader flips the map's x (y) component in odd tiles along u (v). ``samples`` per texel
    (jittered) average the fine grain and bump that one sample per texel aliases into speckle;
    ``normal_blur`` texels of Gaussian smoothing (``smooth_normal_map``) take out what remains."""
    scene = bpy.context.scene
    scene.render.engine = "CYCLES"
    scene.cycles.device = "CPU"
    scene.cycles.samples = samples
    patch = _bake_patch(bpy, mat, size_m)
    metal = bool(mat.get("sv_mean_metallic", 0.0))
    target = mat.node_tree.nodes.new("ShaderNodeTexImage")
    mat.node_tree.nodes.active = target
    images = {}
    try:
        for key, kind, passes, colourspace in (
            ("color", "GLOSSY" if metal else "DIFFUSE", {"COLOR"}, "sRGB"),
            ("roughness", "ROUGHNESS", set(), "Non-Color"),
            ("normal", "NORMAL", set(), "Non-Color"),
        ):
            image = bpy.data.images.new(f"{name}_{key}", px, px, alpha=False, float_buffer=False)
            image.colorspace_settings.name = colourspace
            target.image = image
            with bpy.context.temp_override(
                object=patch, active_object=patch, selected_objects=[patch], selected_editable_objects=[patch]
            ):
                bpy.ops.object.bake(
                    type=kind, pass_filter=passes, margin=0, use_clear=True, normal_space="TANGENT", uv_layer="sv_bake"
                )
            if key == "normal" and normal_blur > 0:
                flat = np.empty(px * px * 4, dtype=np.float32)
                image.pixels.foreach_get(flat)
                image.pixels.foreach_set(smooth_normal_map(flat.reshape(px, px, 4), normal_blur).ravel())
                image.update()
            image.pack()
            images[key] = image
    finally:
        mat.node_tree.nodes.remove(target)
        bpy.data.objects.remove(patch)
    baked = bpy.data.materials.new(name)
    baked.use_nodes = True
    tree = baked.node_tree
    nodes, links = tree.nodes, tree.links
    bsdf = nodes["Principled BSDF"]
    uv = nodes.new("ShaderNodeUVMap")
    uv.uv_map = "UVMap"
    scale = nodes.new("ShaderNodeVectorMath")  # metres -> image: the patch's centre at the object's origin
    scale.operation = "MULTIPLY_ADD"
    scale.inputs[1].default_value = (1.0 / size_m, 1.0 / size_m, 1.0)
    scale.inputs[2].default_value = (0.5, 0.5, 0.0)
    links.new(uv.outputs["UV"], scale.inputs[0])
    tex = {}
    for key, image in images.items():
        node = nodes.new("ShaderNodeTexImage")
        node.image = image
        node.extension = "MIRROR"
        node.interpolation = "Linear"
        links.new(scale.outputs["Vector"], node.inputs["Vector"])
        tex[key] = node
    links.new(tex["color"].outputs["Color"], bsdf.inputs["Base Color"])
    links.new(tex["roughness"].outputs["Color"], bsdf.inputs["Roughness"])
    bsdf.inputs["Metallic"].default_value = 1.0 if metal else 0.0
    # odd mirrored tiles: x -> 1 - x along u, y -> 1 - y along v (|parity - c| with parity 0 or 1)
    split = nodes.new("ShaderNodeSeparateXYZ")
    links.new(scale.outputs["Vector"], split.inputs[0])
    channels = nodes.new("ShaderNodeSeparateColor")
    links.new(tex["normal"].outputs["Color"], channels.inputs["Color"])
    joined = nodes.new("ShaderNodeCombineColor")
    for axis, channel in ((0, "Red"), (1, "Green")):
        mod = nodes.new("ShaderNodeMath")
        mod.operation = "FLOORED_MODULO"
        mod.inputs[1].default_value = 2.0
        links.new(split.outputs[axis], mod.inputs[0])
        odd = nodes.new("ShaderNodeMath")
        odd.operation = "GREATER_THAN"
        odd.inputs[1].default_value = 1.0
        links.new(mod.outputs[0], odd.inputs[0])
        diff = nodes.new("ShaderNodeMath")
        diff.operation = "SUBTRACT"
        links.new(odd.outputs[0], diff.inputs[0])
        links.new(channels.outputs[channel], diff.inputs[1])
        flip = nodes.new("ShaderNodeMath")
        flip.operation = "ABSOLUTE"
        links.new(diff.outputs[0], flip.inputs[0])
        links.new(flip.outputs[0], joined.inputs[channel])
    links.new(channels.outputs["Blue"], joined.inputs["Blue"])
    normal_map = nodes.new("ShaderNodeNormalMap")
    normal_map.space = "TANGENT"
    normal_map.uv_map = "UVMap"
    links.new(joined.outputs["Color"], normal_map.inputs["Color"])
    links.new(normal_map.outputs["Normal"], bsdf.inputs["Normal"])
    for prop in ("sv_mean_color", "sv_mean_roughness", "sv_mean_metallic"):
        if prop in mat:
            baked[prop] = mat[prop]
    return baked


def generate_material(variant: MaterialVariant) -> None:
    """Build one Infinigen material under its seed and write it alone to its ``.blend``; with
    ``variant.shading == "baked"`` also bake it to images and write the baked material to its own file
    (helper process). A full material already cached is read back, not generated again."""
    import bpy  # noqa: PLC0415

    if Path(variant.blend).is_file():
        mat = append_material(bpy, variant.blend, variant.material_name)
    else:
        mat = _generate_full_material(bpy, variant)
    if variant.shading == "baked" and not Path(variant.baked_blend).is_file():
        t0 = time.perf_counter()
        baked = bake_material(
            bpy,
            mat,
            variant.baked_name,
            int(variant.bake_px),
            float(variant.bake_m),
            normal_blur=float(variant.normal_blur),
        )
        _write_material(bpy, baked, Path(variant.baked_blend))
        print(f"simvision: baked {variant.material_name} in {time.perf_counter() - t0:.2f} s", flush=True)
        bpy.data.materials.remove(baked)
    bpy.data.materials.remove(mat)
    bpy.data.orphans_purge(do_recursive=True)


def _generate_full_material(bpy: Any, variant: MaterialVariant) -> Any:
    import importlib  # noqa: PLC0415

    from infinigen.core.util.math import FixedSeed, int_hash  # noqa: PLC0415

    module = importlib.import_module(f"infinigen.assets.materials.{variant.module}")
    with FixedSeed(int_hash((variant.module, variant.cls, variant.seed))):
        mat = getattr(module, variant.cls)().generate()
    mat.name = variant.material_name
    if hasattr(mat, "displacement_method"):
        mat.displacement_method = "BUMP"  # no true displacement: surfaces keep their silhouettes (exact labels)
    colour, roughness, metallic = _mean_surface(bpy, mat)
    mat["sv_mean_color"] = colour  # what indirect rays see with scene.infinigen.indirect_shading=mean
    mat["sv_mean_roughness"] = roughness
    mat["sv_mean_metallic"] = metallic
    for node in mat.node_tree.nodes if mat.node_tree is not None else []:
        image = getattr(node, "image", None)
        if image is not None and image.packed_file is None and image.source in ("FILE", "GENERATED"):
            image.pack()
    _write_material(bpy, mat, Path(variant.blend))
    return mat


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    todo: list[Variant | MaterialVariant] = []
    for v in json.loads(args[0]):
        kind = v.pop("type", "Variant")
        todo.append(MaterialVariant(**v) if kind == "MaterialVariant" else Variant(**v))
    import bpy  # noqa: F401, PLC0415

    offline_infinigen()
    for variant in todo:
        t0 = time.perf_counter()
        if isinstance(variant, MaterialVariant):
            generate_material(variant)
        else:
            generate(variant)
        print(f"simvision: generated {_name(variant)} in {time.perf_counter() - t0:.2f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
