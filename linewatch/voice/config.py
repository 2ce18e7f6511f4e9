"""``voice.yaml``: CDR sources and layouts, trunk mapping, numbering, rate plans, live concurrency (docs/voice.md).

Parsed once, strictly, into :class:`VoiceConfig`; the sections' models live with their owners
(``formats/config.py``, ``numbering.py``, ``rateplan.py``). Cross-file rules (a trunk mapped to an unknown line or
a line that is not a voice trunk, a line's ``rate_plan`` not defined here, a csv source naming an unknown layout)
are reported with the file line.

Owner: the pipeline part. A skeleton: the fields below are the contract; the owner completes it.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from linewatch.choices import LiveSourceKind
from linewatch.errors import Problem
from linewatch.settings import Settings
from linewatch.voice.formats.config import CdrSource, CsvLayout
from linewatch.voice.numbering import NumberingConfig
from linewatch.voice.rateplan import RatePlan

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
    """A PBX polled every collector cycle for its active calls."""

    model_config = _STRICT
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    kind: LiveSourceKind
    url: str = Field(pattern=r"^https?://[^/\s]+", description="e.g. http://127.0.0.1:5071/RPC")
    timeout_s: float = Field(default=2.0, gt=0, le=60)


class VoiceConfig(BaseModel):
    model_config = _STRICT
    store_path: Path | None = Field(default=None, description="the call store (SQLite); state_dir/calls.sqlite")
    sources: list[CdrSource] = Field(default_factory=list)
    layouts: list[CsvLayout] = Field(default_factory=list)
    trunks: list[TrunkMap] = Field(default_factory=list)
    numbering: NumberingConfig = Field(default_factory=NumberingConfig)
    rate_plans: list[RatePlan] = Field(default_factory=list)
    live: list[LiveSource] = Field(default_factory=list)
    extensions: Path | None = Field(default=None, description="the extension directory CSV (when the app is not "
                                                              "the inventory source); relative to voice.yaml")


def voice_path(settings: Settings) -> Path:
    return settings.resolve(settings.voice_path)


def check_config(settings: Settings) -> list[Problem]:
    """Every problem of voice.yaml (``linewatch check-config``)."""
    return []
