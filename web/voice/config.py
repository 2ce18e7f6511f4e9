"""voice.yaml as the application reads it (``settings.LINEWATCH.voice_path``): loaded once per change of the file,
strictly, by the core's own loader. The pages show its rate plans and capacity target; the line form and the API
check a voice line's ``rate_plan`` against it."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from linewatch.errors import ConfigError
from linewatch.voice.config import VoiceConfig, voice_path

log = logging.getLogger(__name__)
DEFAULT_GOS = 0.01  # the target grade of service when voice.yaml sets none (contracts §capacity)


@dataclass(frozen=True)
class Loaded:
    config: VoiceConfig | None
    path: Path
    error: str | None = None  # why the file could not be used (shown on the pages, never a secret)


_cache: dict[Path, tuple[tuple[int, int], Loaded]] = {}
_lock = threading.Lock()


def _load(path: Path) -> VoiceConfig:
    from linewatch.voice import config as core

    loader = getattr(core, "load_voice_config", None)
    if loader is not None:
        return loader(settings.LINEWATCH)
    from linewatch.yamlconf import load_model

    return load_model(path, VoiceConfig)[0]


def voice() -> Loaded:
    """voice.yaml, re-read when its modification time or size changes; a missing or invalid file gives
    ``config=None`` and the reason."""
    path = voice_path(settings.LINEWATCH)
    try:
        stat = path.stat()
    except OSError:
        return Loaded(None, path, _("%(path)s does not exist") % {"path": path})
    key = (stat.st_mtime_ns, stat.st_size)
    with _lock:
        cached = _cache.get(path)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            loaded = Loaded(_load(path), path)
        except ConfigError as exc:
            log.warning("voice.yaml %s: %s", path, exc)
            loaded = Loaded(None, path, str(exc.problems[0]) if exc.problems else str(exc))
        except (OSError, ValueError) as exc:
            log.warning("voice.yaml %s: %s", path, exc)
            loaded = Loaded(None, path, str(exc))
        _cache[path] = (key, loaded)
        return loaded


def rate_plans() -> list[Any]:
    loaded = voice()
    return list(loaded.config.rate_plans) if loaded.config is not None else []


def target_gos() -> float:
    """The capacity target as a probability (voice.yaml ``capacity.target_gos_pct`` / 100; 1 % by default)."""
    loaded = voice()
    capacity = getattr(loaded.config, "capacity", None)
    pct = getattr(capacity, "target_gos_pct", None)
    return float(pct) / 100 if pct else DEFAULT_GOS


def rate_plan_problem(name: str) -> str | None:
    """Why ``name`` cannot be a voice line's rate plan (None: a plan of voice.yaml)."""
    if not name:
        return None
    loaded = voice()
    if loaded.config is None:
        return _("voice.yaml cannot be read, so the rate plan cannot be checked: %(reason)s") % {
            "reason": loaded.error}
    names = [p.name for p in loaded.config.rate_plans]
    if name in names:
        return None
    return _("no rate plan %(name)s in %(path)s (its plans: %(names)s)") % {
        "name": name, "path": loaded.path.name, "names": ", ".join(names) or _("none")}
