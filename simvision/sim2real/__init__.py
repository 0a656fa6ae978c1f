"""Sim-to-real: train torchvision detectors on synthetic data, fine-tune on k real images, evaluate on
held-out real images (torchmetrics mAP, per-class AP, score calibration). Needs the ``ml`` extra."""

from simvision.formats import LabelledImage, read_dataset
from simvision.formats.classes import ClassMapping
from simvision.formats.coco import read_coco
from simvision.formats.folder import read_folder
from simvision.formats.kitti import read_kitti
from simvision.formats.simvision import read_simvision
from simvision.formats.yolo import read_yolo
from simvision.sim2real.ablation import AblationResult, Sim2RealRunner, ablation_table, load_data, run_ablation
from simvision.sim2real.calibration import detection_calibration, expected_calibration_error, match_detections
from simvision.sim2real.checkpoint import load_checkpoint, save_checkpoint
from simvision.sim2real.data import DetectionDataset, collate_detection, records_subset
from simvision.sim2real.engine import evaluate, fit, predict, train_one_epoch
from simvision.sim2real.models import build_detector

__all__ = [
    "AblationResult",
    "ClassMapping",
    "DetectionDataset",
    "LabelledImage",
    "Sim2RealRunner",
    "ablation_table",
    "build_detector",
    "collate_detection",
    "detection_calibration",
    "evaluate",
    "expected_calibration_error",
    "fit",
    "load_checkpoint",
    "load_data",
    "match_detections",
    "predict",
    "read_coco",
    "read_dataset",
    "read_folder",
    "read_kitti",
    "read_simvision",
    "read_yolo",
    "records_subset",
    "run_ablation",
    "save_checkpoint",
    "train_one_epoch",
]
