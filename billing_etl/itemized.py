"""A carrier's itemized call records, reconciled call by call with the PBX's CDRs (docs/billing.md "Itemized calls").

A carrier that supplies itemized calls is described in ``carriers.yaml`` (``itemized_calls: {pattern, layout}``):
its files (``pattern`` under ``invoice_dir``) are read with a voice.yaml CSV layout (the CDR part's
``linewatch.voice.formats`` reader), which maps the carrier's circuit column to ``trunk`` and the extra fields
``billed_s``, ``amount`` and ``billed_class`` to the frame columns ``carrier_billed_s``, ``carrier_amount`` and
``carrier_class``. Each record's circuit is mapped to its inventory line by the carrier's circuit ids.

:func:`reconcile` is pure and column-wise: every billed call is matched to the **answered** CDR of the same line
and called number (E.164) whose answer time is nearest its start, within ± ``window_s`` (one CDR answers one billed
call: a second record of the same call is unmatched). Then, per billed call, one verdict (the first that holds):

* ``call_not_in_cdrs`` — no such CDR: the whole amount billed is at stake;
* ``call_wrong_class`` — the carrier's destination class differs from the number's class (the rating's): at stake
  the amount billed minus the call's cost under the contract's rate plan;
* ``call_rounding`` — the carrier's billed seconds exceed the rate plan's rounding of the CDR's talk time (its
  increments and minimum, ``billed_s`` of the rating): at stake the carrier's own price of the seconds too many
  (amount × excess ÷ billed seconds);
* otherwise the call is reconciled (``rule`` empty).
"""

from __future__ import annotations

import glob
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from linewatch.choices import AuditRule, CallOutcome, CdrFormat, DestinationClass, LineType
from linewatch.voice.frame import empty_calls
from linewatch.voice.records import RowProblem

if TYPE_CHECKING:
    from billing_etl.config import BillingConfig, Carrier

CARRIER_COLUMNS = {"carrier_billed_s": "float64", "carrier_amount": "float64", "carrier_class": "string"}
"""The extra columns a layout for itemized calls adds to the call frame (the CDR part's csv layout)."""

RECONCILIATION_COLUMNS: dict[str, str] = {
    "line": "string",
    "source": "string",  # "file:row" of the carrier's record
    "record_key": "string",  # the record's call_key (the reader's stable id of the row)
    "start_s": "float64",  # the carrier's start of the call (billing starts at the answer)
    "callee": "string",  # as the carrier wrote it
    "callee_e164": "string",
    "carrier_billed_s": "float64",
    "carrier_amount": "float64",
    "carrier_class": "string",  # the carrier's class, as a DestinationClass value ("" when its text is unknown)
    "carrier_class_text": "string",  # as the carrier wrote it
    "cdr_key": "string",  # the matched CDR's call_key (<NA>: not in the CDRs)
    "cdr_source": "string",
    "cdr_answer_s": "float64",
    "billsec_s": "float64",  # the CDR's talk time
    "billed_s": "float64",  # the rate plan's rounding of it
    "dest_class": "string",  # the number's class (the rating's)
    "cost": "float64",  # the CDR's cost under the rate plan
    "rule": "string",  # AuditRule value of the verdict, "" when reconciled
    "amount": "float64",  # at stake (positive: billed too much)
}

_SECOND = 0.5  # billed seconds are whole: half a second absorbs float noise in the comparison


@dataclass(frozen=True)
class ItemizedFile:
    """One carrier file of itemized calls as read: the call frame (with :data:`CARRIER_COLUMNS`) and the rows
    that could not be read."""

    carrier: str
    path: Path
    calls: pd.DataFrame
    problems: list[RowProblem] = field(default_factory=list)


def find_itemized_files(config: BillingConfig, invoice_dir: Path | None = None) -> list[tuple[Path, str]]:
    """(file, carrier name) for every file matching a carrier's ``itemized_calls.pattern``, sorted."""
    base = invoice_dir or config.invoice_dir
    seen: dict[Path, str] = {}
    for carrier in config.carriers.carriers:
        if carrier.itemized_calls is None:
            continue
        for path in sorted(base.glob(carrier.itemized_calls.pattern)):
            if path.is_file():
                seen.setdefault(path, carrier.name)
    return sorted(seen.items())


def read_itemized(path: Path, carrier: Carrier, config: BillingConfig) -> ItemizedFile:
    """``path`` read with the carrier's layout; the circuit column (``trunk``) mapped to the carrier's voice lines
    (a circuit the inventory does not know is a problem row of the reader, like an unknown trunk)."""
    from linewatch.voice.config import TrunkMap
    from linewatch.voice.formats import read_file
    from linewatch.voice.formats.config import CdrSource
    from linewatch.voice.mapping import TrunkMapper

    itemized = carrier.itemized_calls
    assert itemized is not None
    name = "itemized-" + "".join(ch if ch.isalnum() else "-" for ch in carrier.name.lower())
    source = CdrSource(name=name, format=CdrFormat.CSV, path=path, layout=itemized.layout)
    trunks = [
        TrunkMap(match=glob.escape(line.circuit_id), line=line.id)
        for line in config.inventory.lines
        if line.carrier == carrier.name and line.type is LineType.VOICE_TRUNK and line.circuit_id
    ]
    mapper = TrunkMapper(trunks, config.inventory, source=name)
    batch = read_file(path, source, mapper=mapper, layout=config.voice.layout(itemized.layout))
    return ItemizedFile(carrier=carrier.name, path=path, calls=batch.calls, problems=list(batch.problems))


