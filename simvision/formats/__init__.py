"""Label formats: one reader and one writer per format, registered by name (see ``registry``).

Importing the package registers the built-in formats (each module registers its own). This package
imports only ``simvision.io``, ``simvision.config``, ``simvision.labels`` and third-party libraries.
"""

from simvision.formats import bop, coco, folder, kitti, simvision, yolo  # noqa: F401 - registers the built-ins
from simvision.formats.base import LabelFormat, LabelledImage
from simvision.formats.registry import (
    UnknownFormatError,
    detect_format,
    format_names,
    get_format,
    read_dataset,
    register,
    unknown_formats,
)

__all__ = [
    "LabelFormat",
    "LabelledImage",
    "UnknownFormatError",
    "detect_format",
    "format_names",
    "get_format",
    "read_dataset",
    "register",
    "unknown_formats",
]
