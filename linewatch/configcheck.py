"""``linewatch check-config``: validate every configuration file and report each problem with file, line and key."""

from __future__ import annotations

from pathlib import Path

from linewatch.choices import InventorySource
from linewatch.errors import ConfigError, LinewatchError, Problem
from linewatch.inventory import load_inventory
from linewatch.plugins import load
from linewatch.settings import Settings, load_settings

# Each area registers the settings field naming its file and one "module:function" taking Settings and returning
# its problems. An area whose file is missing is skipped with a note, unless the settings name the file explicitly.
CHECKERS: list[tuple[str, str]] = [
    ("inventory_path", "linewatch.configcheck:check_inventory"),
    ("alerts_path", "alerting.config:check_config"),
    ("carriers_path", "billing_etl.config:check_config"),
    ("flows_path", "collector.flows.config:check_config"),
    ("voice_path", "linewatch.voice.config:check_config"),
]


def check_inventory(settings: Settings) -> list[Problem]:
    if settings.inventory.source is InventorySource.HTTP:
        return _check_inventory_url(settings)
    try:
        load_inventory(settings.resolve(settings.inventory_path))
    except ConfigError as exc:
        return exc.problems
    return []


def _check_inventory_url(settings: Settings) -> list[Problem]:
    """``inventory.source: http``: the application answers and its document validates (lines.yaml is not read)."""
    from linewatch.inventory_source import InventorySource as Source

    source = Source(settings)
    try:
        source.current()
    except ConfigError as exc:
        return exc.problems
    except LinewatchError as exc:
        return [Problem(str(settings.config_file or ""), None, "inventory.url", str(exc))]
    if source.failures:
        return [Problem(str(settings.config_file or ""), None, "inventory.url",
                        f"{source.last_failure}; the consumers would use the last good copy {source.cache_path}")]
    return []


def check_all(config: Path | str | None = None, *, notes: list[str] | None = None) -> list[Problem]:
    """Every problem in the settings file and every file it points to; ``notes`` collects what was skipped."""
    try:
        settings = load_settings(config)
    except ConfigError as exc:
        return exc.problems
    problems: list[Problem] = []
    for field, spec in CHECKERS:
        path = settings.resolve(getattr(settings, field))
        if not path.exists() and field not in settings.model_fields_set and field != "inventory_path":
            if notes is not None:
                notes.append(f"{path} not found: {field.removesuffix('_path')} not configured, skipped")
            continue
        checker = load(spec, optional=True)
        if checker is not None:
            problems.extend(checker(settings))
    # Areas that read the inventory report its problems too: each problem once.
    return list(dict.fromkeys(problems))
