"""Rigid-body drops in a helper process, one scene ahead of the renderer.

Dropping the objects (Bullet, through BlenderProc's ``simulate_physics_and_fix_final_poses``) is
single-threaded and takes a few tenths of a second per scene; in the render process it stalls
Cycles. The physics worker, a second Blender process, builds the *next* scene with the same
:class:`~simvision.render.builder.SceneBuilder`, simulates it and returns the final location and
rotation of every object while the render process builds and renders the current scene; the
render process then places the objects there without simulating. Same builder, same spec, same
final values: the scene, its labels and its pixels are the same as with in-process physics
(tested). ``render.physics_worker=false`` simulates in the render process instead.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any

from simvision.childproc import HelperProcess, helper_connections, picklable
from simvision.io.scratch import process_scratch, remove_scratch


def needs_physics(spec: Any) -> bool:
    """Whether building ``spec`` runs a rigid-body simulation."""
    return bool(spec.objects) and spec.physics.get("max_time", 0.0) > 0


class PhysicsWorker:
    """The render process's handle: ``submit`` a spec, later ``result`` its settled poses."""

    def __init__(self) -> None:
        self._child = HelperProcess("simvision.render.physics_worker", "physics worker")
        self._pending: set[int] = set()
        self._ready = False
        shm = Path("/dev/shm")
        self._handoff = process_scratch("simvision-physics", shm if shm.is_dir() else None)

    def ready(self) -> bool:
        """Whether the worker has started (never waits). Until then the render process simulates
        scenes itself, so the worker's Blender start-up never stalls the first frames."""
        if not self._ready:
            message = self._child.receive(timeout=0)
            self._ready = message is not None and message[0] == "ready"
        return self._ready

    def submit(self, key: int, spec: Any) -> None:
        """Hand ``spec`` over without waiting: a spec (meshes) is larger than a pipe's buffer, and
        the worker reads only between simulations, so it travels as a file and the pipe carries its
        name."""
        path = self._handoff / f"{key}.pickle"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps(spec, protocol=pickle.HIGHEST_PROTOCOL))
        tmp.replace(path)
        self._child.send(("spec", key, str(path)))
        self._pending.add(key)

    def result(self, key: int) -> dict[int, tuple[list[float], list[float]]]:
        """The settled poses of the spec submitted as ``key`` (waits for them)."""
        if key not in self._pending:
            raise KeyError(f"scene {key} was not submitted to the physics worker")
        while True:
            kind, done, payload = self._child.receive()
            self._pending.discard(done)
            if done != key:  # an answer for a scene the caller gave up on
                continue
            if kind == "error":
                raise payload
            return payload

    def close(self) -> None:
        try:
            self._child.send(("close", None, None))
        except RuntimeError:
            pass
        self._child.close()
        remove_scratch(self._handoff)


def main(argv: list[str] | None = None) -> int:
    """The physics worker: a Blender process that builds and simulates the specs it receives."""
    recv_conn, send_conn = helper_connections(argv)
    from simvision.render import runtime  # noqa: PLC0415
    from simvision.render.builder import SceneBuilder  # noqa: PLC0415

    with runtime.quiet():
        runtime.start("cpu", 1)  # no GPU: Bullet runs on one CPU thread
    import bpy  # noqa: PLC0415

    builder = SceneBuilder(bpy, runtime.blenderproc())
    # an exit code, not os._exit: the exit handlers remove this process's scratch folder
    try:
        send_conn.send(("ready", None, None))
        while True:
            try:
                kind, key, path = recv_conn.recv()
            except (EOFError, OSError):
                return 3  # the render process is gone
            if kind == "close":
                return 0
            try:
                spec = pickle.loads(Path(path).read_bytes())
                Path(path).unlink()
                with runtime.quiet():
                    built = builder.build(spec)
                reply = ("poses", key, built.settled)
            except BaseException as exc:  # noqa: BLE001 - reported to the render process
                reply = ("error", key, picklable(exc))
            send_conn.send(reply)
    except OSError:  # the render process closed our pipe: it stopped (Ctrl-C, an error) before reading us
        return 3


if __name__ == "__main__":
    sys.exit(main())
