from __future__ import annotations

import json
from functools import cache

import numpy as np
import pytest

from simvision.scene.street.assets import BACKDROP_SHAPES, STREET_GROUPS, STREET_SHAPES, make_street_shape
from simvision.scene.street.buildings import make_building
from simvision.scene.street.furniture import CONE_STYLES
from simvision.scene.street.meshes import PartsMesh

KINDS = sorted({**STREET_SHAPES, **BACKDROP_SHAPES})
SEEDS = (0, 1, 2, 5)
VEHICLES = ("car", "van", "truck", "bus")

# (x extent, y extent, z extent) limits in metres; None = unchecked
SIZE_LIMITS: dict[str, tuple[tuple[float, float] | None, ...]] = {
    "car": ((3.5, 5.2), (1.6, 2.05), (1.3, 1.9)),
    "van": ((4.5, 6.2), (1.85, 2.1), (1.85, 2.7)),
    "truck": ((6.0, 10.5), (2.2, 2.6), (2.8, 4.0)),
    "bus": ((9.0, 13.0), (2.4, 2.6), (2.8, 3.4)),
    "cyclist": ((1.5, 2.1), (0.4, 0.9), (1.3, 2.1)),
    "traffic_cone": ((0.15, 0.65), (0.15, 0.65), (0.3, 1.0)),
    "barrier": ((0.4, 0.9), (0.9, 4.1), (0.75, 1.2)),
    "traffic_light": ((0.4, 1.0), (0.15, 0.8), (2.4, 4.2)),
    "traffic_sign": ((0.04, 0.2), (0.3, 1.1), (2.2, 3.6)),
    "street_lamp": ((0.9, 5.5), (0.15, 0.45), (6.0, 11.0)),
    "debris": ((0.1, 3.5), (0.1, 3.5), (0.01, 0.6)),
    "fallen_cargo": ((0.25, 6.0), (0.25, 6.0), (0.15, 2.5)),
    "animal": ((0.6, 2.5), (0.1, 0.6), (0.3, 1.7)),
    "tyre": ((0.2, 1.15), (0.2, 1.15), (0.15, 1.15)),
}
TRIANGLE_BUDGET = {"car": 3000, "person": 2500, "cyclist": 3500, "van": 3000, "truck": 3000, "bus": 3000}


@cache
def sample(kind: str, seed: int) -> PartsMesh:
    return make_street_shape(kind, rng=np.random.default_rng(seed))


def components(faces: np.ndarray, n_vertices: int) -> np.ndarray:
    """Connected-component label per face (faces sharing a vertex are connected)."""
    labels = np.arange(n_vertices)
    while True:
        new = labels.copy()
        face_min = labels[faces].min(axis=1)
        for k in range(3):
            np.minimum.at(new, faces[:, k], face_min)
        new = new[new]
        if np.array_equal(new, labels):
            return labels[faces[:, 0]]
        labels = new


def on_surface(point: np.ndarray, tris: np.ndarray, tol: float) -> bool:
    """Whether ``point`` lies within ``tol`` of one of the triangles (T, 3, 3), projecting inside it."""
    a, b, c = tris[:, 0], tris[:, 1], tris[:, 2]
    n = np.cross(b - a, c - a)
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    dist = np.einsum("ij,ij->i", point - a, n)
    q = point - dist[:, None] * n
    v0, v1, v2 = b - a, c - a, q - a
    d00, d01, d11 = (v0 * v0).sum(1), (v0 * v1).sum(1), (v1 * v1).sum(1)
    d20, d21 = (v2 * v0).sum(1), (v2 * v1).sum(1)
    den = d00 * d11 - d01 * d01
    v = (d11 * d20 - d01 * d21) / den
    w = (d00 * d21 - d01 * d20) / den
    inside = (v >= -1e-6) & (w >= -1e-6) & (v + w <= 1 + 1e-6)
    return bool((np.abs(dist)[inside] <= tol).any())


