"""Memory sampling of a render job from outside (scripts/benchmark_longrun.py, measure_render_memory.py)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from simvision.bench.rss import Sample, at_frame, count_frames, growth_per_frame, watch_job
from tests.conftest import TINY


def _samples(slope: float, frames: range) -> list[Sample]:
    return [Sample(float(f), f, {"main": 600 + slope * f, "writer": 85.0}, {}) for f in frames]


def test_growth_is_the_least_squares_slope_over_the_second_half() -> None:
    samples = _samples(0.25, range(0, 500, 7)) + _samples(0.05, range(500, 1001, 7))
    assert growth_per_frame(samples, "main", 500) == pytest.approx(0.05)
    assert growth_per_frame(samples, "writer", 500) == pytest.approx(0.0, abs=1e-9)
    assert math.isnan(growth_per_frame(samples, "physics", 500))  # a role never seen


def test_at_frame_is_the_first_sample_at_or_past_the_mark() -> None:
    samples = _samples(0.0, range(0, 50, 3))
    mark = at_frame(samples, 10)
    assert mark is not None and mark.frames == 12
    assert at_frame(samples, 1000) is None


def test_frames_are_the_manifest_lines(tmp_path: Path) -> None:
    assert count_frames(tmp_path) == 0
    (tmp_path / "metadata").mkdir()
    (tmp_path / "metadata" / "frames.jsonl").write_text('{"frame_id": 0}\n{"frame_id": 1}\n')
    assert count_frames(tmp_path) == 2


@pytest.mark.blender
def test_watching_a_job_sees_its_writer_and_every_frame(tmp_path: Path) -> None:
    """The old benchmark patched the frame writer in its own process and, with the writer in a
    process of its own, saw no frame at all (StopIteration); from outside both are seen."""
    run = watch_job([*TINY, "num_frames=4", "output.card=false"], tmp_path / "ds", interval=0.2)
    assert run.returncode == 0, run.stderr_tail
    assert count_frames(tmp_path / "ds") == 4
    roles = {r for s in run.samples for r in s.rss_mib}
    assert {"main", "writer"} <= roles
    peaks = run.peak_mib()
    assert peaks["main"] > 100 and peaks["writer"] > 20  # Blender is in main, numpy in the writer
