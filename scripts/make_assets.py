"""Regenerate the small meshes shipped in assets/meshes (made by us, released CC0-1.0).

python scripts/make_assets.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from simvision.scene.shapes import lathe

MESH_DIR = Path(__file__).resolve().parents[1] / "assets" / "meshes"


def write_obj(path: Path, vertices: np.ndarray, faces: np.ndarray) -> None:
    lines = ["# simvision asset, CC0-1.0"]
    lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in vertices]
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in faces]
    path.write_text("\n".join(lines) + "\n")


def write_ply(path: Path, vertices: np.ndarray, faces: np.ndarray) -> None:
    header = [
        "ply",
        "format ascii 1.0",
        "comment simvision asset, CC0-1.0",
        f"element vertex {len(vertices)}",
        "property float x",
        "property float y",
        "property float z",
        f"element face {len(faces)}",
        "property list uchar int vertex_indices",
        "end_header",
    ]
    body = [f"{x:.6f} {y:.6f} {z:.6f}" for x, y, z in vertices] + [f"3 {a} {b} {c}" for a, b, c in faces]
    path.write_text("\n".join(header + body) + "\n")


def main() -> None:
    MESH_DIR.mkdir(parents=True, exist_ok=True)
    # a straight-sided drinking tumbler with a thick base
    tumbler = np.array([[0, 0], [0.032, 0], [0.04, 0.11], [0.036, 0.11], [0.029, 0.012], [0, 0.012]])
    write_obj(MESH_DIR / "tumbler.obj", *lathe(tumbler, 28))
    # a jar with a screw-top lid
    jar = np.array(
        [
            [0, 0],
            [0.045, 0],
            [0.048, 0.01],
            [0.048, 0.12],
            [0.04, 0.135],
            [0.04, 0.15],
            [0.042, 0.152],
            [0.042, 0.17],
            [0, 0.17],
        ]
    )
    write_ply(MESH_DIR / "jar.ply", *lathe(jar, 28))


if __name__ == "__main__":
    main()