def test_registry_lists_every_asset_and_group() -> None:
    assert set(STREET_SHAPES) == {
        "car",
        "van",
        "truck",
        "bus",
        "person",
        "cyclist",
        "traffic_cone",
        "barrier",
        "traffic_light",
        "traffic_sign",
        "street_lamp",
        "debris",
        "fallen_cargo",
        "animal",
        "tyre",
    }
    assert set(STREET_GROUPS) == set(STREET_SHAPES)
    assert {k for k, g in STREET_GROUPS.items() if g == "obstacle"} == {"debris", "fallen_cargo", "animal", "tyre"}
    with pytest.raises(KeyError):
        make_street_shape("spaceship", rng=np.random.default_rng(0))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_component_is_closed_and_outward(kind: str, seed: int) -> None:
    m = sample(kind, seed)
    v, f = m.vertices, m.faces
    assert v.dtype == np.float64 and v.ndim == 2 and v.shape[1] == 3
    assert f.dtype == np.int64 and f.ndim == 2 and f.shape[1] == 3
    assert f.min() >= 0 and f.max() < len(v)
    directed = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
    assert len(np.unique(directed, axis=0)) == len(directed)  # each directed edge once: manifold, consistent
    reverse = {tuple(e) for e in directed[:, ::-1].tolist()}
    assert all(tuple(e) in reverse for e in directed.tolist())  # every edge has its twin: closed
    area = np.linalg.norm(np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]]), axis=1) / 2
    assert area.min() > 1e-8  # no degenerate triangles
    label = components(f, len(v))
    _, index = np.unique(label, return_inverse=True)
    signed = np.einsum("ij,ij->i", v[f[:, 0]], np.cross(v[f[:, 1]], v[f[:, 2]])) / 6
    assert np.bincount(index, signed).min() > 0  # every part wound outward


def test_primitives_share_their_topology_but_hand_out_their_own_arrays() -> None:
    """lathe, torus, cuboid and loft build the triangles of each size once (the street sampler's hot path);
    what a caller does to the arrays it got must not reach the next caller."""
    from simvision.scene.shapes import cuboid, lathe, torus
    from simvision.scene.street.meshes import loft

    angle = np.linspace(0.0, 2 * np.pi, 6, endpoint=False)
    rings = np.stack([np.c_[np.cos(angle), np.sin(angle), np.full(6, z)] for z in (0.0, 1.0)])  # a hexagonal prism
    builders = {
        "lathe": lambda: lathe(np.array([[0.0, 0.0], [0.1, 0.0], [0.08, 0.3], [0.0, 0.3]]), 12),
        "torus": lambda: torus(0.3, 0.05, 16, 8),
        "half torus": lambda: torus(0.3, 0.05, 16, 8, arc=np.pi),
        "cuboid": lambda: cuboid((0.2, 0.3, 0.4)),
        "loft": lambda: loft(rings),
    }
    for name, build in builders.items():
        first = build()
        expected = [a.copy() for a in first]
        for a in first:
            a += 1  # in place: must be the caller's own array (a read-only cache raises here)
        assert all(np.array_equal(a, b) for a, b in zip(build(), expected, strict=True)), name
        v, f = expected[:2]
        directed = np.concatenate([f[:, [0, 1]], f[:, [1, 2]], f[:, [2, 0]]])
        assert len(np.unique(directed, axis=0)) == len(directed), name  # consistently wound
        assert {tuple(e) for e in directed.tolist()} == {tuple(e) for e in directed[:, ::-1].tolist()}, name  # closed


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", KINDS)
def test_slots_frame_and_params(kind: str, seed: int) -> None:
    m = sample(kind, seed)
    assert m.kind == kind
    assert m.face_slots.shape == (len(m.faces),) and m.face_slots.dtype == np.int64
    assert m.face_slots.min() >= 0 and m.face_slots.max() < len(m.slots)
    assert len(set(m.slots)) == len(m.slots)
    assert m.vertices[:, 2].min() == pytest.approx(0.0, abs=1e-9)  # stands on z = 0
    lo, hi = m.vertices.min(axis=0), m.vertices.max(axis=0)
    assert (lo[:2] + hi[:2]) / 2 == pytest.approx([0.0, 0.0], abs=1e-9)  # footprint centred
    assert np.allclose(m.params["size"], hi - lo)
    assert json.loads(json.dumps(m.params)) == m.params  # JSON round trip, no numpy scalars left
    json.dumps(m.lights)
    assert len(m.faces) < TRIANGLE_BUDGET.get(kind, 6000)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", sorted(SIZE_LIMITS))
def test_sizes_are_realistic(kind: str, seed: int) -> None:
    size = sample(kind, seed).size
    for axis, limits in enumerate(SIZE_LIMITS[kind]):
        if limits is not None:
            assert limits[0] <= size[axis] <= limits[1], (axis, size)


