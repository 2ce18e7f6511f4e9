"""The demo's extension directory (``web/demo.py`` prepare): ``config/extensions.csv`` (voice.yaml ``extensions``)
imported into an empty directory — Frankfurt 3100–3149 Sales, 3150–3199 Engineering; Paris 4100–4129 Operations,
4130–4139 Finance. A department the file names that the inventory lacks is created first (the demo inventory has
no Finance department: only its lines' departments)."""

from __future__ import annotations

from pathlib import Path

from linewatch.voice.directory import read_directory
from web.inventory.models import Department
from web.voice.config import voice
from web.voice.directory import ImportResult, import_extensions
from web.voice.models import Extension

DEFAULT_FILE = "extensions.csv"


def directory_file() -> Path:
    """voice.yaml ``extensions``, else ``extensions.csv`` beside voice.yaml."""
    loaded = voice()
    if loaded.config is not None and loaded.config.extensions is not None:
        path = loaded.config.extensions
        return path if path.is_absolute() else loaded.path.parent / path
    return loaded.path.parent / DEFAULT_FILE


def seed(path: Path | None = None) -> ImportResult | None:
    """Import the demo directory (None when the directory has entries already or the file is missing: later
    starts keep what was changed in the application)."""
    path = path or directory_file()
    if Extension.objects.exists() or not path.exists():
        return None
    for entry in read_directory(path).entries:
        Department.objects.get_or_create(name=entry.department)
    return import_extensions(path.read_bytes(), file=path.name)
