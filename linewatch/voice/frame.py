"""The normalized call frame: one row per call attempt, whatever the PBX wrote (docs/cdr.md).

Every CDR format parser (``linewatch.voice.formats``) returns a pandas DataFrame with exactly the ``CALL_COLUMNS``
(in this order, these dtypes); the pipeline maps trunks to lines (``line``), rating adds ``RATED_COLUMNS``, and
the call store keeps both. Work on it column-wise (pandas/numpy): no Python loop per call.
"""

from __future__ import annotations

import pandas as pd

# name -> pandas dtype. Times are epoch seconds (UTC) as float64; a missing time or code is NaN / <NA>.
CALL_COLUMNS: dict[str, str] = {
    "call_key": "string",  # stable unique id: sha1 of the source name and the PBX's own id (or the raw row): exactly once
    "source": "string",  # where the row came from: "path:row" (row 1 = the file's first line)
    "trunk": "string",  # the PBX's trunk, channel or gateway name for the carrier side ("" for an internal call)
    "line": "string",  # the inventory line the trunk maps to (voice.yaml ``trunks``); <NA> until mapped / unknown
    "start_s": "float64",  # the call attempt's start (INVITE / channel created): the channel is seized from here
    "answer_s": "float64",  # answer time; NaN when not answered
    "end_s": "float64",  # hang-up (channel released)
    "duration_s": "float64",  # end_s - start_s
    "billsec_s": "float64",  # end_s - answer_s (0 when not answered): the talk time
    "caller": "string",  # calling number as written by the PBX
    "callee": "string",  # called number as dialled
    "extension": "string",  # the company's own party (caller when outbound, callee when inbound; caller when internal)
    "direction": "string",  # linewatch.choices.CallDirection value
    "outcome": "string",  # linewatch.choices.CallOutcome value
    "sip_code": "Int64",  # final SIP response code when known
    "q850_cause": "Int64",  # Q.850 cause when known (ISDN / Reason header / hangup cause)
}

RATED_COLUMNS: dict[str, str] = {
    "callee_e164": "string",  # the called number as E.164 digits without '+' (numbering of the trunk's country)
    "dest_class": "string",  # linewatch.choices.DestinationClass value
    "high_risk": "bool",  # the number matches voice.yaml numbering.high_risk_prefixes (toll-fraud target)
    "rate_plan": "string",  # the plan that rated it ("" when the line has none: cost 0, flagged)
    "rate_prefix": "string",  # the plan's prefix that matched (longest prefix)
    "band": "string",  # the time band of the call's start ("" when the plan has one band)
    "billed_s": "float64",  # duration charged after increments and minimum (0 for unanswered, bundle included)
    "bundle_s": "float64",  # of billed_s, the seconds taken from an included-minute bundle (charged 0)
    "cost": "float64",  # connection fee + chargeable minutes x rate, in the plan's currency, rounded to its minor unit
    "currency": "string",
}

ALL_COLUMNS: dict[str, str] = CALL_COLUMNS | RATED_COLUMNS


def empty_calls(columns: dict[str, str] = CALL_COLUMNS) -> pd.DataFrame:
    """A frame with no rows and the given columns and dtypes."""
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})


def conform(frame: pd.DataFrame, columns: dict[str, str] = CALL_COLUMNS) -> pd.DataFrame:
    """``frame`` with exactly ``columns`` in order and their dtypes (a missing column is an error)."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"call frame lacks column(s) {', '.join(missing)}")
    return frame[list(columns)].astype(columns, copy=False)
