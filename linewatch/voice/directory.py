"""The extension directory (내선 번호부): which department (and cost centre) each extension belongs to, so a call's
cost can be charged to the department that made it (docs/voice.md "Extension directory").

An entry's ``number`` is an extension as the PBX writes it (``3101``), or a **prefix range** ending in ``*``
(``31*``: every extension starting with 31; ``*`` alone: every extension no other entry names). An exact entry
beats every range; among ranges the longest prefix wins.

The directory comes from the management application (``web/voice``: the Extension model, importable and exported as
the CSV below) or, without the application, from the CSV file named by voice.yaml ``extensions``. CSV columns (a
header row, any order): ``number`` and ``department`` (required), ``name`` and ``cost_centre`` (optional). Pure
logic: no I/O but :func:`read_directory`; the lookups are vectorized over the unique numbers of a pandas Series.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ConfigDict, Field, ValidationError, field_validator
from pydantic.dataclasses import dataclass

from linewatch.choices import CallOutcome
from linewatch.errors import ConfigError, Problem

__all__ = [
    "COLUMNS",
    "COST_COLUMNS",
    "NUMBER_PATTERN",
    "REQUIRED_COLUMNS",
    "Directory",
    "Extension",
    "department_costs",
    "directory_csv",
    "parse_directory_csv",
    "parse_directory_rows",
    "read_directory",
]

COLUMNS = ("number", "department", "name", "cost_centre")
REQUIRED_COLUMNS = ("number", "department")
NUMBER_PATTERN = r"^(\+?[0-9]{1,32}\*?|\*)$"
"""An extension: up to 32 digits (a leading ``+`` for a direct-dial E.164 number), ``*`` at the end for a range."""
COST_COLUMNS = {"department": "string", "calls": "int64", "answered": "int64", "minutes": "float64",
                "cost": "float64", "currency": "string"}
UNASSIGNED = ""
"""The department of a call whose extension no entry covers (and of a call without an extension)."""
MAX_BYTES = 8 * 1024 * 1024


_NUMBER = re.compile(NUMBER_PATTERN)


@dataclass(frozen=True, config=ConfigDict(extra="forbid", str_strip_whitespace=True))
class Extension:
    """One directory entry. ``number`` ends in ``*`` for a prefix range; ``department`` is an inventory
    department's name, ``cost_centre`` a cost centre's code."""

    number: str = Field(description="the extension, or a prefix range ending in *")
    department: str = Field(max_length=128)
    name: str = Field(default="", max_length=128, description="who or what answers it (a person, a room)")
    cost_centre: str | None = Field(default=None, max_length=64)

    @field_validator("number")
    @classmethod
    def _number(cls, value: str) -> str:
        if not value:
            raise ValueError("required")
        if not _NUMBER.match(value):
            raise ValueError(f"{value} is not an extension: digits (a leading + allowed), * at the end for a range "
                             "(e.g. 3101, 31*)")
        return value

    @field_validator("department")
    @classmethod
    def _required(cls, value: str) -> str:
        if not value:
            raise ValueError("required")
        return value

    @field_validator("cost_centre", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def is_range(self) -> bool:
        return self.number.endswith("*")

    @property
    def prefix(self) -> str:
        """The digits a range covers (the number itself for an exact entry)."""
        return self.number.removesuffix("*")


def _reason(exc: ValidationError) -> list[tuple[str, str]]:
    return [(".".join(str(p) for p in err["loc"]) or "row", str(err["msg"]).removeprefix("Value error, "))
            for err in exc.errors(include_url=False, include_input=False)]


def parse_directory_csv(text: str, *, file: str) -> tuple[list[Extension], list[Problem]]:
    """The entries of a directory CSV and every problem found (``file:row: column: reason``; row 1 is the
    header). A bad row is left out and reported; a number listed twice is reported on its second row. A header
    without ``number`` or ``department``, or with an unknown column, gives no entries."""
    rows, problems = parse_directory_rows(text, file=file)
    return [entry for _row, entry in rows], problems


def parse_directory_rows(text: str, *, file: str) -> tuple[list[tuple[int, Extension]], list[Problem]]:
    """:func:`parse_directory_csv` with each entry's row number (for checks made later, e.g. that the department
    exists)."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    header = [(h or "").strip() for h in reader.fieldnames or ()]
    unknown = [h for h in header if h not in COLUMNS]
    missing = [h for h in REQUIRED_COLUMNS if h not in header]
    if not header or unknown or missing:
        reason = (f"unknown column(s) {', '.join(unknown)}" if unknown
                  else f"missing column(s) {', '.join(missing or REQUIRED_COLUMNS)}")
        return [], [Problem(file, 1, "header", f"{reason} (columns: {', '.join(COLUMNS)})")]
    reader.fieldnames = header
    entries: list[tuple[int, Extension]] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for raw in reader:
        row = reader.line_num
        if None in raw:
            problems.append(Problem(file, row, "row", f"{len(raw[None])} value(s) more than the header's columns"))
            continue
        values = {k: (v or "").strip() for k, v in raw.items()}
        if not any(values.values()):
            continue
        try:
            entry = Extension(**{k: v for k, v in values.items() if k in COLUMNS})
        except ValidationError as exc:
            problems.extend(Problem(file, row, key, reason) for key, reason in _reason(exc))
            continue
        if entry.number in seen:
            problems.append(Problem(file, row, "number", f"{entry.number} is listed already (row {seen[entry.number]})"))
            continue
        seen[entry.number] = row
        entries.append((row, entry))
    return entries, problems


