"""Labels and files of rendered scenes, written inline or by a writer process beside the renderer.

The render loop hands every rendered scene (plain numpy: the passes, the scene spec, the final
poses) to a :class:`FrameSink`. :class:`InlineSink` labels and writes it at once;
:class:`ProcessSink` ships it to a child process that labels and writes while the parent builds
and renders the next scene, so label derivation and file I/O leave the render's critical path.

Why a process and not a thread: Blender's operators (``bpy.ops``, used by BlenderProc for rigid
bodies, origins and the render itself) swap Python thread states; another Python thread running
at that moment crashes the interpreter (measured: a segfault inside
``bpy.ops.rigidbody.object_add`` with a numpy-only thread running). The child never imports
``bpy``; it talks to the parent over two pipes, with no helper threads on the parent's side
(:mod:`simvision.childproc`).

Crash safety is unchanged: the child writes each file atomically and then the frame's manifest
line, exactly as the inline path does; it dies with its parent and stops at once if the parent's
pipe closes, so a killed job never leaves a writer behind.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from simvision.childproc import HelperProcess, HelperProcessError, helper_connections, picklable
from simvision.io.atomic import atomic_write_json
from simvision.io.folder import frame_labels_path, frame_stem
from simvision.io.frames import MetadataLog, labels_sha256, write_frame_files
from simvision.labels.derive import add_amodal_records, coco_annotations, label_objects

# at most this many rendered scenes wait for the writer; the renderer blocks beyond it
QUEUE_DEPTH = 1
STARTUP_TIMEOUT_S = 120.0


class WriterProcessError(HelperProcessError):
    """The writer process could not start."""


@dataclass
class RenderedScene:
    """One scene's render, handed from the render loop to the writer (plain numpy, no Blender).

    ``final_rgb`` marks frames whose colours are already final (polished in the render process);
    otherwise the writer applies the scene's camera effects.
    """

    scene_index: int
    seed: list[int]
    frames: list[int]
    spec: Any
    poses_world: dict[int, np.ndarray]
    views: list[Any]
    polish_records: dict[int, dict[str, Any]] | None = None
    final_rgb: bool = False


def output_settings(output_cfg: Any) -> dict[str, Any]:
    """The output options the writer needs, as plain data (sent to the writer process)."""
    return {
        "depth_png": bool(output_cfg.depth_png),
        "write_instance": bool(output_cfg.write_instance),
        "write_semantic": bool(output_cfg.write_semantic),
        "normals": bool(output_cfg.get("normals", False)),
        "amodal": bool(output_cfg.get("amodal", False)),
    }


class ShardWriter:
    """Writes the frames of one shard: files, a COCO sidecar per frame, then the manifest line."""

    def __init__(self, out: Path, output: dict[str, Any]) -> None:
        self.out = out
        self.output = SimpleNamespace(**output)
        self.metadata = MetadataLog(out / "metadata" / "frames.jsonl")

    def write(
        self,
        frame_id: int,
        view: Any,
        rgb: np.ndarray,
        image: dict[str, Any],
        annotations: list[dict[str, Any]],
        record: dict[str, Any],
    ) -> None:
        normals = getattr(view, "normals", None) if getattr(self.output, "normals", False) else None
        files, checksums = write_frame_files(
            self.out, frame_id, rgb, view.depth, view.instance, view.semantic, self.output, normals
        )
        atomic_write_json(frame_labels_path(self.out, frame_id), {"image": image, "annotations": annotations})
        checksums["labels"] = labels_sha256(image, annotations)
        self.metadata.append({**record, "files": files, "checksums": checksums})  # commits the frame

    def close(self) -> None:
        self.metadata.close()


class SceneLabeller:
    """Labels, metadata record and files for the unfinished frames of one rendered scene."""

    def __init__(self, writer: ShardWriter, job: WriterJob) -> None:
        self.writer = writer
        self.finished = job.finished
        self.shard_index = job.shard_index
        self.render_info = job.render_info
        self.config_sha256 = job.config_sha256
        self.colours = job.colours
        self.amodal = bool(job.output.get("amodal", False))

    def __call__(self, rendered: RenderedScene, on_frame: Any) -> None:
        """Write every unfinished frame; ``on_frame(frame_id, labels_s, write_s)`` after each one."""
        spec, seed = rendered.spec, rendered.seed
        scene_record = spec.record()
        for cam_index, (frame_id, camera, view) in enumerate(
            zip(rendered.frames, spec.cameras, rendered.views, strict=True)
        ):
            if frame_id in self.finished:
                continue
            t0 = time.perf_counter()
            K = np.asarray(camera.K)
            world_to_cam = np.linalg.inv(np.asarray(camera.cam_to_world))
            labels = label_objects(spec.objects, rendered.poses_world, view.instance, K, world_to_cam)
            if self.amodal:
                add_amodal_records(labels)
            annotations = coco_annotations(labels, frame_id, amodal=self.amodal)
            rgb = view.rgb if rendered.final_rgb else self.colours(spec, seed, cam_index, view)
            t1 = time.perf_counter()
            record = self.frame_record(rendered, scene_record, cam_index, frame_id, camera, world_to_cam, labels)
            if rendered.polish_records and frame_id in rendered.polish_records:
                record["polish"] = rendered.polish_records[frame_id]
            image = {
                "id": frame_id,
                "file_name": record["file_name"],
                "width": camera.width,
                "height": camera.height,
                "conditions": spec.conditions,
            }
            self.writer.write(frame_id, view, rgb, image, annotations, record)
            on_frame(frame_id, t1 - t0, time.perf_counter() - t1)

    def frame_record(
        self,
        rendered: RenderedScene,
        scene_record: dict[str, Any],
        cam_index: int,
        frame_id: int,
        camera: Any,
        world_to_cam: np.ndarray,
        labels: list[Any],
    ) -> dict[str, Any]:
        """The frame's metadata line: every sampled value of the scene and camera, and its labels."""
        spec = rendered.spec
        by_instance = {lab.record["instance_id"]: lab.record for lab in labels}
        objects = []
        for index, (obj, sampled) in enumerate(zip(spec.objects, scene_record["objects"], strict=True)):
            entry = {**sampled, "pose_world": rendered.poses_world[index].tolist()}
            if obj.instance_id > 0:
                entry.update(by_instance[obj.instance_id])
            objects.append(entry)
        return {
            "frame_id": frame_id,
            "file_name": f"images/{frame_stem(frame_id)}.png",
            "seed": rendered.seed,
            "scene_index": rendered.scene_index,
            "camera_index": cam_index,
            "shard": self.shard_index,
            "conditions": spec.conditions,
            "camera": {
                "K": camera.K,
                "width": camera.width,
                "height": camera.height,
                "cam_to_world": camera.cam_to_world,
                "world_to_cam": world_to_cam.tolist(),
                "sampled": camera.sampled,
            },
            "objects": objects,
            "lights": scene_record["lights"],
            "background": scene_record["background"],
            "container": scene_record["container"],
            "scenery": scene_record["scenery"],
            "physics": scene_record["physics"],
            "render": self.render_info,
            "config_sha256": self.config_sha256,  # the folder's identity, frame by frame
        }


