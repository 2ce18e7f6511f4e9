"""A voice line's calls as the pages show them: read from the call store (``linewatch.voice.store``, read-only;
the voice collector writes it), filtered column-wise with pandas, each call's department from the extension
directory. No voice.yaml (voice not in use) or no store yet (nothing collected) is no calls; an invalid voice.yaml
or an unreadable store gives ``error`` set and no calls (the page says why; the log too, the API answers 503)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
from django.conf import settings
from django.utils.translation import gettext as _

from linewatch.errors import LinewatchError
from linewatch.voice.directory import Directory
from web.voice.config import voice

log = logging.getLogger(__name__)

# What the pages and exports show of a call (the store keeps every ALL_COLUMNS column).
COLUMNS = ("start_s", "line", "direction", "caller", "callee", "callee_e164", "extension", "outcome", "sip_code",
           "dest_class", "high_risk", "duration_s", "billsec_s", "billed_s", "cost", "currency", "rate_prefix",
           "band")


@dataclass(frozen=True)
class CallFilter:
    """Calls started in ``[start_s, end_s)`` of ``lines`` (None: every line) with the given direction, destination
    class and outcome (empty: any) whose caller, callee or extension contains ``number``."""

    start_s: float
    end_s: float
    lines: Sequence[str] | None = None
    direction: str = ""
    dest_class: str = ""
    outcome: str = ""
    number: str = ""


@dataclass
class Calls:
    frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    error: str | None = None
    note: str | None = None  # why there are no calls when nothing is wrong (voice unused, nothing collected yet)


def day_bounds(day: dt.date, tz: dt.tzinfo) -> tuple[float, float]:
    """The local day ``day`` in ``tz`` as epoch seconds (23 or 25 hours on a daylight-saving change)."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return start.timestamp(), end.timestamp()


def apply_filter(frame: pd.DataFrame, f: CallFilter) -> pd.DataFrame:
    """The rows of ``frame`` (a call frame) that ``f``'s direction, class, outcome and number select."""
    keep = pd.Series(True, index=frame.index)
    for column, wanted in (("direction", f.direction), ("dest_class", f.dest_class), ("outcome", f.outcome)):
        if wanted:
            keep &= (frame[column] == wanted).fillna(False)
    number = f.number.strip().lstrip("+")
    if number:
        hit = pd.Series(False, index=frame.index)
        for column in ("caller", "callee", "callee_e164", "extension"):
            hit |= frame[column].str.contains(number, regex=False).fillna(False)
        keep &= hit
    return frame[keep.to_numpy()]


def _no_calls() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=object) for column in (*COLUMNS, "department")})


def read_calls(f: CallFilter, *, directory: Directory | None = None, newest_first: bool = True,
               limit: int | None = None) -> Calls:
    """The calls ``f`` selects, newest first, with ``department`` (from ``directory``) added; at most ``limit``."""
    from linewatch.voice.store import open_store, store_path

    loaded = voice()
    if loaded.config is None:
        if not loaded.path.exists():  # voice not configured: no calls, not a fault
            return Calls(frame=_no_calls(), note=_("voice is not configured: %(path)s does not exist") % {
                "path": loaded.path.name})
        return Calls(error=loaded.error)
    if not store_path(settings.LINEWATCH, loaded.config).exists():  # the collector has stored nothing yet
        return Calls(frame=_no_calls(), note=_("the voice collector has stored no calls yet"))
    try:
        with open_store(settings.LINEWATCH, loaded.config, read_only=True) as store:
            frame = store.calls(lines=f.lines, start_s=f.start_s, end_s=f.end_s, columns=COLUMNS,
                                newest_first=newest_first)
    except (LinewatchError, OSError) as exc:  # unreadable, not a call store
        log.warning("voice calls: the call store cannot be read: %s", exc)
        return Calls(error=str(exc))
    except Exception as exc:  # sqlite3.Error and kin: the store is another process's file
        log.warning("voice calls: the call store cannot be read: %s", exc)
        return Calls(error=type(exc).__name__)
    frame = apply_filter(frame, f)
    if limit is not None:
        frame = frame.head(limit)
    if directory is not None:
        frame = frame.assign(department=directory.department_of(frame["extension"]).fillna(""))
    return Calls(frame=frame.reset_index(drop=True))


def records(frame: pd.DataFrame, tz: dt.tzinfo) -> list[dict[str, object]]:
    """The rows as dicts for a template: ``start`` an aware datetime in ``tz``, NaN/<NA> as None."""
    if frame.empty:
        return []
    out = frame.astype(object).where(frame.notna(), None).to_dict("records")
    for row in out:
        row["start"] = dt.datetime.fromtimestamp(float(row["start_s"]), tz)  # type: ignore[arg-type]
    return out
