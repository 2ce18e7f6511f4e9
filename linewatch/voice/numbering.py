"""voice.yaml ``numbering``: dialled numbers to E.164 and their destination class (docs/rating.md).

Column-wise: every function takes and returns pandas Series and works on the unique values (pyarrow string
kernels), never a Python loop per call.

The rules, in order (``classify``):

1. the dialled digits are one of ``emergency_numbers`` → ``emergency``;
2. a number that cannot be written in E.164 → ``unknown``;
3. the longest ``classes`` prefix of the E.164 digits gives the class — a ``premium`` prefix from any trunk, every
   other class only for a number in the trunk's own country (a German mobile prefix called from Paris is an
   international call);
4. otherwise the trunk's own country code → ``national``, another country code → ``international``.

``high_risk`` is independent of the class: the E.164 digits start with one of ``high_risk_prefixes``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from linewatch.choices import DestinationClass

_STRICT = ConfigDict(extra="forbid", frozen=True)
E164_PREFIX = r"^[1-9][0-9]{0,14}$"
DEST_CLASSES: list[str] = [c.value for c in DestinationClass]
"""The destination classes in a fixed order: the codes :meth:`NumberingConfig.class_codes` returns index it."""

DEFAULT_EMERGENCY_NUMBERS: tuple[str, ...] = ("112", "110", "15", "17", "18", "114", "115", "119", "911", "999")
"""EU 112 (everywhere in the EU), Germany 110 (police), France 15 (SAMU), 17 (police), 18 (fire), 114 (for the
deaf), 115 (social emergency), 119 (child abuse), and 911 / 999 (dialled by visitors; many networks route them)."""

DEFAULT_HIGH_RISK_PREFIXES: tuple[str, ...] = (
    # International networks without a country: satellite and shared-cost ranges, the classic IRSF targets.
    "870", "881", "882", "883", "979",
    # Country codes most often abused for international revenue share fraud (IRSF) and PBX hacking.
    "53", "211", "216", "218", "222", "224", "225", "232", "235", "236", "239", "240", "241", "243", "245",
    "247", "252", "253", "255", "257", "261", "290", "291", "371", "372", "373", "381", "383", "423", "592",
    "675", "677", "678", "679", "682", "683", "685", "686", "687", "688", "690", "691", "692", "960", "998",
    # North American Numbering Plan islands billed as international ("one-ring" callback scams).
    "1242", "1246", "1264", "1268", "1284", "1345", "1441", "1473", "1649", "1664", "1758", "1767", "1784",
    "1809", "1829", "1849", "1868", "1869", "1876",
)
"""Known toll-fraud destinations: the ITU-T "international networks" codes (+870 Inmarsat, +881 GMSS, +882/+883
international networks, +979 international premium rate) and the country and NANP ranges that carriers' and the
CFCA's published high-risk lists (International Revenue Share Fraud) name year after year. A starting point to
extend from your carrier's own list: the alert rule ``premium_destination`` fires on any call to these."""