@dataclass
class WriterJob:
    """What a sink needs to write a shard's frames.

    ``colours(spec, seed, cam_index, view) -> rgb`` turns a rendered view into the frame's final
    colours (the camera effects); it is handed in by the render job, a module-level function so it
    pickles by reference into the writer process. ``config_sha256`` is the job config's fingerprint,
    recorded in every manifest line.
    """

    out: Path
    output: dict[str, Any]
    finished: set[int]
    shard_index: int
    render_info: dict[str, Any]
    colours: Callable[[Any, list[int], int, Any], np.ndarray]
    config_sha256: str


class FrameSink:
    """Where the render loop puts rendered scenes. ``on_frame(frame_id, labels_s, write_s)`` is
    called in the render process for every frame once it is committed."""

    def __init__(self, on_frame: Any) -> None:
        self.on_frame = on_frame
        self.wait_seconds = 0.0  # time the render loop spent blocked on the writer

    def start(self, job: WriterJob) -> None:
        raise NotImplementedError

    def submit(self, rendered: RenderedScene) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Finish every submitted scene; raise the writer's first error."""
        raise NotImplementedError


class InlineSink(FrameSink):
    """Labels and writes each scene in the render process before the next scene is built."""

    def start(self, job: WriterJob) -> None:
        self._writer = ShardWriter(job.out, job.output)
        self._labeller = SceneLabeller(self._writer, job)

    def submit(self, rendered: RenderedScene) -> None:
        self._labeller(rendered, self.on_frame)

    def close(self) -> None:
        if hasattr(self, "_writer"):
            self._writer.close()


