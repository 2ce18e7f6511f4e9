"""Helpers of the voice app's tests: a voice.yaml and a real call store (linewatch.voice.store) in a temporary
folder, the app's settings pointed at them, and calls built as the pipeline stores them."""

from __future__ import annotations

import calendar
from pathlib import Path
from typing import Any

import pandas as pd

from linewatch.voice.frame import ALL_COLUMNS, conform

NOV_16 = calendar.timegm((2026, 11, 16, 0, 0, 0))  # a Monday, UTC

VOICE_YAML = """\
store_path: calls.sqlite
rate_plans: []
"""

_DEFAULTS: dict[str, Any] = {
    "source": "Master.csv:1", "trunk": "PJSIP/dtag-1", "line": "FRA-VOICE-1", "answer_s": None, "end_s": None,
    "duration_s": 60.0, "billsec_s": 50.0, "caller": "3101", "callee": "069123456", "extension": "3101",
    "direction": "outbound", "outcome": "answered", "sip_code": 200, "q850_cause": 16, "callee_e164": "4969123456",
    "dest_class": "national", "high_risk": False, "rate_plan": "", "rate_prefix": "49", "band": "", "billed_s": 60.0,
    "bundle_s": 0.0, "cost": 0.05, "currency": "EUR",
}


def calls(*rows: dict[str, Any]) -> pd.DataFrame:
    """A call frame (ALL_COLUMNS) of ``rows``: each needs ``call_key`` and ``start_s``; the rest defaults."""
    out = []
    for row in rows:
        r = _DEFAULTS | row
        r["end_s"] = r["end_s"] if r["end_s"] is not None else r["start_s"] + r["duration_s"]
        if r["answer_s"] is None and r["outcome"] == "answered":
            r["answer_s"] = r["end_s"] - r["billsec_s"]
        out.append(r)
    frame = pd.DataFrame(out, columns=list(ALL_COLUMNS))
    return conform(frame, ALL_COLUMNS)


def voice_setup(tmp_path: Path, settings: Any, text: str = VOICE_YAML) -> Path:
    """Write voice.yaml into ``tmp_path``, point the app's settings (pytest-django ``settings``) at it; returns
    the call store's path (not created: the voice collector does that)."""
    path = tmp_path / "voice.yaml"
    path.write_text(text, encoding="utf-8")
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"voice_path": path})
    return tmp_path / "calls.sqlite"