class ClassPrefix(BaseModel):
    """E.164 numbers starting with ``prefix`` (country code included, no ``+``) are of class ``class``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    prefix: str = Field(pattern=E164_PREFIX, description="E.164 digits, country code first, no '+'")
    dest_class: DestinationClass = Field(alias="class")

    @field_validator("dest_class")
    @classmethod
    def _not_unknown(cls, v: DestinationClass) -> DestinationClass:
        if v is DestinationClass.UNKNOWN:
            raise ValueError("'unknown' is what no prefix matching means: give a real class")
        return v


class NumberingConfig(BaseModel):
    """How the PBX's dialled numbers become E.164 and which destination class each is."""

    model_config = _STRICT
    country_code: str = Field(default="49", pattern=r"^[1-9][0-9]{0,2}$",
                              description="the default trunk country (a trunk's own country_code overrides it)")
    national_prefix: str = Field(default="0", pattern=r"^[0-9]{0,3}$",
                                 description="trunk prefix before a national number ('' where there is none)")
    international_prefix: str = Field(default="00", pattern=r"^[0-9]{1,4}$",
                                      description="dialled before a country code ('+' is always understood too)")
    bare_e164_min_digits: int = Field(default=11, ge=4, le=15,
                                      description="a number without any prefix and at least this many digits is "
                                                  "E.164 without its '+' (as SBCs send it); a shorter one is a "
                                                  "number of the trunk's country dialled without the trunk prefix")
    emergency_numbers: list[str] = Field(default_factory=lambda: list(DEFAULT_EMERGENCY_NUMBERS))
    classes: list[ClassPrefix] = Field(default_factory=list)
    high_risk_prefixes: list[str] = Field(default_factory=lambda: list(DEFAULT_HIGH_RISK_PREFIXES))

    @field_validator("emergency_numbers", "high_risk_prefixes")
    @classmethod
    def _digit_list(cls, v: list[str], info: ValidationInfo) -> list[str]:
        pattern = r"[0-9]{1,15}" if info.field_name == "emergency_numbers" else E164_PREFIX[1:-1]
        for i, number in enumerate(v):
            if not re.fullmatch(pattern, number):
                what = "1 to 15 digits" if info.field_name == "emergency_numbers" else "E.164 digits, no '+'"
                raise ValueError(f"[{i}] {number!r}: expected {what} (quote numbers in YAML)")
        dupes = sorted({n for n in v if v.count(n) > 1})
        if dupes:
            raise ValueError(f"listed twice: {', '.join(dupes)}")
        return v

    @model_validator(mode="after")
    def _prefixes(self) -> NumberingConfig:
        seen: dict[str, int] = {}
        for i, entry in enumerate(self.classes):
            if entry.prefix in seen:
                raise ValueError(f"classes[{i}]: prefix {entry.prefix} is already classes[{seen[entry.prefix]}]")
            seen[entry.prefix] = i
        if self.national_prefix == self.international_prefix:
            raise ValueError("national_prefix and international_prefix must differ")
        return self

    # -- vectorized ------------------------------------------------------------------------------------------------

    def to_e164(self, numbers: pd.Series, country_codes: pd.Series) -> pd.Series:
        """E.164 digits (no ``+``) of each dialled number, in the numbering of its trunk's country; <NA> when the
        number has no digits, has characters a phone number cannot have, or is no E.164 number (3 to 15 digits,
        the first not 0).

        ``+4969…`` and ``004969…`` are international; ``069…`` is national (country code + the rest); a number of
        ``bare_e164_min_digits`` digits or more without prefix is already E.164; a shorter one (a service or short
        number such as 11833) is of the trunk's country. ``sip:``/``tel:`` URIs are reduced to their user part;
        spaces, dots, dashes and brackets are ignored."""
        digits, plus = clean_digits(arrow_strings(numbers))
        cc = arrow_strings(country_codes.astype("string").fillna(self.country_code))
        return string_series(self.e164_array(digits, plus, cc), numbers.index)

    def e164_array(self, digits: pa.Array, plus: pa.Array, cc: pa.Array) -> pa.Array:
        """:meth:`to_e164` on arrays: ``digits``/``plus`` from :func:`clean_digits`, ``cc`` each row's country."""
        intl, nat = self.international_prefix, self.national_prefix
        n_digits = pc.utf8_length(digits).to_numpy(zero_copy_only=False)
        plus_np = plus.to_numpy(zero_copy_only=False)
        is_intl = ~plus_np & pc.fill_null(pc.starts_with(digits, intl), False).to_numpy(zero_copy_only=False)
        is_nat = ~plus_np & ~is_intl
        if nat:
            is_nat &= pc.fill_null(pc.starts_with(digits, nat), False).to_numpy(zero_copy_only=False)
        else:
            is_nat[:] = False
        rest = ~(plus_np | is_intl | is_nat)
        is_bare = rest & (n_digits >= self.bare_e164_min_digits)
        is_short = rest & ~is_bare
        cc_len = pc.utf8_length(cc).to_numpy(zero_copy_only=False)
        length = np.where(is_intl, n_digits - len(intl), n_digits)
        length = np.where(is_nat, n_digits - len(nat) + cc_len, length)
        length = np.where(is_short, n_digits + cc_len, length)
        sep = pa.scalar("", digits.type)
        cases = ((plus_np | is_bare, lambda: digits), (is_intl, lambda: pc.utf8_slice_codeunits(digits, len(intl))),
                 (is_nat, lambda: pc.binary_join_element_wise(cc, pc.utf8_slice_codeunits(digits, len(nat)), sep)),
                 (is_short, lambda: pc.binary_join_element_wise(cc, digits, sep)))
        out: pa.Array | None = None
        for mask, build in cases:  # only the forms present are built (one form only: no merging)
            if mask.any():
                out = build() if out is None else pc.if_else(pa.array(mask), build(), out)
        if out is None:
            return pa.nulls(len(digits), digits.type)
        valid = ~pc.is_null(digits).to_numpy(zero_copy_only=False) & (length >= 3) & (length <= 15)
        valid &= ~pc.fill_null(pc.starts_with(out, "0"), True).to_numpy(zero_copy_only=False)
        if not valid.all():
            out = pc.if_else(pa.array(valid), out, pa.scalar(None, out.type))
        return out

    def classify(self, e164: pd.Series, country_codes: pd.Series,
                 dialled: pd.Series) -> tuple[pd.Series, pd.Series]:
        """(dest_class, high_risk) of each call: see the module's rules."""
        country, codes = pd.factorize(country_codes.astype("string").fillna(self.country_code))
        digits, _plus = clean_digits(arrow_strings(dialled))
        classes, risk = self.class_codes(E164Digits.of(arrow_strings(e164)), country, list(codes), digits)
        dest = string_series(pa.array(DEST_CLASSES, pa.large_string()).take(pa.array(classes)), e164.index)
        return dest, pd.Series(risk, index=e164.index, dtype="bool")

    def class_codes(self, number: E164Digits, country: np.ndarray, country_codes: Sequence[str],
                    dialled_digits: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`classify` on arrays: each row's trunk country is ``country_codes[country[row]]``; returns (index
        into :data:`DEST_CLASSES` as int8, high_risk)."""
        home = PrefixTable([{cc: 0} for cc in country_codes]) if len(country_codes) else None
        domestic = (home.lookup(number, group=np.asarray(country)) >= 0) if home else np.zeros(len(country), bool)
        code = {name: i for i, name in enumerate(DEST_CLASSES)}
        out = np.where(domestic, code["national"], code["international"]).astype(np.int8)
        if self.classes:
            hit = number.longest_prefix(self._class_table)
            out = np.where((hit >= 0) & (domestic | (hit == code["premium"])), hit, out).astype(np.int8)
        out[~number.valid] = code["unknown"]
        emergency = pc.is_in(dialled_digits, value_set=pa.array(self.emergency_numbers, dialled_digits.type))
        out[pc.fill_null(emergency, False).to_numpy(zero_copy_only=False)] = code["emergency"]
        risk = number.longest_prefix(self._risk_table) >= 0
        return out, risk

    @cached_property
    def _class_table(self) -> PrefixTable:
        return PrefixTable({c.prefix: DEST_CLASSES.index(c.dest_class.value) for c in self.classes})

    @cached_property
    def _risk_table(self) -> PrefixTable:
        return PrefixTable(dict.fromkeys(self.high_risk_prefixes, 0))


# -- column helpers, shared with rating --------------------------------------------------------------------------


_POW10 = 10 ** np.arange(19, dtype=np.int64)
TABLE_DIGITS = 6
"""Prefixes of up to this many digits are matched through one direct-address table."""
MAX_TABLE = 4_000_000
"""The most entries (int64) of one such table: groups × 10 ** digits."""


@dataclass
class E164Digits:
    """E.164 numbers as integers (15 digits fit an int64) and their digit counts, for prefix matching by
    arithmetic: a number's first L digits are ``value // 10 ** (digits - L)``."""

    value: np.ndarray  # int64, 0 where not valid
    digits: np.ndarray  # int64 digit count, 0 where not valid
    valid: np.ndarray  # bool
    _heads: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, e164: pa.Array) -> E164Digits:
        n = pc.utf8_length(e164).to_numpy(zero_copy_only=False)
        valid = ~pc.is_null(e164).to_numpy(zero_copy_only=False)
        if len(n):
            n = np.where(valid, n, 0).astype(np.int64)
        ok = valid & (n >= 1) & (n <= 15)
        good = e164 if ok.all() else pc.if_else(pa.array(ok), e164, pa.scalar(None, e164.type))
        value = pc.fill_null(pc.cast(good, pa.int64()), 0).to_numpy(zero_copy_only=False)
        return cls(value.astype(np.int64), np.where(ok, n, 0).astype(np.int64), ok)

    def head(self, length: int) -> np.ndarray:
        """The first ``length`` digits of each number (the whole number when it has fewer); cached."""
        if length not in self._heads:
            self._heads[length] = self.value // _POW10[np.clip(self.digits - length, 0, 18)]
        return self._heads[length]

    def longest_prefix(self, prefixes: Mapping[str, int] | PrefixTable, *, group: np.ndarray | None = None,
                       among: np.ndarray | None = None) -> np.ndarray:
        """For each number, the value (an int ≥ 0) of its longest prefix in ``prefixes`` (digit strings; "" matches
        every valid number), -1 when none matches. ``among``: only these rows are looked at (the rest get -1)."""
        table = prefixes if isinstance(prefixes, PrefixTable) else PrefixTable(prefixes)
        return table.lookup(self, group=group, among=among)


