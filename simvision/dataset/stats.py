"""Realised counts per class and per condition against the configured targets."""

from __future__ import annotations

from typing import Any

from simvision.dataset.card import class_counts, condition_counts

# condition keys whose weights in the config are target frequencies
TARGETED = {"time_of_day": "time_of_day", "weather": "weather"}


def _targets(weights: Any) -> dict[str, float]:
    total = sum(float(v) for v in weights.values()) or 1.0
    return {str(k): float(v) / total for k, v in weights.items()}


def realised_counts(coco: dict[str, Any], frames: list[dict[str, Any]], cfg: Any) -> dict[str, Any]:
    """Frames per condition value (with target frequencies where configured) and instances per class."""
    n_frames = max(len(frames), 1)
    conditions: dict[str, Any] = {}
    for key, values in condition_counts(coco, frames).items():
        targets = _targets(cfg.conditions[TARGETED[key]]) if key in TARGETED and cfg.scene.name == "street" else {}
        conditions[key] = {
            value: {"frames": cell["frames"], "share": cell["frames"] / n_frames, "target": targets.get(value)}
            for value, cell in sorted(values.items())
        }
        for value, target in targets.items():
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
