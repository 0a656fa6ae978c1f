"""How much memory a render's passes need, against how much the machine has: checked before Blender starts.

A resolution that cannot fit (``render.resolution=[16384,16384]``) would otherwise render for
minutes and then be killed by the kernel mid-scene. The estimate counts per-pixel buffers of one
Cycles call that renders a scene's ``views`` cameras, in the two processes that hold them:

- Cycles, one view at a time: its render buffer (colour, depth, object index, sample count),
  Blender's render result and the compositor's float buffers feeding BlenderProc's file outputs.
  With the denoiser: the albedo and normal guides, their prefiltered copies, the denoised colour,
  and OpenImageDenoise's scratch memory, which grows with the image up to a budget beyond which
  it denoises in tiles (measured: about 560 bytes a pixel, levelling off near 1.25 GiB).
- The render process, every view at once: BlenderProc's PNG and float32 EXR round trip (depth
  and object index read back with 3 channels, the index as int64, the category map as float64
  then int64), the renderer's own RGB, depth, instance and category arrays, the previous scene
  still referenced and the pickle that ships a scene to the writer.
- The writer process, per view: the pickled scene received, the unpickled arrays of the scene
  being written and of one queued, and the labelling and encoding buffers of a frame.

Coefficients were measured with ``scripts/measure_render_memory.py``: the peak RSS (VmHWM) of the
job and of its writer at 640x480 to 2560x1920 with one to four views, minus that of a 64x48 job.
Blender itself, its kernels and the writer's Python are a fixed overhead on top (:data:`FIXED_BYTES`,
about 0.6 GiB measured). Host memory only: on a GPU, Cycles' device buffers are the GPU's
concern, while the read-back and the writer still live here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simvision.config.checks import ConfigError
from simvision.render.runtime import worker_share

GIB = 2**30
CYCLES_BYTES = 90  # per pixel, the view being rendered
DENOISE_BYTES = 100  # per pixel: guides, prefiltered guides, denoised colour
DENOISE_SCRATCH = (560, int(1.25 * GIB))  # OpenImageDenoise: bytes per pixel, up to this budget
VIEW_BYTES = 100  # per pixel per view in the render process (read-back, own arrays, hand-over)
# per pixel per view in the writer process: 56-215 measured, more the further it runs behind the
# renderer (up to two scenes wait for it); 160 covers every measured render of a megapixel or more
WRITER_BYTES = 160
FIXED_BYTES = 1 * GIB  # Blender, Cycles kernels, BlenderProc, the writer's Python (0.6 GiB measured)
MARGIN = 1.2  # allocator slack on top of the estimate
# output.normals, per pixel: counted from the buffers' sizes (not measured like the rest): Cycles' normal
# pass and the compositor's float buffer; the float32 EXR read back, the camera-frame conversion and the
# view's array, pickled; in the writer the received array, the float16 copy and its .npy bytes
NORMALS_CYCLES_BYTES = 32
NORMALS_VIEW_BYTES = 60
NORMALS_WRITER_BYTES = 36


@dataclass(frozen=True)
class PassMemory:
    """Estimated peak bytes of one Cycles call's passes, and what they are for."""

    width: int
    height: int
    views: int
    denoise: bool
    cycles: int  # the view being rendered, denoising included
    render_process: int  # every view, read back and handed over
    writer: int  # the writer process

    @property
    def total(self) -> int:
        return self.cycles + self.render_process + self.writer

    @property
    def needed(self) -> int:
        """What must be free for the job: the passes with a margin, plus Blender and the writer."""
        return int(self.total * MARGIN) + FIXED_BYTES


def estimate_pass_memory(width: int, height: int, views: int, denoise: bool, normals: bool = False) -> PassMemory:
    """Peak memory of the passes of one Cycles call rendering ``views`` cameras at ``width`` x ``height``
    (``normals``: with the normal pass, output.normals)."""
    pixels = int(width) * int(height)
    cycles = pixels * (CYCLES_BYTES + (NORMALS_CYCLES_BYTES if normals else 0))
    if denoise:
        per_pixel, budget = DENOISE_SCRATCH
        cycles += pixels * DENOISE_BYTES + min(pixels * per_pixel, budget)
    return PassMemory(
        int(width),
        int(height),
        int(views),
        bool(denoise),
        cycles=cycles,
        render_process=pixels * views * (VIEW_BYTES + (NORMALS_VIEW_BYTES if normals else 0)),
        writer=pixels * views * (WRITER_BYTES + (NORMALS_WRITER_BYTES if normals else 0)),
    )


def available_memory() -> int | None:
    """Bytes this process may still allocate: MemAvailable, capped by a cgroup v2 limit; None if unknown."""
    available = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1]) * 1024
                break
    except OSError:
        pass
    if available is None:
        try:
            import psutil  # noqa: PLC0415 - optional, for systems without /proc

            available = int(psutil.virtual_memory().available)
        except ImportError:
            return None
    try:  # a container or batch job (SLURM, Kubernetes) may allow less than the machine has free
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit != "max":
            used = int(Path("/sys/fs/cgroup/memory.current").read_text())
            available = min(available, max(int(limit) - used, 0))
    except (OSError, ValueError):
        pass
    return available


def check_pass_memory(
    render: Any, views: int, available: int | None = None, workers: int | None = None, normals: bool = False
) -> PassMemory:
    """Raise :class:`ConfigError` on ``render.resolution`` if its passes cannot fit in memory.

    ``available`` defaults to this machine's reading; ``workers`` local jobs (default: this Hydra
    multirun's joblib workers) start together and share it; ``normals``: output.normals.
    """
    width, height = (int(v) for v in render.resolution)
    estimate = estimate_pass_memory(width, height, views, str(render.denoiser).upper() != "NONE", normals)
    free = available_memory() if available is None else available
    if free is None:
        return estimate
    workers = worker_share()[1] if workers is None else workers
    share = free // max(int(workers), 1)
    if estimate.needed > share:
        each = f" for each of {workers} local workers" if workers > 1 else ""
        raise ConfigError(
            f"render.resolution: [{width}, {height}] needs about {_gib(estimate.total)} GiB for its passes "
            f"({views} view{'s' if views != 1 else ''} per Cycles call"
            f"{', denoiser on' if estimate.denoise else ''}) plus {_gib(FIXED_BYTES)} GiB for Blender, "
            f"{_gib(share)} GiB available{each}; lower the resolution or the views per scene"
        )
    return estimate


def _gib(n: int) -> str:
    value = n / GIB
    return f"{value:.1f}" if value < 100 else f"{math.ceil(value):d}"


__all__ = ["PassMemory", "available_memory", "check_pass_memory", "estimate_pass_memory"]
