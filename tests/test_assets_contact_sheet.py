"""scripts/assets_contact_sheet.py --where: only the frames whose recorded conditions match."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from PIL import Image

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "assets_contact_sheet.py"
_spec = importlib.util.spec_from_file_location("assets_contact_sheet", SCRIPT)
sheet = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sheet)


def test_where_keeps_only_the_frames_recorded_with_the_condition(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    (tmp_path / "metadata").mkdir()
    lines = []
    for i, (verge, weather) in enumerate([(True, "rain"), (False, "rain"), (True, "clear"), (False, "clear")]):
        Image.new("RGB", (8, 8)).save(tmp_path / "images" / f"{i:06d}.png")
        record = {"file_name": f"images/{i:06d}.png", "conditions": {"verge_view": verge, "weather": weather}}
        lines.append(json.dumps(record))
    (tmp_path / "metadata" / "frames.jsonl").write_text("\n".join(lines) + "\n")
    names = lambda found: [p.name for p in found]  # noqa: E731
    assert names(sheet._frames(tmp_path, [])) == [f"{i:06d}.png" for i in range(4)]
    assert names(sheet._frames(tmp_path, ["verge_view=true"])) == ["000000.png", "000002.png"]
    assert names(sheet._frames(tmp_path, ["verge_view=true", "weather=clear"])) == ["000002.png"]
    assert sheet._frames(tmp_path, ["preset=none"]) == []  # a condition not recorded matches nothing