def carrier_classes(texts: pd.Series, classes: Mapping[str, DestinationClass]) -> pd.Series:
    """The carrier's destination texts as DestinationClass values: through ``classes`` (exact text, then
    case-insensitively), else the text itself when it is a class name; "" when neither."""
    known = {value.value for value in DestinationClass}
    folded = {text.casefold(): cls.value for text, cls in classes.items()}
    unique = pd.unique(texts.astype("string").fillna("").str.strip())
    lookup = {}
    for text in unique:
        cls = classes.get(text)
        value = cls.value if cls is not None else folded.get(text.casefold())
        if value is None:
            value = text.lower() if text.lower() in known else ""
        lookup[text] = value
    return texts.astype("string").fillna("").str.strip().map(lookup).astype("string")


def reconcile(itemized: pd.DataFrame, cdrs: pd.DataFrame, *, window_s: float) -> pd.DataFrame:
    """One :data:`RECONCILIATION_COLUMNS` row per billed call of ``itemized`` (its ``line``, ``start_s``,
    ``callee``, ``callee_e164``, ``carrier_*`` and ``source``/``call_key`` columns; ``carrier_class`` already a
    DestinationClass value or "", ``carrier_class_text`` the carrier's text) against ``cdrs`` (rated calls:
    ALL_COLUMNS). Column-wise: one ``merge_asof`` by line and number; see the module docstring for the verdicts."""
    billed = pd.DataFrame(
        {
            "line": itemized["line"].astype("string"),
            "source": itemized["source"].astype("string"),
            "record_key": itemized["call_key"].astype("string"),
            "start_s": itemized["start_s"].astype("float64"),
            "callee": itemized["callee"].astype("string"),
            "callee_e164": itemized["callee_e164"].astype("string"),
            "carrier_billed_s": itemized["carrier_billed_s"].astype("float64").fillna(0.0),
            "carrier_amount": itemized["carrier_amount"].astype("float64").fillna(0.0),
            "carrier_class": itemized["carrier_class"].astype("string").fillna(""),
            "carrier_class_text": itemized["carrier_class_text"].astype("string").fillna(""),
        }
    ).reset_index(drop=True)
    billed["_row"] = np.arange(len(billed))
    answered = cdrs[cdrs["outcome"].astype("string") == CallOutcome.ANSWERED.value]
    candidates = pd.DataFrame(
        {
            "line": answered["line"].astype("string"),
            "callee_e164": answered["callee_e164"].astype("string"),
            "cdr_answer_s": answered["answer_s"].astype("float64").fillna(answered["start_s"].astype("float64")),
            "cdr_key": answered["call_key"].astype("string"),
            "cdr_source": answered["source"].astype("string"),
            "billsec_s": answered["billsec_s"].astype("float64"),
            "billed_s": answered["billed_s"].astype("float64"),
            "dest_class": answered["dest_class"].astype("string"),
            "cost": answered["cost"].astype("float64"),
        }
    )
    keys = ["line", "callee_e164"]
    left = billed.dropna(subset=keys + ["start_s"]).copy()
    right = candidates.dropna(subset=keys + ["cdr_answer_s"]).copy()
    for frame in (left, right):  # merge_asof's "by" needs plain hashable values
        for key in keys:
            frame[key] = frame[key].astype(object)
    matched = pd.merge_asof(
        left.sort_values("start_s", kind="stable"),
        right.sort_values("cdr_answer_s", kind="stable"),
        left_on="start_s",
        right_on="cdr_answer_s",
        by=keys,
        direction="nearest",
        tolerance=float(window_s),
    )
    matched = matched.dropna(subset=["cdr_key"])
    # one CDR answers one billed call: the nearest keeps it, a second record of the same call is unmatched
    matched["_gap"] = (matched["start_s"] - matched["cdr_answer_s"]).abs()
    matched = matched.sort_values(["_gap", "_row"], kind="stable").drop_duplicates("cdr_key", keep="first")
    cdr_columns = ["cdr_key", "cdr_source", "cdr_answer_s", "billsec_s", "billed_s", "dest_class", "cost"]
    out = billed.merge(matched[["_row", *cdr_columns]], on="_row", how="left").sort_values("_row")
    found = out["cdr_key"].notna().to_numpy()
    wrong_class = (
        found
        & (out["carrier_class"].fillna("") != "").to_numpy()
        & (out["carrier_class"].fillna("") != out["dest_class"].fillna("")).to_numpy()
    )
    carrier_s = out["carrier_billed_s"].to_numpy(dtype="float64")
    plan_s = out["billed_s"].fillna(0.0).to_numpy(dtype="float64")
    rounded = found & ~wrong_class & (carrier_s > plan_s + _SECOND)
    amount = out["carrier_amount"].to_numpy(dtype="float64")
    cost = out["cost"].fillna(0.0).to_numpy(dtype="float64")
    excess = np.divide(
        (carrier_s - plan_s) * amount, carrier_s, out=np.zeros_like(amount), where=carrier_s > 0
    )
    out["rule"] = np.select(
        [~found, wrong_class, rounded],
        [AuditRule.CALL_NOT_IN_CDRS.value, AuditRule.CALL_WRONG_CLASS.value, AuditRule.CALL_ROUNDING.value],
        default="",
    )
    out["amount"] = np.select([~found, wrong_class, rounded], [amount, amount - cost, excess], default=0.0)
    return out[list(RECONCILIATION_COLUMNS)].astype(RECONCILIATION_COLUMNS).reset_index(drop=True)


def empty_reconciliation() -> pd.DataFrame:
    return empty_calls(RECONCILIATION_COLUMNS)