class PrefixTable:
    """Longest-prefix matching of E.164 numbers, column-wise, optionally per group (one prefix set per group, e.g.
    per destination class or per country; each row says its group).

    Prefixes of up to :data:`TABLE_DIGITS` digits are expanded into one direct-address table indexed by the group
    and a number's first digits (longer prefixes written after shorter ones, so the longest wins): a lookup is one
    gather per number, whatever the number of prefixes. Longer prefixes (or all, when the table would exceed
    :data:`MAX_TABLE` entries) take one sorted lookup per length. Build once per prefix set, look up every batch."""

    def __init__(self, prefixes: Mapping[str, int] | Sequence[Mapping[str, int]]):
        groups = [prefixes] if isinstance(prefixes, Mapping) else list(prefixes)
        self.groups = len(groups)
        by_len: dict[int, dict[tuple[int, int], int]] = {}
        for g, group in enumerate(groups):
            for prefix, v in group.items():
                by_len.setdefault(len(prefix), {})[(g, int(prefix) if prefix else 0)] = int(v)
        short = sorted(n for n in by_len if n <= TABLE_DIGITS)
        while short and self.groups * 10 ** short[-1] > MAX_TABLE:
            short.pop()
        self.k = short[-1] if short else -1
        self.table = np.full(self.groups * 10 ** max(self.k, 0), -1, dtype=np.int64) if short else None
        for length in short:
            span = 10 ** (self.k - length)
            for (g, key), v in by_len[length].items():
                base = g * 10 ** self.k + key * span
                self.table[base:base + span] = v  # type: ignore[index]
        self.sorted = {n: self._sorted(n, table) for n, table in by_len.items()}
        self.long = sorted((n for n in by_len if n not in short), reverse=True)
        self.short = short

    @staticmethod
    def _sorted(length: int, table: dict[tuple[int, int], int]) -> tuple[np.ndarray, np.ndarray]:
        combined = {g * 10**length + key: v for (g, key), v in table.items()}
        keys = np.array(sorted(combined), dtype=np.int64)
        return keys, np.array([combined[k] for k in keys.tolist()], dtype=np.int64)

    def _search(self, length: int, group: np.ndarray | int, head: np.ndarray) -> np.ndarray:
        keys, vals = self.sorted[length]
        combined = group * 10**length + head
        pos = np.minimum(np.searchsorted(keys, combined), len(keys) - 1)
        return np.where(keys[pos] == combined, vals[pos], -1)

    def lookup(self, number: E164Digits, *, group: np.ndarray | None = None,
               among: np.ndarray | None = None) -> np.ndarray:
        """Per number the value of its longest prefix in its group's set (-1: none, or not in ``among``)."""
        todo = number.valid if among is None else number.valid & among
        g: np.ndarray | int = 0 if group is None else group
        out = np.full(len(number.value), -1, dtype=np.int64)
        for length in self.long:
            hit = self._search(length, g, number.head(length))
            out = np.where(todo & (out < 0) & (number.digits >= length), hit, out)
        if self.table is None:
            return out
        enough = number.digits >= self.k
        hit = self.table[g * 10**self.k + np.where(enough, number.head(self.k), 0)]
        out = np.where(todo & (out < 0) & enough, hit, out)
        few = np.flatnonzero(todo & (out < 0) & ~enough)  # numbers shorter than the table's digits (rare)
        for length in reversed(self.short):
            if not len(few):
                break
            digits = number.digits[few]
            head = number.value[few] // _POW10[np.clip(digits - length, 0, 18)]
            hit = np.where(digits >= length, self._search(length, g if group is None else group[few], head), -1)
            out[few] = np.where(hit >= 0, hit, out[few])
            few = few[hit < 0]
        return out


