"""Render a contact sheet of the procedural street assets with OpenCV (flat-shaded, coloured by material slot).

    python scripts/preview_street_assets.py out/street_assets.png [--seeds 4] [--kinds car,bus] [--azimuth 35]

Tiles run kind by kind (seeds 0..N-1 of each), ``--columns`` to a row; each tile is an orthographic view of one
sample (back faces culled, z-buffered). Emitters are drawn as dots with a short stroke along their direction
(headlights yellow, taillights red, street lamps white).
"""

from __future__ import annotations

import argparse
import hashlib
import math
from pathlib import Path

import cv2
import numpy as np

from simvision.scene.street.assets import BACKDROP_SHAPES, STREET_SHAPES
from simvision.scene.street.meshes import PartsMesh
from simvision.scene.street.prop_shapes import PROP_SHAPES

PALETTE = {  # BGR
    "body": (60, 60, 190),
    "glass": (90, 60, 30),
    "tyre": (35, 35, 35),
    "rim": (190, 190, 190),
    "headlight": (120, 250, 250),
    "taillight": (30, 30, 230),
    "cargo": (200, 200, 200),
    "chassis": (50, 50, 50),
    "skin": (120, 160, 220),
    "top": (160, 100, 40),
    "bottom": (90, 60, 60),
    "hair": (30, 50, 80),
    "shoes": (30, 30, 30),
    "helmet": (40, 180, 240),
    "frame": (40, 160, 40),
    "cone": (0, 110, 250),
    "stripe": (245, 245, 245),
    "base": (30, 30, 30),
    "black_pvc": (20, 20, 20),
    "yellow_band": (10, 200, 245),
    "board": (0, 110, 250),
    "leg": (80, 80, 80),
    "concrete": (170, 175, 180),
    "metal": (120, 120, 120),
    "housing": (40, 60, 40),
    "lamp_red": (0, 0, 255),
    "lamp_amber": (0, 170, 255),
    "lamp_green": (80, 220, 0),
    "sign": (40, 40, 220),
    "lamp": (200, 255, 255),
    "rock": (110, 120, 130),
    "wood": (60, 120, 170),
    "cardboard": (90, 150, 200),
    "tape": (60, 60, 200),
    "fur": (50, 90, 140),
    "dark": (25, 25, 25),
    "wall": (150, 170, 190),
    "door": (40, 70, 110),
    "roof": (80, 80, 90),
}
LIGHT_COLOURS = {"headlight": (0, 255, 255), "taillight": (0, 0, 255), "street_lamp": (255, 255, 255)}


def slot_colour(slot: str) -> np.ndarray:
    if slot in PALETTE:
        return np.array(PALETTE[slot], dtype=np.float64)
    digest = hashlib.md5(slot.encode()).digest()
    return np.array([60 + digest[i] % 180 for i in range(3)], dtype=np.float64)


SUPERSAMPLE = 2


def rasterise(pix: np.ndarray, depth: np.ndarray, faces: np.ndarray, colours: np.ndarray, size: int) -> np.ndarray:
    """A z-buffered triangle rasteriser (orthographic depth is linear in screen space); larger depth is nearer."""
    img = np.full((size, size, 3), 235, dtype=np.uint8)
    zbuf = np.full((size, size), -np.inf)
    for (a, b, c), colour in zip(faces, colours, strict=True):
        p0, p1, p2 = pix[a], pix[b], pix[c]
        lo = np.maximum(np.floor(np.minimum(np.minimum(p0, p1), p2)).astype(int), 0)
        hi = np.minimum(np.ceil(np.maximum(np.maximum(p0, p1), p2)).astype(int), size - 1)
        if (hi < lo).any():
            continue
        xs, ys = np.meshgrid(np.arange(lo[0], hi[0] + 1) + 0.5, np.arange(lo[1], hi[1] + 1) + 0.5)
        area = (p1[0] - p0[0]) * (p2[1] - p0[1]) - (p1[1] - p0[1]) * (p2[0] - p0[0])
        if abs(area) < 1e-12:
            continue
        w0 = ((p1[0] - xs) * (p2[1] - ys) - (p1[1] - ys) * (p2[0] - xs)) / area
        w1 = ((p2[0] - xs) * (p0[1] - ys) - (p2[1] - ys) * (p0[0] - xs)) / area
        w2 = 1 - w0 - w1
        inside = (w0 >= 0) & (w1 >= 0) & (w2 >= 0)
        z = w0 * depth[a] + w1 * depth[b] + w2 * depth[c]
        window = zbuf[lo[1] : hi[1] + 1, lo[0] : hi[0] + 1]
        closer = inside & (z > window)
        window[closer] = z[closer]
        img[lo[1] : hi[1] + 1, lo[0] : hi[0] + 1][closer] = colour.astype(np.uint8)
    return img


