"""Dataset-level tooling: atomic files, merge, validate, dataset card, previews."""
