"""BlenderProc 2.8 running in-process on the ``bpy`` wheel.

This is the only module that knows how BlenderProc is started. BlenderProc 2.8 expects its own
launcher (``blenderproc run``), which downloads Blender and runs the script inside Blender's Python.
We instead import it on top of the ``bpy`` wheel and neutralise the three start-up quirks seen on
this platform (see PLATFORM.md): the import guard, the removal of site-packages from ``sys.path``
together with ``SetupUtility.setup`` (pip installs and ``sys.argv`` rewriting), and ``bproc.init``
failing on the wheel's missing locales.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import importlib.util
import os
import sys
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from simvision.io.scratch import process_scratch
from simvision.render.settings import DEVICES

_state: dict[str, Any] = {}


class BlenderUnavailableError(RuntimeError):
    """Blender (the ``bpy`` wheel) or BlenderProc cannot be imported."""


class RenderDeviceError(RuntimeError):
    """A requested Cycles device is not present on this machine."""


@dataclass(frozen=True)
class RuntimeInfo:
    blender_version: str
    blenderproc_version: str
    device: str  # what Cycles actually uses: CPU, CUDA or OPTIX
    gpus: tuple[str, ...]
    threads: int
    temp_dir: str


def _import_bpy() -> ModuleType:
    try:
        import bpy  # noqa: PLC0415
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise BlenderUnavailableError(
            "Blender is not importable as a Python module (import bpy failed: "
            f"{exc}). Install the locked environment with `make setup` (needs Python 3.11 and "
            "the bpy 4.2 wheel)."
        ) from exc
    return bpy


def _import_blenderproc() -> ModuleType:
    """Import BlenderProc 2.8 in this process without its launcher."""
    if "blenderproc" in sys.modules and hasattr(sys.modules["blenderproc"], "renderer"):
        return sys.modules["blenderproc"]
    os.environ["OPENCV_IO_ENABLE_OPENEXR"] = "1"  # must precede the first cv2 import
    os.environ["INSIDE_OF_THE_INTERNAL_BLENDER_PYTHON_ENVIRONMENT"] = "1"
    spec = importlib.util.find_spec("blenderproc")
    if spec is None or spec.loader is None or spec.origin is None:
        raise BlenderUnavailableError("BlenderProc is not installed; install the locked environment with `make setup`.")
    package = importlib.util.module_from_spec(spec)
    sys.modules["blenderproc"] = package
    saved_path = list(sys.path)
    saved_argv = list(sys.argv)
    saved_pythonpath = os.environ.get("PYTHONPATH")
    try:
        setup_module = importlib.import_module("blenderproc.python.utility.SetupUtility")
        # No pip installs into Blender's Python, no sys.argv rewriting.
        setup_module.SetupUtility.setup = staticmethod(lambda *args, **kwargs: list(sys.argv))
        # __init__ removes site-packages from sys.path once; give it a duplicate entry to remove.
        sys.path.append(str(Path(spec.origin).resolve().parent.parent))
        spec.loader.exec_module(package)
        atexit.register(_release_typing_caches)
    except Exception:
        sys.modules.pop("blenderproc", None)
        raise
    finally:
        sys.path[:] = saved_path
        sys.argv[:] = saved_argv
        if saved_pythonpath is not None:
            os.environ["PYTHONPATH"] = saved_pythonpath
    return package


def _release_typing_caches() -> None:
    """Drop typing's caches before the interpreter tears modules down.

    BlenderProc annotates functions with ``Optional[bpy.types.X]``; typing caches those objects,
    and freeing them after ``bpy`` has shut down segfaults the process at exit (rc 139) even
    though all work succeeded. Clearing the caches from an atexit hook avoids that.
    """
    for clear in getattr(typing, "_cleanups", []):
        clear()


def _configure_device(bpy: ModuleType, device: str) -> tuple[str, tuple[str, ...]]:
    """Point Cycles at ``device`` (auto|cpu|cuda|optix) and return what it uses.

    A local worker of a multirun takes one GPU (its job number modulo the GPUs Cycles lists)
    unless ``SIMVISION_GPU`` names one, so parallel workers never all grab every GPU.
    """
    if device not in DEVICES:
        raise RenderDeviceError(f"render.device: unknown device {device!r}; choose one of {DEVICES}")
    scene = bpy.context.scene
    prefs = bpy.context.preferences.addons["cycles"].preferences
    if device == "cpu":
        prefs.compute_device_type = "NONE"
        scene.cycles.device = "CPU"
        return "CPU", ()
    wanted = ["OPTIX", "CUDA"] if device == "auto" else [device.upper()]
    for kind in wanted:
        try:
            prefs.compute_device_type = kind
        except TypeError:  # this Blender build does not know the backend
            continue
        prefs.refresh_devices()
        gpus = [d for d in prefs.devices if d.type == kind]
        if not gpus:
            continue
        visible = _visible_gpu_indices(len(gpus))
        for d in prefs.devices:
            d.use = False
        for i in visible:
            gpus[i].use = True
        scene.cycles.device = "GPU"
        return kind, tuple(gpus[i].name for i in visible)
    if device != "auto":
        raise RenderDeviceError(
            f"render.device={device}: Cycles finds no {device.upper()} device on this machine; "
            "use render.device=cpu or render.device=auto"
        )
    prefs.compute_device_type = "NONE"
    scene.cycles.device = "CPU"
    return "CPU", ()


def _visible_gpu_indices(count: int) -> list[int]:
    """GPUs this process may use: ``SIMVISION_GPU`` (a worker's one GPU) or all of them.

    Cycles enumerates devices itself, but the CUDA runtime under it honours
    ``CUDA_VISIBLE_DEVICES``; ``SIMVISION_GPU`` picks one of the devices Cycles lists.
    """
    chosen = os.environ.get("SIMVISION_GPU")
    if chosen is None or chosen == "":
        num, workers = worker_share()
        return list(range(count)) if workers == 1 else [num % count]
    index = int(chosen)
    if not 0 <= index < count:
        raise RenderDeviceError(f"SIMVISION_GPU={index}: only {count} GPU(s) visible to Cycles")
    return [index]


def worker_cuda_devices(env_value: str | None, num: int, workers: int, gpu_count: int | None) -> str | None:
    """The ``CUDA_VISIBLE_DEVICES`` a local worker should run with: one GPU of the machine's.

    ``env_value`` is the job's own ``CUDA_VISIBLE_DEVICES`` (None if unset), ``num``/``workers``
    its place among the local workers, ``gpu_count`` the GPUs on the machine (None if unknown).
    Returns the new value, or None to leave the environment alone: a single worker, a job that
    already sees one GPU (SLURM sets one per task), or a machine with no GPU.
    """
    if workers <= 1:
        return None
    if env_value is not None and env_value.strip() != "":
        devices = [d.strip() for d in env_value.split(",") if d.strip()]
        return devices[num % len(devices)] if len(devices) > 1 else None
    if not gpu_count:
        return None
    return str(num % gpu_count)


def _nvidia_gpu_count() -> int | None:
    """GPUs the NVIDIA driver reports, without initialising CUDA in this process (nvidia-smi -L)."""
    import shutil  # noqa: PLC0415
    import subprocess  # noqa: PLC0415

    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return sum(1 for line in out.splitlines() if line.startswith("GPU "))


def assign_worker_gpu() -> str | None:
    """Give this local worker one GPU through ``CUDA_VISIBLE_DEVICES`` before CUDA starts.

    Must run before Blender lists its Cycles devices (and before torch touches CUDA): the CUDA
    driver reads the variable once per process. Then Cycles, OIDN and any polish model in the
    worker all see only that GPU, so N workers on an N-GPU machine never share or grab all
    of them (BlenderProc issue 628). Returns the value set, or None if nothing changed.
    """
    if os.environ.get("SIMVISION_GPU") or _state.get("initialised"):
        return None
    num, workers = worker_share()
    if workers <= 1:
        return None
    current = os.environ.get("CUDA_VISIBLE_DEVICES")
    value = worker_cuda_devices(current, num, workers, None if current else _nvidia_gpu_count())
    if value is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = value
    return value


def worker_share() -> tuple[int, int]:
    """(job number, number of parallel workers) of this process in a Hydra multirun, else (0, 1).

    Used to split CPU threads and GPUs between local workers (the joblib launcher); cluster
    launchers give every task its own machine slice, so they count as one worker.
    """
    try:
        from hydra.core.hydra_config import HydraConfig  # noqa: PLC0415

        hc = HydraConfig.get()
    except (ImportError, ValueError):
        return 0, 1
    launcher = hc.launcher
    n_jobs = launcher.get("n_jobs") if "n_jobs" in launcher else None
    if not n_jobs or int(n_jobs) < 1:
        return 0, 1
    num = int(hc.job.num) if hc.job.get("num") is not None else 0
    return num, int(n_jobs)


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, e.g. a SLURM allocation; else every core)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def cpu_threads(requested: int) -> int:
    """Render threads: the requested number, or (0 = auto) this worker's share of the usable cores."""
    if requested > 0:
        return requested
    _, workers = worker_share()
    return max(1, usable_cores() // workers)


def start(device: str = "auto", threads: int = 0, temp_dir: str | os.PathLike[str] | None = None) -> RuntimeInfo:
    """Start (once per process) BlenderProc on the bpy wheel and configure Cycles.

    ``temp_dir`` is BlenderProc's scratch space for render files; each process gets its own so that
    parallel jobs never overwrite each other's EXRs. Calling again reconfigures device and threads.
    """
    assign_worker_gpu()  # before bpy initialises Cycles' device list
    bpy = _import_bpy()
    bproc = _import_blenderproc()
    from blenderproc.python.utility.GlobalStorage import GlobalStorage  # noqa: PLC0415
    from blenderproc.python.utility.Initializer import _Initializer  # noqa: PLC0415
    from blenderproc.python.utility.SetupUtility import SetupUtility  # noqa: PLC0415

    if not _state.get("initialised"):
        # this process's own scratch, removed at exit; those of dead processes are swept here
        scratch = Path(temp_dir) if temp_dir else process_scratch("simvision")
        scratch.mkdir(parents=True, exist_ok=True)
        SetupUtility.setup_utility_paths(str(scratch))
        # bproc.init() minus the locale switch the wheel cannot do.
        bproc.clean_up(clean_up_camera=True)
        bpy.context.scene.render.engine = "CYCLES"
        _Initializer.set_default_parameters()
        GlobalStorage.add("bproc_init_complete", True)
        _state["initialised"] = True
        _state["temp_dir"] = str(scratch)
    kind, gpus = _configure_device(bpy, device)
    threads = cpu_threads(int(threads))
    bproc.renderer.set_cpu_threads(threads)
    return RuntimeInfo(
        blender_version=bpy.app.version_string,
        blenderproc_version=bproc.__version__,
        device=kind,
        gpus=gpus,
        threads=int(threads),
        temp_dir=_state["temp_dir"],
    )


@contextlib.contextmanager
def quiet(enabled: bool = True) -> Iterator[None]:
    """Silence Blender's and BlenderProc's chatter on stdout (C and Python level) so progress
    bars and log lines stay readable; errors still reach stderr."""
    if not enabled or os.environ.get("SIMVISION_VERBOSE_BLENDER"):
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def release_memory() -> None:
    """Return freed heap pages to the OS after a scene (glibc ``malloc_trim``; no-op elsewhere).

    Measured on a 40-scene loop: RSS growth dropped from 41 to 31 MiB and the level by about 30 MiB;
    Blender's data blocks do not accumulate (the builder's clear_scene_data removes them every scene).
    """
    try:
        import ctypes  # noqa: PLC0415

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def once(key: str) -> bool:
    """True if ``key`` was already marked in this process; marks it. For per-process Blender set-up."""
    done = bool(_state.get(f"once:{key}"))
    _state[f"once:{key}"] = True
    return done


def blenderproc() -> ModuleType:
    """The BlenderProc package; call :func:`start` first."""
    if not _state.get("initialised"):
        raise RuntimeError("simvision.render.runtime.start() must run before BlenderProc is used")
    return sys.modules["blenderproc"]