def render_tile(asset: PartsMesh, size: int, azimuth: float, elevation: float, label: str) -> np.ndarray:
    az, el = math.radians(azimuth), math.radians(elevation)
    to_cam = np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])
    right = np.cross(-to_cam, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, -to_cam)
    v, f = asset.vertices, asset.faces
    centre = (v.min(0) + v.max(0)) / 2
    p = v - centre
    uv = np.stack([p @ right, p @ up], axis=1)
    depth = p @ to_cam
    extent = max(float(np.abs(uv).max()), 1e-6)
    scale = 0.42 * size / extent
    pix = np.stack([size / 2 + uv[:, 0] * scale, size / 2 - uv[:, 1] * scale + 8], axis=1)
    normal = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-18)
    visible = normal @ to_cam > 0
    light = np.array([0.4, 0.3, 0.85]) / np.linalg.norm([0.4, 0.3, 0.85])
    shade = 0.45 + 0.55 * np.clip(normal @ light, 0, 1)
    colours = np.stack([slot_colour(s) for s in asset.slots])[asset.face_slots] * shade[:, None]
    img = rasterise(pix * SUPERSAMPLE, depth, f[visible], colours[visible], size * SUPERSAMPLE)
    img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    for li in asset.lights:
        pos = np.asarray(li["position"]) - centre
        end = pos + 0.4 * np.asarray(li["direction"]) * extent / 3
        a = (int(size / 2 + pos @ right * scale), int(size / 2 - pos @ up * scale + 8))
        b = (int(size / 2 + end @ right * scale), int(size / 2 - end @ up * scale + 8))
        colour = LIGHT_COLOURS.get(li["role"], (255, 0, 255))
        cv2.line(img, a, b, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.circle(img, a, 3, colour, -1, cv2.LINE_AA)
        cv2.circle(img, a, 3, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, label, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    dims = "x".join(f"{d:.2f}" for d in asset.size)
    cv2.putText(
        img, f"{dims} m  {len(f)} tris", (4, size - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 0), 1, cv2.LINE_AA
    )
    return img


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", type=Path, help="PNG to write")
    parser.add_argument("--seeds", type=int, default=4, help="samples per kind (seeds 0..N-1)")
    parser.add_argument("--kinds", default="", help="comma-separated subset of kinds (default: all)")
    parser.add_argument("--tile", type=int, default=260, help="tile size in pixels")
    parser.add_argument("--columns", type=int, default=8, help="tiles per row (0: one row per kind)")
    parser.add_argument("--azimuth", type=float, default=35.0, help="camera azimuth in degrees from +x towards +y")
    parser.add_argument("--elevation", type=float, default=20.0, help="camera elevation in degrees")
    args = parser.parse_args(argv)
    factories = {**STREET_SHAPES, **BACKDROP_SHAPES, **PROP_SHAPES}
    kinds = [k for k in args.kinds.split(",") if k] or list(factories)
    tiles = []
    for kind in kinds:
        for seed in range(args.seeds):
            asset = factories[kind](rng=np.random.default_rng(seed))
            variant = next(
                (
                    str(asset.params[k])
                    for k in ("variant", "pose", "species", "shape", "stand", "bike", "cab_style")
                    if k in asset.params
                ),
                "",
            )
            tiles.append(render_tile(asset, args.tile, args.azimuth, args.elevation, f"{kind} s{seed} {variant}"))
    columns = args.columns or args.seeds
    tiles += [np.full_like(tiles[0], 255)] * (-len(tiles) % columns)
    rows = [np.concatenate(tiles[i : i + columns], axis=1) for i in range(0, len(tiles), columns)]
    sheet = np.concatenate(rows, axis=0)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(args.output), sheet):
        raise SystemExit(f"could not write {args.output}")
    print(f"wrote {args.output} ({sheet.shape[1]}x{sheet.shape[0]})")


if __name__ == "__main__":
    main()
