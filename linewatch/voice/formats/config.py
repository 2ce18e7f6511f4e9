"""voice.yaml ``sources`` and ``layouts``: where the CDRs are and how a configurable CSV layout reads them
(docs/cdr.md).

A *source* is one CDR file in one format (``asterisk``, ``freeswitch``, ``kamailio``, ``csv``); a *layout* says how
a CSV of another system — or a carrier's itemized call records — maps onto the call frame: which column holds which
field (by header name or 0-based index; a list of columns is joined with a space, e.g. a date and a time column),
how times are written and in which zone, and what the disposition column's values mean.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from linewatch.choices import CallDirection, CallOutcome, CdrFormat

_STRICT = ConfigDict(extra="forbid", frozen=True)

EPOCH = "epoch"  # time_format: seconds since 1970-01-01 UTC (decimals allowed)
ISO8601 = "iso8601"  # time_format: ISO 8601, with or without an offset (without: the layout's zone)


def _zone(v: str) -> str:
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {v!r} (an IANA name such as Europe/Berlin, or UTC)") from None
    return v


def _regex(v: str) -> str:
    try:
        re.compile(v)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None
    return v


TimeZoneName = Annotated[str, AfterValidator(_zone)]
Column = Annotated[str, Field(min_length=1)] | Annotated[int, Field(ge=0)]
ColumnRef = Column | Annotated[list[Column], Field(min_length=1)]


class LayoutColumns(BaseModel):
    """Which CSV column holds each call field: a header name, a 0-based index, or a list of them (joined with a
    space). ``start`` and ``callee`` are required, and ``end`` or ``duration_s``."""

    model_config = _STRICT
    call_id: ColumnRef | None = Field(default=None, description="the system's unique call id (call_key)")
    trunk: ColumnRef | None = Field(default=None, description="trunk / gateway / channel name (voice.yaml trunks)")
    line: ColumnRef | None = Field(default=None, description="an inventory line id written in the file")
    start: ColumnRef
    answer: ColumnRef | None = None
    end: ColumnRef | None = None
    duration_s: ColumnRef | None = Field(default=None, description="seconds from start to end")
    billsec_s: ColumnRef | None = Field(default=None, description="talk seconds (answer to end)")
    caller: ColumnRef | None = None
    callee: ColumnRef
    extension: ColumnRef | None = Field(default=None, description="the company's own party (default: caller "
                                                                   "when outbound, callee when inbound)")
    direction: ColumnRef | None = Field(default=None, description="values mapped by the layout's ``directions``")
    disposition: ColumnRef | None = Field(default=None, description="values mapped by the layout's ``outcomes``")
    sip_code: ColumnRef | None = None
    q850_cause: ColumnRef | None = None
    billed_s: ColumnRef | None = Field(default=None, description="itemized records: the carrier's billed seconds "
                                                                  "(frame column carrier_billed_s)")
    amount: ColumnRef | None = Field(default=None, description="itemized records: the carrier's charge "
                                                                "(frame column carrier_amount)")
    billed_class: ColumnRef | None = Field(default=None, description="itemized records: the carrier's destination "
                                                                      "class text (frame column carrier_class)")

    @model_validator(mode="after")
    def _end_or_duration(self) -> LayoutColumns:
        if self.end is None and self.duration_s is None:
            raise ValueError("give end or duration_s (a call needs its end)")
        return self

    def mapped(self) -> dict[str, ColumnRef]:
        """The fields that name a column, in declaration order."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class CsvLayout(BaseModel):
    """A CSV layout for a PBX without a built-in format, or a carrier's itemized call records."""

    model_config = _STRICT
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    quote: str = Field(default='"', min_length=1, max_length=1)
    encoding: str = Field(default="utf-8", description="the file's text encoding (e.g. cp1252, latin-1)")
    header: bool = Field(default=True, description="the file's first line names the columns")
    column_names: list[str] | None = Field(default=None, description="the columns' names when the file has no "
                                                                     "header line (then ``columns`` may use them)")
    columns: LayoutColumns
    time_format: str = Field(default="%Y-%m-%d %H:%M:%S", description="strftime codes, or 'epoch', or 'iso8601'")
    timezone: TimeZoneName | None = Field(default=None, description="zone of times without an offset (default: "
                                                                    "the source's timezone; UTC for itemized files)")
    decimal: str = Field(default=".", min_length=1, max_length=1, description="decimal mark of durations/amounts")
    outcomes: dict[str, CallOutcome] = Field(default_factory=dict, description="disposition value -> outcome "
                                                                               "(case-insensitive)")
    directions: dict[str, CallDirection] = Field(default_factory=dict, description="direction value -> direction "
                                                                                   "(case-insensitive; the "
                                                                                   "direction values themselves "
                                                                                   "are always understood)")
    default_direction: CallDirection = Field(default=CallDirection.OUTBOUND, description="without a direction "
                                                                                         "column")
    trunk: str | None = Field(default=None, description="the trunk of every row when there is no trunk column "
                                                        "(e.g. a carrier's itemized file of one trunk)")

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, v: str) -> str:
        import codecs

        try:
            codecs.lookup(v)
        except LookupError:
            raise ValueError(f"unknown text encoding {v!r}") from None
        return v

    @field_validator("time_format")
    @classmethod
    def _time_format(cls, v: str) -> str:
        if v not in (EPOCH, ISO8601) and "%" not in v:
            raise ValueError(f"time_format {v!r} has no strftime code (e.g. %Y-%m-%d %H:%M:%S), nor is it 'epoch' "
                             f"or 'iso8601'")
        return v

    @model_validator(mode="after")
    def _names_known(self) -> CsvLayout:
        names = [c for ref in self.columns.mapped().values() for c in (ref if isinstance(ref, list) else [ref])
                 if isinstance(c, str)]
        if names and not self.header and not self.column_names:
            raise ValueError(f"columns name header columns ({', '.join(names)}) but the layout has header: false "
                             f"and no column_names: give column_names or 0-based indexes")
        if self.column_names is not None:
            unknown = [n for n in names if n not in self.column_names]
            if unknown:
                raise ValueError(f"columns {', '.join(unknown)} are not in column_names")
        return self


class CdrSource(BaseModel):
    """One CDR file (or glob of rotated files) to tail or import, in one format."""

    model_config = _STRICT
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    format: CdrFormat
    path: Path = Field(description="the CDR file (tailed, rotation-safe); relative to voice.yaml")
    layout: str | None = Field(default=None, description="format csv: the name of a ``layouts`` entry")
    timezone: TimeZoneName = Field(default="UTC", description="zone of the times the PBX writes without an offset "
                                                              "(Asterisk writes local time unless usegmtime=yes)")
    extensions: Annotated[str, AfterValidator(_regex)] = Field(
        default=r"^[0-9]{2,6}$",
        description="a regular expression for the PBX's own endpoints (Asterisk channel peer names, FreeSWITCH "
                    "caller numbers): a party that is neither this nor a voice.yaml trunk is an unknown trunk")

    @model_validator(mode="after")
    def _layout_for_csv(self) -> CdrSource:
        if self.format is CdrFormat.CSV and not self.layout:
            raise ValueError(f"source {self.name!r} has format csv: name its layout (layout: <a layouts entry>)")
        if self.format is not CdrFormat.CSV and self.layout:
            raise ValueError(f"layout is for format csv, not {self.format.value} (remove layout)")
        return self
