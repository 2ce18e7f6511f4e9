"""``voice.yaml``: CDR sources and layouts, trunk mapping, numbering, rate plans, live concurrency (docs/voice.md).

Parsed once, strictly, into :class:`VoiceConfig`; the sections' models live with their owners
(``formats/config.py``, ``numbering.py``, ``rateplan.py``). Cross-file rules (a trunk mapped to an unknown line or
a line that is not a voice trunk, a line's ``rate_plan`` not defined here, a csv source naming an unknown layout)
are reported with the file line.

Relative paths (``store_path``, ``sources[].path``, ``extensions``) are relative to voice.yaml and made absolute
by :func:`load_voice_config`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from linewatch.choices import LineType, LiveSourceKind
from linewatch.errors import ConfigError, LinewatchError, Problem
from linewatch.inventory import Inventory, Line
from linewatch.settings import Settings
from linewatch.urls import check_http_url
from linewatch.voice.formats.config import CdrSource, CsvLayout
from linewatch.voice.numbering import NumberingConfig
from linewatch.voice.rateplan import RatePlan
from linewatch.yamlconf import Located, dotted, load_model

_STRICT = ConfigDict(extra="forbid", frozen=True)


class TrunkMap(BaseModel):
    """CDRs whose trunk (channel, gateway) matches ``match`` (a glob, e.g. ``PJSIP/dtag-*``) belong to ``line``."""

    model_config = _STRICT
    match: str = Field(min_length=1)
    line: str = Field(min_length=1)
    source: str | None = Field(default=None, description="only CDRs of this source (default: every source)")
    country_code: str | None = Field(default=None, pattern=r"^[1-9][0-9]{0,2}$",
                                     description="the trunk's country, for national numbers (default: numbering's)")


class LiveSource(BaseModel):
    """A PBX polled every collector cycle for its active calls (``voice_live``, docs/voice.md).

    ``kamailio_jsonrpc``: ``dlg.stats_active`` gives the calls in progress; with ``profile`` and ``trunks``, each
    trunk's count is ``dlg.profile_get_size`` of that dialog profile for the trunk's value (the Kamailio config
    sets the profile ``trunk`` to the trunk name on each call).
    """

    model_config = _STRICT
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: LiveSourceKind
    url: Annotated[str, AfterValidator(check_http_url)] = Field(description="e.g. http://127.0.0.1:15060/RPC")
    timeout_s: float = Field(default=2.0, gt=0, le=60)
    profile: str | None = Field(default="trunk", min_length=1,
                                description="the dialog profile (with value) counting each trunk's calls")
    trunks: dict[str, str] = Field(default_factory=dict,
                                   description="profile value (the trunk name) -> inventory voice line")


class CapacityConfig(BaseModel):
    """Capacity planning (``voice_capacity``, the savings proposals): the grade of service a trunk is sized for."""

    model_config = _STRICT
    target_gos_pct: float = Field(default=1.0, gt=0, lt=100,
                                  description="blocking probability (Erlang B) a trunk is sized for, in percent")

    @property
    def target_gos(self) -> float:
        """The target as a fraction (0.01 for 1 %)."""
        return self.target_gos_pct / 100.0


class VoiceConfig(BaseModel):
    """The whole ``voice.yaml``. Loaded by :func:`load_voice_config`, relative paths made absolute."""

    model_config = _STRICT
    store_path: Path | None = Field(default=None, description="the call store (SQLite); state_dir/calls.sqlite")
    sources: list[CdrSource] = Field(default_factory=list)
    layouts: list[CsvLayout] = Field(default_factory=list)
    trunks: list[TrunkMap] = Field(default_factory=list)
    numbering: NumberingConfig = Field(default_factory=NumberingConfig)
    rate_plans: list[RatePlan] = Field(default_factory=list)
    live: list[LiveSource] = Field(default_factory=list)
    capacity: CapacityConfig = Field(default_factory=CapacityConfig)
    extensions: Path | None = Field(default=None, description="the extension directory CSV (when the app is not "
                                                              "the inventory source); relative to voice.yaml")

    def source(self, name: str) -> CdrSource | None:
        return next((s for s in self.sources if s.name == name), None)

    def layout(self, name: str | None) -> CsvLayout | None:
        return next((layout for layout in self.layouts if layout.name == name), None) if name else None

    def rate_plan(self, name: str | None) -> RatePlan | None:
        return next((p for p in self.rate_plans if p.name == name), None) if name else None


def voice_path(settings: Settings) -> Path:
    return settings.resolve(settings.voice_path)


def voice_lines(inventory: Inventory) -> dict[str, Line]:
    """The inventory's voice trunks by id: the lines the voice measurements are about."""
    return {line.id: line for line in inventory.lines if line.type is LineType.VOICE_TRUNK}