@pytest.mark.parametrize("seed", range(8))
def test_person_height_and_pose(seed: int) -> None:
    m = sample("person", seed)
    h = m.params["height"]
    assert 1.0 <= h <= 1.4 or 1.5 <= h <= 1.95
    assert 0.85 * h <= m.size[2] <= 1.01 * h + 0.01  # posing only lowers the head
    assert m.size[0] < 0.75 * h and m.size[1] < 0.6 * h
    assert m.params["pose"] in ("standing", "walking", "running")
    joints = m.params["joints_deg"]
    assert {"hip_left", "knee_right", "shoulder_left", "elbow_right"} <= set(joints)
    assert all(-90 <= a <= 130 for a in joints.values())
    for slot in ("skin", "top", "bottom", "shoes"):
        assert len(m.slot_faces(slot)) > 0
    head_z = m.vertices[np.unique(m.slot_faces("skin"))][:, 2].max()
    assert head_z > 0.8 * m.size[2]  # the skin-coloured head is on top


def test_people_poses_vary() -> None:
    poses = {sample("person", seed).params["pose"] for seed in range(12)}
    assert len(poses) >= 2
    heights = [sample("person", seed).params["height"] for seed in range(12)]
    assert max(heights) - min(heights) > 0.1


@pytest.mark.parametrize("seed", SEEDS)
def test_cyclist_rider_sits_on_the_bike(seed: int) -> None:
    m = sample("cyclist", seed)
    tyre = m.vertices[np.unique(m.slot_faces("tyre"))]
    assert tyre[:, 2].min() == pytest.approx(0.0, abs=1e-6)
    assert 0.6 <= tyre[:, 2].max() <= 0.75  # a ~0.7 m wheel
    assert len(np.unique(components(m.slot_faces("tyre"), len(m.vertices)))) == 2
    shoes = m.vertices[np.unique(m.slot_faces("shoes"))]
    assert shoes[:, 2].min() > 0.02  # feet are on the pedals, not on the ground
    skin_top = m.vertices[np.unique(m.slot_faces("skin"))][:, 2].max()
    assert skin_top > 1.2


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", VEHICLES)
def test_vehicle_parts_and_lights(kind: str, seed: int) -> None:
    m = sample(kind, seed)
    wheels = len(np.unique(components(m.slot_faces("tyre"), len(m.vertices))))
    assert wheels in {"car": (4,), "van": (4,), "truck": (6,), "bus": (4, 6)}[kind]
    tyre = m.vertices[np.unique(m.slot_faces("tyre"))]
    assert tyre[:, 2].min() == pytest.approx(0.0, abs=1e-6)  # on the ground
    glass = m.vertices[np.unique(m.slot_faces("glass"))]
    assert glass[:, 2].mean() > 0.35 * m.size[2]
    assert len(m.slot_faces("rim")) > 0 and len(m.slot_faces("body")) > 0
    x_lo, x_hi = m.vertices[:, 0].min(), m.vertices[:, 0].max()
    roles = sorted(li["role"] for li in m.lights)
    assert roles == ["headlight", "headlight", "taillight", "taillight"]
    for role, end, sign in (("headlight", x_hi, 1.0), ("taillight", x_lo, -1.0)):
        lights = [li for li in m.lights if li["role"] == role]
        tris = m.vertices[m.slot_faces(role)]
        ys = []
        for li in lights:
            p = np.asarray(li["position"])
            assert abs(p[0] - end) < 0.06  # at the right end of the vehicle
            assert np.allclose(li["direction"], [sign, 0.0, 0.0])
            assert 0.2 < p[2] < 2.0
            assert on_surface(p, tris, 1e-3)
            ys.append(p[1])
        assert ys[0] == pytest.approx(-ys[1], abs=1e-6) and abs(ys[0]) > 0.2  # a left/right pair


@pytest.mark.parametrize("seed", SEEDS)
def test_street_lamp_light_points_down_from_the_head(seed: int) -> None:
    m = sample("street_lamp", seed)
    assert 1 <= len(m.lights) <= 2
    lamp = m.vertices[m.slot_faces("lamp")]
    for li in m.lights:
        assert li["role"] == "street_lamp"
        assert np.allclose(li["direction"], [0.0, 0.0, -1.0])
        p = np.asarray(li["position"])
        assert p[2] > 5.0 and on_surface(p, lamp, 1e-3)
        assert p[2] <= lamp[:, :, 2].min() + 1e-9  # on the underside


@pytest.mark.parametrize("kind", sorted(set(KINDS) - {*VEHICLES, "street_lamp"}))
def test_other_assets_have_no_lights(kind: str) -> None:
    assert sample(kind, 0).lights == ()