class ProcessSink(FrameSink):
    """Labels and writes in a child process, at most :data:`QUEUE_DEPTH` scenes behind the renderer.

    The child is spawned by :meth:`prepare` (before Blender starts, so the two start-ups overlap)
    and receives the job with :meth:`start`. The child's first error is raised here at the next
    ``submit`` or at ``close``; scenes after it are dropped (their frames are not committed, so a
    rerun redoes them).
    """

    def __init__(self, on_frame: Any) -> None:
        super().__init__(on_frame)
        self._child: HelperProcess | None = None
        self._outstanding = 0
        self._closed = False
        self._error: BaseException | None = None

    def prepare(self) -> None:
        self._child = HelperProcess("simvision.dataset.shard_writer", "writer process")

    def start(self, job: WriterJob) -> None:
        if self._child is None:
            self.prepare()
        assert self._child is not None
        self._child.send(("job", job))
        message = self._child.receive(timeout=STARTUP_TIMEOUT_S)
        if message is None:
            raise WriterProcessError(f"the writer process did not start within {STARTUP_TIMEOUT_S:.0f} s")
        if message[0] == "error":
            raise message[1]

    def _receive(self, timeout: float | None) -> bool:
        """Handle one message from the child; False if none arrived within ``timeout``."""
        assert self._child is not None
        message = self._child.receive(timeout)
        if message is None:
            return False
        kind = message[0]
        if kind == "frame":
            self.on_frame(*message[1:])
        elif kind == "scene":
            self._outstanding -= 1
        elif kind == "error" and self._error is None:
            self._error = message[1]
        elif kind == "closed":
            self._closed = True
        return True

    def _raise(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def submit(self, rendered: RenderedScene) -> None:
        assert self._child is not None
        while self._receive(timeout=0):  # progress of earlier scenes
            pass
        self._raise()
        t0 = time.perf_counter()
        while self._outstanding >= QUEUE_DEPTH + 1:  # one being written + QUEUE_DEPTH waiting
            self._receive(timeout=None)
        self.wait_seconds += time.perf_counter() - t0
        self._raise()
        self._child.send(("scene", rendered))
        self._outstanding += 1

    def close(self) -> None:
        if self._child is None:
            return
        t0 = time.perf_counter()
        try:
            self._child.send(("close",))
            while not self._closed:
                self._receive(timeout=None)  # progress, acknowledgements, then "closed"
        except HelperProcessError:
            if self._error is None:
                raise
        finally:
            self.wait_seconds += time.perf_counter() - t0
            self._child.close()
        self._raise()


def make_sink(background: bool, on_frame: Any) -> FrameSink:
    """A :class:`ProcessSink` (output.background_writes=true) or an :class:`InlineSink`."""
    if background:
        sink = ProcessSink(on_frame)
        sink.prepare()
        return sink
    return InlineSink(on_frame)


# -- the writer process ---------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    """The writer process: receives the job, then scenes; labels and writes them in order."""
    recv_conn, send_conn = helper_connections(argv)
    parent = os.getppid()
    inbox: queue.Queue[Any] = queue.Queue()

    def reader() -> None:  # receives eagerly so the parent's send never waits on our writing
        while True:
            try:
                inbox.put(recv_conn.recv())
            except (EOFError, OSError):
                inbox.put(None)  # the parent is gone
                return

    threading.Thread(target=reader, name="simvision-writer-inbox", daemon=True).start()
    labeller: SceneLabeller | None = None
    writer: ShardWriter | None = None
    failed = False
    try:
        while True:
            message = inbox.get()
            if message is None or os.getppid() != parent:
                os._exit(3)  # parent killed: stop at once, its rerun redoes what is missing
            kind = message[0]
            if kind == "job":
                job: WriterJob = message[1]
                try:
                    writer = ShardWriter(job.out, job.output)
                    labeller = SceneLabeller(writer, job)
                except BaseException as exc:  # noqa: BLE001 - reported to the parent
                    send_conn.send(("error", picklable(exc)))
                    failed = True
                    continue
                send_conn.send(("ready",))
            elif kind == "scene":
                rendered: RenderedScene = message[1]
                if not failed and labeller is not None:
                    try:
                        labeller(rendered, lambda *frame: send_conn.send(("frame", *frame)))
                    except BaseException as exc:  # noqa: BLE001 - reported to the parent
                        failed = True
                        send_conn.send(("error", picklable(exc)))
                send_conn.send(("scene", rendered.scene_index))
            elif kind == "close":
                break
    finally:
        if writer is not None:
            writer.close()
    send_conn.send(("closed",))
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = [
    "FrameSink",
    "InlineSink",
    "ProcessSink",
    "RenderedScene",
    "SceneLabeller",
    "ShardWriter",
    "WriterJob",
    "WriterProcessError",
    "make_sink",
    "output_settings",
]