def read_directory(path: Path) -> Directory:
    """The directory of a CSV file (voice.yaml ``extensions``); :class:`ConfigError` naming every problem."""
    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError([Problem(file, None, "", f"cannot read the extension directory: {exc.strerror}")]) from None
    if len(data) > MAX_BYTES:
        raise ConfigError([Problem(file, None, "", f"larger than {MAX_BYTES // (1024 * 1024)} MiB")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(file, None, "", f"not UTF-8 text (byte {exc.start})")]) from None
    entries, problems = parse_directory_csv(text, file=file)
    if problems:
        raise ConfigError(problems)
    return Directory(entries)


def directory_csv(entries: Iterable[Extension]) -> str:
    """The entries as a directory CSV (:func:`parse_directory_csv` reads it back unchanged)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for e in entries:
        writer.writerow((e.number, e.department, e.name, e.cost_centre or ""))
    return out.getvalue()


class Directory:
    """The entries, for lookups of whole columns of extensions."""

    def __init__(self, entries: Sequence[Extension] = ()) -> None:
        self.entries: tuple[Extension, ...] = tuple(entries)
        self._exact: dict[str, int] = {}
        self._ranges: dict[int, dict[str, int]] = {}  # prefix length -> prefix -> entry
        for i, e in enumerate(self.entries):
            table = self._ranges.setdefault(len(e.prefix), {}) if e.is_range else self._exact
            if e.prefix in table:
                raise ValueError(f"extension {e.number} is in the directory twice")
            table[e.prefix] = i
        self._lengths = sorted(self._ranges, reverse=True)

    def __len__(self) -> int:
        return len(self.entries)

    def entry_of(self, numbers: pd.Series) -> np.ndarray:
        """Per number, the index of its entry in :attr:`entries` (-1: none). Each distinct number is looked up
        once: the exact entries, then the ranges from the longest prefix down."""
        text = numbers.astype("string").str.strip()
        codes, uniques = pd.factorize(text, use_na_sentinel=True)
        found = np.full(len(uniques), -1, dtype=np.int64)
        if len(uniques):
            values = pd.Series(uniques, dtype="string")
            found = values.map(self._exact).fillna(-1).to_numpy(dtype=np.int64)
            lengths = values.str.len().to_numpy()
            for n in self._lengths:
                todo = (found < 0) & (lengths >= n)
                if not todo.any():
                    continue
                hits = values[todo].str.slice(0, n).map(self._ranges[n]).fillna(-1).to_numpy(dtype=np.int64)
                found[todo] = hits
        out = np.full(len(codes), -1, dtype=np.int64)
        known = codes >= 0
        out[known] = found[codes[known]]
        return out

    def _column(self, numbers: pd.Series, values: list[str | None]) -> pd.Series:
        index = self.entry_of(numbers)
        table = np.array([*values, None], dtype=object)  # -1 picks the last: no entry
        return pd.Series(table[index], index=numbers.index, dtype="string")

    def department_of(self, numbers: pd.Series) -> pd.Series:
        """Each number's department (string dtype, <NA> where no entry covers it), aligned with ``numbers``."""
        return self._column(numbers, [e.department for e in self.entries])

    def cost_centre_of(self, numbers: pd.Series) -> pd.Series:
        """Each number's cost centre (<NA> where none)."""
        return self._column(numbers, [e.cost_centre for e in self.entries])

    def name_of(self, numbers: pd.Series) -> pd.Series:
        return self._column(numbers, [e.name or None for e in self.entries])


def department_costs(calls: pd.DataFrame, directory: Directory) -> pd.DataFrame:
    """Per department and currency: ``calls`` (attempts), ``answered``, ``minutes`` (talk minutes, billsec),
    ``cost`` (rated, in ``currency``) of ``calls`` (a call frame; ``cost``/``currency`` may be absent: unrated, 0).

    The department is the one of the call's ``extension``; calls whose extension no entry covers are grouped under
    department ``""`` (:data:`UNASSIGNED`), listed last. Sorted by department, then currency; columns
    :data:`COST_COLUMNS`."""
    if calls.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in COST_COLUMNS.items()})
    frame = pd.DataFrame({
        "department": directory.department_of(calls["extension"]).fillna(UNASSIGNED).to_numpy(),
        "currency": (calls["currency"].astype("string").fillna("") if "currency" in calls
                     else pd.Series("", index=calls.index, dtype="string")).to_numpy(),
        "calls": 1,
        "answered": (calls["outcome"].astype("string") == CallOutcome.ANSWERED.value).fillna(False).to_numpy(dtype=np.int64),
        "minutes": calls["billsec_s"].astype("float64").fillna(0.0).to_numpy() / 60.0,
        "cost": (calls["cost"].astype("float64").fillna(0.0).to_numpy() if "cost" in calls
                 else np.zeros(len(calls))),
    })
    out = frame.groupby(["department", "currency"], as_index=False, sort=False)[
        ["calls", "answered", "minutes", "cost"]].sum()
    out["cost"] = out["cost"].round(6)
    out["_last"] = out["department"] == UNASSIGNED
    out = out.sort_values(["_last", "department", "currency"], kind="stable").drop(columns="_last")
    return out[list(COST_COLUMNS)].astype(COST_COLUMNS).reset_index(drop=True)