def _duplicates(problem: Callable[[tuple[str | int, ...], str], None], section: str,
                names: Sequence[str]) -> None:
    first: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in first:
            problem((section, i, "name"), f"duplicate name {name!r} (first at {section}[{first[name]}])")
        first.setdefault(name, i)


def cross_check(cfg: VoiceConfig, inventory: Inventory | None, located: Located | None) -> list[Problem]:
    """Rules across voice.yaml's sections and the inventory, each problem at its voice.yaml line."""
    problems: list[Problem] = []

    def problem(path: tuple[str | int, ...], reason: str) -> None:
        problems.append(located.problem(path, reason) if located is not None
                        else Problem("voice.yaml", None, dotted(path), reason))

    _duplicates(problem, "sources", [s.name for s in cfg.sources])
    _duplicates(problem, "layouts", [layout.name for layout in cfg.layouts])
    _duplicates(problem, "rate_plans", [p.name for p in cfg.rate_plans])
    _duplicates(problem, "live", [s.name for s in cfg.live])
    layouts = {layout.name for layout in cfg.layouts}
    for i, source in enumerate(cfg.sources):
        if source.layout and source.layout not in layouts:
            problem(("sources", i, "layout"), f"unknown layout {source.layout!r} (layouts: "
                                              f"{', '.join(sorted(layouts)) or 'none defined'})")
    sources = {s.name for s in cfg.sources}
    for i, trunk in enumerate(cfg.trunks):
        if trunk.source is not None and trunk.source not in sources:
            problem(("trunks", i, "source"), f"unknown source {trunk.source!r}")
    if inventory is None:
        return problems
    lines = inventory.lines_by_id
    voice = voice_lines(inventory)

    def check_line(path: tuple[str | int, ...], line_id: str) -> None:
        if line_id not in lines:
            problem(path, f"unknown line {line_id!r} (voice trunks: {', '.join(sorted(voice)) or 'none'})")
        elif line_id not in voice:
            problem(path, f"line {line_id!r} is a {lines[line_id].type.value} line, not a voice_trunk")

    for i, trunk in enumerate(cfg.trunks):
        check_line(("trunks", i, "line"), trunk.line)
    for i, live in enumerate(cfg.live):
        for value, line_id in live.trunks.items():
            check_line(("live", i, "trunks", value), line_id)
    plans = {p.name for p in cfg.rate_plans}
    for line in voice.values():
        if line.rate_plan is not None and line.rate_plan not in plans:
            problem(("rate_plans",), f"line {line.id} (inventory) uses rate plan {line.rate_plan!r}, which is not "
                                     f"defined here (rate plans: {', '.join(sorted(plans)) or 'none'})")
    return problems


def _resolved(cfg: VoiceConfig, base: Path) -> VoiceConfig:
    """``cfg`` with its relative paths made relative to ``base`` (voice.yaml's folder)."""

    def rel(path: Path | None) -> Path | None:
        return path if path is None or path.is_absolute() else base / path

    sources = [s.model_copy(update={"path": rel(s.path)}) for s in cfg.sources]
    return cfg.model_copy(update={"store_path": rel(cfg.store_path), "extensions": rel(cfg.extensions),
                                  "sources": sources})


def load_voice_file(path: Path | str, inventory: Inventory | None = None) -> VoiceConfig:
    """Load one voice.yaml (paths made absolute); with ``inventory``, cross-check it. ConfigError lists every
    problem with its line."""
    path = Path(path)
    cfg, located = load_model(path, VoiceConfig)
    problems = cross_check(cfg, inventory, located)
    if problems:
        raise ConfigError(problems)
    return _resolved(cfg, path.resolve().parent)


def load_voice_config(settings: Settings, inventory: Inventory | None = None) -> VoiceConfig:
    """The configured voice.yaml (``settings.voice_path``; defaults when the file does not exist), cross-checked
    against ``inventory`` when given. Raises ConfigError naming every problem."""
    path = voice_path(settings)
    if not path.exists():
        if "voice_path" in settings.model_fields_set:
            raise ConfigError([Problem(str(path), None, "", "file not found")])
        return VoiceConfig()
    return load_voice_file(path, inventory)


def check_config(settings: Settings) -> list[Problem]:
    """Every problem of voice.yaml (``linewatch check-config``), against the configured inventory."""
    from linewatch.inventory_source import load_configured_inventory

    try:
        inventory = load_configured_inventory(settings)
    except LinewatchError:
        inventory = None  # the inventory's own problems are reported by its checker
    try:
        cfg = load_voice_config(settings, inventory)
    except ConfigError as exc:
        return exc.problems
    problems = []
    if cfg.extensions is not None and not cfg.extensions.exists():
        problems.append(Problem(str(voice_path(settings)), None, "extensions", f"file not found: {cfg.extensions}"))
    return problems
