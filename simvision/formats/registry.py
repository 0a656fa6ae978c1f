"""The one list of label formats, and the read entry point the gap and sim2real tools share.

Built-in formats register themselves when ``simvision.formats`` is imported. A name that is not
registered but contains a dot is imported as ``package.module.ClassOrInstance``, so a format defined
in a user's module works in every ``formats`` / ``format`` field without being registered.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from simvision.formats.base import LabelFormat, LabelledImage

__all__ = [
    "UnknownFormatError",
    "detect_format",
    "format_names",
    "get_format",
    "read_dataset",
    "register",
    "unknown_formats",
]

_FORMATS: dict[str, LabelFormat] = {}


class UnknownFormatError(ValueError):
    """A format name that is neither registered nor an importable ``LabelFormat``; the message is one line."""


def register(fmt: LabelFormat) -> LabelFormat:
    """Make ``fmt`` known by ``fmt.name``; a second, different format under the same name is an error."""
    if not fmt.name:
        raise ValueError(f"{type(fmt).__qualname__}: a format needs a name")
    known = _FORMATS.get(fmt.name)
    if known is not None and known is not fmt:
        raise ValueError(f"format {fmt.name!r} is already registered ({type(known).__qualname__})")
    _FORMATS[fmt.name] = fmt
    return fmt


def format_names() -> list[str]:
    """Registered format names, sorted."""
    return sorted(_FORMATS)


def _unknown(name: str, reason: str = "") -> UnknownFormatError:
    why = f" ({reason.splitlines()[0]})" if reason else ""
    return UnknownFormatError(
        f"unknown format {name!r}{why}; choose from {', '.join(format_names())} or a dotted path package.module.Format"
    )


def _import_format(path: str) -> LabelFormat:
    module_name, _, attr = path.rpartition(".")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise _unknown(path, str(exc)) from None
    fmt = obj() if isinstance(obj, type) and issubclass(obj, LabelFormat) else obj
    if not isinstance(fmt, LabelFormat):
        raise _unknown(path, "not a LabelFormat subclass or instance")
    return fmt


def get_format(name: str) -> LabelFormat:
    """The registered format ``name``, else the ``LabelFormat`` class or instance at dotted path ``name``."""
    if name in _FORMATS:
        return _FORMATS[name]
    if "." in name:
        return _import_format(name)
    raise _unknown(name)


def unknown_formats(names: Iterable[str]) -> list[str]:
    """The names among ``names`` that ``get_format`` cannot resolve, in order."""
    bad = []
    for name in names:
        try:
            get_format(name)
        except UnknownFormatError:
            bad.append(name)
    return bad


def detect_format(path: str | Path) -> str:
    """Guess a format from the layout on disk; explicit ``format=`` always wins over this."""
    for fmt in sorted(_FORMATS.values(), key=lambda f: f.detect_order):
        if fmt.detect(path):
            return fmt.name
    raise UnknownFormatError(f"{path}: no registered format recognises this layout; give the format explicitly")


def read_dataset(path: str | Path, format: str = "auto", **options: Any) -> list[LabelledImage]:
    """Records of the labelled set at ``path`` in ``format`` (detected when ``auto``).

    ``options`` go to the format's reader (``labels``, ``names``; for COCO ``path`` may be the image root
    with ``annotations`` pointing at the JSON, which is then what detection looks at).
    """
    fmt = detect_format(options.get("annotations") or path) if format == "auto" else format
    return get_format(fmt).read(path, **options)
