"""The package's layers point down only (docs/architecture.md): checked on every import statement,
function-level imports included, so a shortcut back up fails here rather than in review."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "simvision"

# bottom (0) to top; a package may import packages on lower floors only (and itself)
LAYERS: dict[str, int] = {
    "io": 0,
    "childproc": 0,
    "config": 1,
    "labels": 1,
    "formats": 2,
    "scene": 3,
    "render": 4,
    "metrics": 5,
    "polish": 6,
    "sim2real": 6,
    "dataset": 7,
    "bench": 8,
    "loop": 8,
    "cli": 9,
}


def _package_of(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def _imported_packages(path: Path) -> set[tuple[str, int]]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "simvision" and len(parts) > 1:
                found.add((parts[1], node.lineno))
    return found


def test_every_package_is_on_a_floor() -> None:
    packages = {_package_of(p) for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE}
    assert packages - {"__init__"} <= set(LAYERS), f"packages without a layer: {packages - set(LAYERS)}"


def test_imports_point_down_only() -> None:
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.parent == PACKAGE and path.name == "__init__.py":
            continue
        own = _package_of(path)
        for target, line in sorted(_imported_packages(path)):
            if target == own or target not in LAYERS:
                continue
            if LAYERS[target] >= LAYERS[own]:
                upward.append(
                    f"{path.relative_to(PACKAGE.parent)}:{line}: {own} (floor {LAYERS[own]}) imports "
                    f"{target} (floor {LAYERS[target]})"
                )
    assert not upward, "\n".join(upward)


def test_bpy_is_imported_only_by_the_renderer() -> None:
    outside = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if _package_of(path) in ("render", "bench"):  # bench: the plain-BlenderProc baseline
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if any(n.split(".")[0] in ("bpy", "blenderproc") for n in names):
                    outside.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert not outside, outside
