"""Realised counts per class and per condition against the configured targets."""

from __future__ import annotations

from typing import Any

from simvision.dataset.card import class_counts, condition_counts


def realised_counts(
    coco: dict[str, Any], frames: list[dict[str, Any]], targets: dict[str, dict[str, float]]
) -> dict[str, Any]:
    """Frames per condition value (with the scene type's target shares where it has them) and
    instances per class."""
    n_frames = max(len(frames), 1)
    conditions: dict[str, Any] = {}
    for key, values in condition_counts(coco, frames).items():
        key_targets = targets.get(key, {})
        conditions[key] = {
            value: {"frames": cell["frames"], "share": cell["frames"] / n_frames, "target": key_targets.get(value)}
            for value, cell in sorted(values.items())
        }
        for value, target in key_targets.items():
            conditions[key].setdefault(value, {"frames": 0, "share": 0.0, "target": target})
    classes = {
        name: cell for name, cell in class_counts(coco, frames).items() if cell["objects"] or cell["annotations"]
    }
    return {"frames": len(frames), "conditions": conditions, "classes": classes}


def format_counts(stats: dict[str, Any]) -> str:
    """A readable table of :func:`realised_counts`."""
    lines = [f"realised counts over {stats['frames']} frames"]
    for key, values in stats["conditions"].items():
        cells = []
        for value, cell in values.items():
            target = "" if cell["target"] is None else f" (target {cell['target']:.0%})"
            cells.append(f"{value}: {cell['frames']} = {cell['share']:.0%}{target}")
        lines.append(f"  {key}: " + ", ".join(cells))
    lines.append(
        "  classes (visible annotations / placed objects): "
        + ", ".join(f"{n}: {c['annotations']}/{c['objects']}" for n, c in stats["classes"].items())
    )
    return "\n".join(lines)
