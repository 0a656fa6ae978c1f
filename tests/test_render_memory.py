"""The pass-memory estimate and the refusal of renders that cannot fit (no Blender)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from simvision.config.checks import ConfigError
from simvision.render import memory
from simvision.render.memory import GIB, check_pass_memory, estimate_pass_memory
from tests.render_cli import error_lines, render_cli


def test_estimate_scales_with_pixels_and_views() -> None:
    one = estimate_pass_memory(640, 480, 1, denoise=False)
    assert estimate_pass_memory(1280, 960, 1, denoise=False).total == 4 * one.total  # linear in pixels
    two = estimate_pass_memory(640, 480, 2, denoise=False)
    # Cycles renders one view at a time; the read-back and the writer hold every view
    assert two.cycles == one.cycles
    assert (two.render_process, two.writer) == (2 * one.render_process, 2 * one.writer)
    assert estimate_pass_memory(640, 480, 1, denoise=True).total > one.total  # guides and OIDN's scratch


def test_normals_add_their_buffers_to_the_estimate() -> None:
    off = estimate_pass_memory(640, 480, 2, denoise=False)
    on = estimate_pass_memory(640, 480, 2, denoise=False, normals=True)
    pixels = 640 * 480
    assert on.cycles - off.cycles == pixels * memory.NORMALS_CYCLES_BYTES
    assert on.render_process - off.render_process == 2 * pixels * memory.NORMALS_VIEW_BYTES
    assert on.writer - off.writer == 2 * pixels * memory.NORMALS_WRITER_BYTES
    render = OmegaConf.create({"resolution": [640, 480], "denoiser": "none"})
    assert check_pass_memory(render, 2, available=64 * GIB, normals=True) == on


def test_denoiser_scratch_levels_off_at_its_budget() -> None:
    """OpenImageDenoise denoises large images in tiles within a budget, so its share stops growing."""
    per_pixel, budget = memory.DENOISE_SCRATCH
    for width, height in ((640, 480), (16384, 16384)):
        pixels = width * height
        on, off = (estimate_pass_memory(width, height, 1, denoise).cycles for denoise in (True, False))
        extra = on - off
        assert extra == pixels * memory.DENOISE_BYTES + min(pixels * per_pixel, budget)
    assert 640 * 480 * per_pixel < budget < 16384**2 * per_pixel


def test_default_render_is_far_below_a_laptop() -> None:
    assert estimate_pass_memory(320, 240, 2, denoise=True).needed < 1.2 * GIB


def _render(resolution: list[int], denoiser: str = "OPENIMAGEDENOISE"):
    return OmegaConf.create({"resolution": resolution, "denoiser": denoiser})


def test_a_render_that_cannot_fit_is_refused_with_the_estimate() -> None:
    with pytest.raises(ConfigError) as info:
        check_pass_memory(_render([16384, 16384]), 2, available=16 * GIB)
    message = str(info.value)
    assert "\n" not in message
    total = estimate_pass_memory(16384, 16384, 2, denoise=True).total / GIB
    assert message.startswith(f"render.resolution: [16384, 16384] needs about {total:.0f} GiB for its passes")
    assert "(2 views per Cycles call, denoiser on)" in message and "16.0 GiB available" in message


def test_a_render_that_fits_passes_and_the_margin_counts() -> None:
    estimate = estimate_pass_memory(1280, 960, 2, denoise=True)
    check_pass_memory(_render([1280, 960]), 2, available=estimate.needed)  # just fits
    with pytest.raises(ConfigError, match="render.resolution"):
        check_pass_memory(_render([1280, 960]), 2, available=estimate.total)  # the estimate alone is not enough


def test_local_workers_share_the_free_memory() -> None:
    needed = estimate_pass_memory(1280, 960, 2, denoise=True).needed
    check_pass_memory(_render([1280, 960]), 2, available=3 * needed, workers=3)
    with pytest.raises(ConfigError, match="available for each of 4 local workers"):
        check_pass_memory(_render([1280, 960]), 2, available=3 * needed, workers=4)


def test_the_machine_reading_is_used_when_none_is_given(monkeypatch) -> None:
    monkeypatch.setattr(memory, "available_memory", lambda: 2 * GIB)
    check_pass_memory(_render([320, 240]), 2)
    with pytest.raises(ConfigError, match="2.0 GiB available"):
        check_pass_memory(_render([4096, 4096]), 2)
    monkeypatch.setattr(memory, "available_memory", lambda: None)  # unknown: no refusal
    check_pass_memory(_render([16384, 16384]), 2)


def test_available_memory_reads_this_machine() -> None:
    free = memory.available_memory()
    assert free is not None and 0 < free < 2**50


def test_job_refuses_before_blender_starts(compose_cfg, tmp_path: Path, monkeypatch) -> None:
    from simvision.dataset import job

    monkeypatch.setattr(memory, "available_memory", lambda: 4 * GIB)
    started = []
    monkeypatch.setattr(job, "RenderLoop", lambda *a, **k: started.append(a))
    cfg = compose_cfg(f"output_dir={tmp_path / 'ds'}", "render.resolution=[8192,8192]")
    with pytest.raises(ConfigError, match=r"^render.resolution: \[8192, 8192\] needs about"):
        job.run(cfg)
    assert not started


def test_cli_refuses_a_huge_resolution_in_one_line(tmp_path: Path) -> None:
    """64 views of 16384 x 16384 need over a TiB: refused on any machine, fast, before Blender."""
    out = tmp_path / "ds"
    t0 = time.perf_counter()
    proc = render_cli(
        f"output_dir={out}", "render.resolution=[16384,16384]", "scene.camera.cameras_per_scene=64", cwd=tmp_path
    )
    assert proc.returncode == 2
    errors = error_lines(proc)
    total = estimate_pass_memory(16384, 16384, 64, denoise=True).total / GIB
    assert len(errors) == 1
    assert errors[0].startswith(
        f"simvision-render: error: render.resolution: [16384, 16384] needs about {total:.0f} GiB for its passes "
        "(64 views per Cycles call, denoiser on)"
    )
    assert "BlenderProc" not in proc.stderr and not (out / "images").exists()  # the start-up log line
    assert time.perf_counter() - t0 < 60  # no Blender start-up, no render
