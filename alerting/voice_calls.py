"""The calls behind a toll-fraud alert: the destinations its message names (``+882…, +53…``), read from the call
store (``linewatch.voice.store``, docs/voice.md); and the currency of each rate plan (voice.yaml) for the costs.

InfluxDB has the counts per minute (``voice_trunk.premium``, ``high_risk``, ``international``), not the numbers;
the call store has every rated call. It is read (read-only) only when a ``premium_destination`` or
``after_hours_international`` alert changes state, never in the evaluation's hot path, and a store that is missing
or unreadable only leaves the destinations out of the message (logged once).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from alerting.config import BusinessHours
from linewatch.choices import AlertRuleKind, CallDirection, DestinationClass
from linewatch.errors import LinewatchError

log = logging.getLogger(__name__)

MAX_DESTINATIONS = 5
_COLUMNS = ("start_s", "direction", "callee_e164", "dest_class", "high_risk", "rate_prefix")
FRAUD_KINDS = (AlertRuleKind.PREMIUM_DESTINATION, AlertRuleKind.AFTER_HOURS_INTERNATIONAL)


class CallLookup(Protocol):
    """The destinations of one line's suspicious calls for a rule (``eff``: the line's effective rule)."""

    def __call__(self, eff: Any, *, line: str, start_s: float, end_s: float) -> list[str]: ...


def outside_hours_mask(start_s: pd.Series, hours: BusinessHours) -> pd.Series:
    """Per call, whether it started outside the business hours (in their time zone), column-wise."""
    local = pd.to_datetime(start_s, unit="s", utc=True).dt.tz_convert(hours.timezone)
    minute = local.dt.hour * 60 + local.dt.minute
    workday = local.dt.day_name().str.lower().isin(hours.weekdays)
    open_ = (minute >= hours.start.hour * 60 + hours.start.minute) & (minute < hours.end.hour * 60 + hours.end.minute)
    return ~(workday & open_)


def suspicious(calls: pd.DataFrame, eff: Any) -> pd.DataFrame:
    """The calls a fraud rule counts: premium or high-risk destinations, or outbound international calls
    started outside business hours."""
    if eff.kind is AlertRuleKind.PREMIUM_DESTINATION:
        return calls[(calls["dest_class"] == DestinationClass.PREMIUM) | calls["high_risk"]]
    international = calls[(calls["direction"] == CallDirection.OUTBOUND)
                          & (calls["dest_class"] == DestinationClass.INTERNATIONAL)]
    return international[outside_hours_mask(international["start_s"], eff.business_hours)]


def top_destinations(calls: pd.DataFrame, *, limit: int = MAX_DESTINATIONS) -> list[str]:
    """The most called destinations, most calls first: the rate plan's prefix that matched (a country or range,
    ``+882…``), else the number's first four digits; ``(n)`` when called more than once."""
    if calls.empty:
        return []
    prefix = calls["rate_prefix"].fillna("").astype(str)
    prefix = prefix.where(prefix != "", calls["callee_e164"].fillna("").astype(str).str[:4])
    counts = prefix[prefix != ""].value_counts(sort=False).sort_index()
    counts = counts.sort_values(ascending=False, kind="stable").head(limit)
    return [f"+{p}…" + (f" ({n})" if n > 1 else "") for p, n in counts.items()]


class StoreDestinations:
    """:class:`CallLookup` over the call store file ``path`` (opened read-only for each lookup)."""

    def __init__(self, path: Path):
        self.path = path
        self._failed = False

    def __call__(self, eff: Any, *, line: str, start_s: float, end_s: float) -> list[str]:
        from linewatch.voice.store import CallStore

        try:
            with CallStore(self.path, read_only=True) as store:
                calls = store.calls(lines=[line], start_s=start_s, end_s=end_s, columns=_COLUMNS)
        except (LinewatchError, OSError, ValueError) as exc:
            if not self._failed:
                log.warning("toll-fraud alerts name no destinations: call store unreadable: %s", exc)
            self._failed = True
            return []
        self._failed = False
        return top_destinations(suspicious(calls, eff))


@dataclass(frozen=True)
class VoiceFacts:
    """What voice.yaml adds to the voice alerts: the call store lookup and each rate plan's currency."""

    call_lookup: CallLookup | None = None
    plan_currency: Mapping[str, str] = field(default_factory=dict)


def load_voice_facts(settings: Any) -> VoiceFacts:
    """From the configured voice.yaml; empty when it does not load (its own checker says why)."""
    try:
        from linewatch.voice.config import load_voice_config
        from linewatch.voice.store import store_path

        voice = load_voice_config(settings)
    except LinewatchError as exc:
        log.info("voice alerts without destinations and currencies: %s", exc)
        return VoiceFacts()
    return VoiceFacts(StoreDestinations(store_path(settings, voice)), {p.name: p.currency for p in voice.rate_plans})
