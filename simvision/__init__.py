"""simvision: labelled synthetic images for perception."""

__version__ = "0.1.0"