def longest_prefix(values: pa.Array, prefixes: Mapping[str, int]) -> np.ndarray:
    """For each E.164 number (digit strings), the value of its longest prefix in ``prefixes``, -1 when none."""
    return E164Digits.of(values).longest_prefix(prefixes)


def arrow_strings(values: pd.Series) -> pa.Array:
    """The Series as one pyarrow large_string array (zero-copy for pandas' pyarrow-backed strings)."""
    arr = pa.array(values.astype("string"))
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr if arr.type == pa.large_string() else arr.cast(pa.large_string())


def string_series(values: pa.Array, index: pd.Index) -> pd.Series:
    """A pyarrow string array as a pandas ``string`` Series (no copy)."""
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([values.cast(pa.large_string())])), index=index)


def clean_digits(numbers: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(the digits, or null when the text is no phone number; whether it started with '+') of dialled numbers.

    Plain digit strings (what most PBXes write) take the fast path: no regular expression runs."""
    plus = pc.fill_null(pc.starts_with(numbers, "+"), False)
    s = pc.utf8_ltrim(numbers, characters="+") if pc.any(plus).as_py() else numbers
    if pc.all(pc.fill_null(pc.ascii_is_decimal(s), True)).as_py():
        return pc.if_else(pc.equal(pc.utf8_length(s), 0), pa.scalar(None, s.type), s), plus
    s = pc.utf8_trim_whitespace(numbers)
    s = pc.replace_substring_regex(s, r"^(?:sips?:|tel:)|[@;].*$|[\s().\-/]", "")
    plus = pc.fill_null(pc.starts_with(s, "+"), False)
    s = pc.if_else(plus, pc.utf8_slice_codeunits(s, 1), s)
    ok = pc.fill_null(pc.match_substring_regex(s, r"^[0-9]+$"), False)
    return pc.if_else(ok, s, pa.scalar(None, s.type)), plus


__all__ = ["DEFAULT_EMERGENCY_NUMBERS", "DEFAULT_HIGH_RISK_PREFIXES", "DEST_CLASSES", "ClassPrefix", "E164Digits",
           "NumberingConfig", "PrefixTable", "arrow_strings", "clean_digits", "longest_prefix", "string_series"]
