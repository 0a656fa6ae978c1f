"""The bottom layer: atomic writes, checksums and the dataset folder layout (imports nothing of simvision)."""
