"""Trunk mapping (voice.yaml ``trunks``, docs/cdr.md): which inventory voice line a CDR's trunk, channel or gateway
belongs to.

Each entry is a glob (``*`` any run of characters, ``?`` one, ``[...]`` a set; case-sensitive, on the whole value):
``PJSIP/dtag-*`` matches the Asterisk channels ``PJSIP/dtag-0000002a``. The first entry that matches wins, entries
limited to another ``source`` are skipped. Matching is column-wise (a regular expression per entry over the whole
column, in pyarrow), so a million distinct channel names cost a handful of vectorized passes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from linewatch.choices import LineType
from linewatch.inventory import Inventory, Line
from linewatch.voice.config import TrunkMap


def glob_regex(pattern: str) -> str:
    """A glob as an anchored regular expression (RE2 and Python ``re`` alike)."""
    out, i = ["^"], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[" and (end := pattern.find("]", i + 2 if pattern[i + 1:i + 2] in ("!", "]") else i + 1)) > i:
            body = pattern[i + 1:end]
            body = "^" + body[1:] if body.startswith("!") else body
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    out.append("$")
    return "".join(out)


class TrunkMapper:
    """The voice.yaml ``trunks`` entries that apply to one source, over an inventory."""

    def __init__(self, trunks: Sequence[TrunkMap], inventory: Inventory, *, source: str):
        self.source = source
        self.inventory = inventory
        self.positions = [i for i, t in enumerate(trunks) if t.source in (None, source)]  # in voice.yaml trunks
        self.entries = [trunks[i] for i in self.positions]
        self._regexes = [glob_regex(t.match) for t in self.entries]
        self.lines: dict[str, Line] = {ln.id: ln for ln in inventory.lines if ln.type is LineType.VOICE_TRUNK}
        self._country: dict[str, str] = {}
        self._reasons: dict[tuple[str, str], str] = {}
        for t in self.entries:
            if t.country_code:
                self._country.setdefault(t.line, t.country_code)

    def entry_index(self, values: pd.Series | pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Per value, the index of the first matching entry (-1 when none matches; "" and <NA> never match)."""
        arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values, type=pa.string(),
                                                                                       from_pandas=True)
        arr = pc.fill_null(arr, "")
        out = np.full(len(arr), -1, dtype=np.int64)
        for k, (entry, regex) in enumerate(zip(self.entries, self._regexes, strict=True)):
            glob = entry.match
            if not any(c in glob for c in "*?["):
                hit = pc.equal(arr, glob)
            elif glob.endswith("*") and not any(c in glob[:-1] for c in "*?["):
                hit = pc.starts_with(arr, glob[:-1])  # the common PJSIP/dtag-* form: no regex needed
            else:
                hit = pc.match_substring_regex(arr, regex)
            out[(out < 0) & hit.to_numpy(zero_copy_only=False)] = k
        return out

    def is_trunk(self, values: pd.Series) -> np.ndarray:
        """Whether each value names a trunk of voice.yaml (a glob matched)."""
        return self.entry_index(values) >= 0

    def line_of(self, values: pd.Series) -> pd.Series:
        """The line of each value (<NA> when no entry matches, or the entry's line is not a voice trunk of the
        inventory)."""
        index = self.entry_index(values)
        names = pa.array([t.line if t.line in self.lines else None for t in self.entries] + [None], type=pa.string())
        return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([names.take(pa.array(np.where(index < 0, len(self.entries), index)))])),
                         dtype="string")

    def country_code_of(self, line: str) -> str | None:
        """The country code a ``trunks`` entry gives for ``line`` (None: numbering's default applies)."""
        return self._country.get(line)

    def unknown_reason(self, field: str, value: str) -> str:
        """Why a value maps to no line, for a RowProblem."""
        key = (field, value)
        if key not in self._reasons:
            self._reasons[key] = self._unknown_reason(field, value)
        return self._reasons[key]

    def _unknown_reason(self, field: str, value: str) -> str:
        k = int(self.entry_index(pd.Series([value], dtype="string"))[0])
        if k >= 0:
            entry = self.entries[k]
            why = "not in the inventory" if entry.line not in {ln.id for ln in self.inventory.lines} else \
                "not a voice_trunk line"
            return (f"{field} {value!r} matches voice.yaml trunks[{self.positions[k]}] ({entry.match!r}), whose line "
                    f"{entry.line!r} is {why}")
        return f"unknown trunk: {field} {value!r} matches no voice.yaml trunks entry (source {self.source!r})"