@pytest.mark.parametrize("seed", range(12))
def test_traffic_cone_bands_are_separate_faces(seed: int) -> None:
    m = sample("traffic_cone", seed)
    _, body, band, base = CONE_STYLES[m.params["style"]]
    assert set(m.slots) == {body, base} | ({band} if band else set())
    assert len(m.slot_faces(body)) > 24
    if band is None:
        assert m.params["stripes"] == []
    else:
        bands = m.slot_faces(band)
        assert len(bands) >= 24 and len(m.slot_faces(body)) > len(bands) / 2
        z = m.vertices[bands][:, :, 2].mean(axis=1)
        assert z.min() > 0.3 * m.size[2] and z.max() < 0.85 * m.size[2]
    if base != body:  # a black base and its collar stay at the foot
        assert m.vertices[m.slot_faces(base)][:, :, 2].max() < 0.2 * m.size[2]
    assert m.size[0] < m.size[2]


def test_traffic_cone_styles_all_occur() -> None:
    styles = [sample("traffic_cone", seed).params["style"] for seed in range(60)]
    assert set(styles) == set(CONE_STYLES)
    assert styles.count("banded_black_base") > styles.count("black_yellow")


@pytest.mark.parametrize("seed", SEEDS)
def test_traffic_light_lamps_red_over_amber_over_green(seed: int) -> None:
    m = sample("traffic_light", seed)
    z = [m.vertices[m.slot_faces(s)][:, :, 2].mean() for s in ("lamp_red", "lamp_amber", "lamp_green")]
    assert z[0] > z[1] > z[2] > 1.8
    lamp = m.vertices[m.slot_faces("lamp_red")]
    assert lamp[:, :, 0].min() > m.vertices[m.slot_faces("metal")][:, :, 0].max()  # in front of the pole
    normal = np.cross(lamp[:, 1] - lamp[:, 0], lamp[:, 2] - lamp[:, 0])
    assert (normal[:, 0] > 0).sum() >= 16  # a disc facing +x
    assert m.params["active"] in ("red", "amber", "green")


@pytest.mark.parametrize("seed", range(6))
def test_traffic_sign_face_points_forward(seed: int) -> None:
    m = sample("traffic_sign", seed)
    tris = m.vertices[m.slot_faces("sign")]
    normal = np.cross(tris[:, 1] - tris[:, 0], tris[:, 2] - tris[:, 0])
    assert len(tris) >= 3 and np.all(normal[:, 0] > 0) and np.allclose(normal[:, 1:], 0, atol=1e-12)
    assert tris[:, :, 2].min() > 1.9


@pytest.mark.parametrize("seed", range(6))
def test_barrier_variants(seed: int) -> None:
    m = sample("barrier", seed)
    if m.params["variant"] == "jersey":
        assert len(m.slot_faces("concrete")) == len(m.faces)
    else:
        assert len(m.slot_faces("stripe")) > 0 and len(m.slot_faces("leg")) > 0
        assert len(m.slot_faces("board")) > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_animal_stands_on_four_legs(seed: int) -> None:
    m = sample("animal", seed)
    assert m.params["species"] in ("deer", "dog")
    dark = m.vertices[m.slot_faces("dark")]
    hooves = dark[dark[:, :, 2].max(axis=1) < 0.15]
    assert len(hooves) > 0 and hooves[:, :, 2].min() == pytest.approx(0.0, abs=1e-9)
    assert m.size[0] > m.size[1]  # longer than wide, facing x


def test_building_takes_explicit_sizes() -> None:
    m = make_building(rng=np.random.default_rng(3), width=12.0, depth=8.0, height=20.0)
    assert m.size[0] == pytest.approx(8.0 + 0.12, abs=0.15)  # protruding windows and door
    assert m.size[1] == pytest.approx(12.0 + 0.1, abs=0.15)
    assert 20.0 <= m.size[2] <= 20.8
    assert m.params["width"] == 12.0
    for slot in ("wall", "glass", "door", "roof"):
        assert len(m.slot_faces(slot)) > 0
    roof = m.vertices[m.slot_faces("roof")]
    assert roof[:, :, 2].min() > 19.9


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_mesh_different_seed_different_mesh(kind: str) -> None:
    a = make_street_shape(kind, rng=np.random.default_rng(11))
    b = make_street_shape(kind, rng=np.random.default_rng(11))
    c = make_street_shape(kind, rng=np.random.default_rng(12))
    assert np.array_equal(a.vertices, b.vertices) and np.array_equal(a.faces, b.faces)
    assert np.array_equal(a.face_slots, b.face_slots) and a.params == b.params and a.lights == b.lights
    assert a.params != c.params
    assert a.vertices.shape != c.vertices.shape or not np.allclose(a.vertices, c.vertices)
