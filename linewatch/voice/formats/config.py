"""voice.yaml ``sources`` and ``layouts``: where the CDRs are and how a configurable CSV layout reads them.

Owner: the CDR-sources part (docs/cdr.md). A skeleton: the fields below are the contract; the owner completes them.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from linewatch.choices import CdrFormat

_STRICT = ConfigDict(extra="forbid", frozen=True)


class CsvLayout(BaseModel):
    """A CSV layout for a PBX without a built-in format, or a carrier's itemized call records."""

    model_config = _STRICT
    name: str = Field(min_length=1)


class CdrSource(BaseModel):
    """One CDR file (or glob of rotated files) to tail or import, in one format."""

    model_config = _STRICT
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    format: CdrFormat
    path: Path = Field(description="the CDR file (tailed, rotation-safe); relative to voice.yaml")
    layout: str | None = Field(default=None, description="format csv: the name of a ``layouts`` entry")
    timezone: str = Field(default="UTC", description="zone of the times the PBX writes without an offset")
