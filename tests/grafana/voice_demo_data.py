"""The demo's voice data for the dashboard tests: a few days of calls on the demo trunks (config/lines.yaml:
FRA-VOICE-1 lightly loaded on 30 channels, PAR-VOICE-1 near its 10 channels with calls blocked when they are all
busy, a night-time burst to a high-risk destination on FRA-VOICE-1), rated, stored and aggregated by the voice
pipeline (``collector.voice.pipeline``: H2's rater, H3's store and aggregation) into ``voice_trunk``,
``voice_minutes`` and ``voice_capacity``, plus ``voice_live`` from the live poller's own point builder with the
calls the store holds in progress at each poll (what Kamailio's dialog counts say).

The calls are a deterministic model of their own (normalized call frames, ``linewatch.voice.frame``) rather than
H1's synthetic Master.csv, so the figures the tests expect follow from the store, whatever the model.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from collector.voice.live import LivePoller, LiveReading
from collector.voice.pipeline import VoicePipeline
from linewatch.choices import CallDirection, CallOutcome, LineType
from linewatch.influx import InfluxClient, Point, encode_points
from linewatch.inventory import Inventory
from linewatch.settings import load_settings
from linewatch.voice.config import load_voice_config
from linewatch.voice.frame import conform
from linewatch.voice.store import CallStore

REPO = Path(__file__).resolve().parents[2]
VOICE_MEASUREMENTS = re.compile(r'FROM "voice_(trunk|minutes|capacity|live)"')
LIVE_SOURCE = "kamailio-demo"
LIVE_STEP_S = 60


@dataclass(frozen=True)
class VoiceDemo:
    """What was loaded: the call store (to compute expected figures from) and the points written."""

    store: CallStore
    calls: int
    points: int


class _ClientSink:
    def __init__(self, client: InfluxClient) -> None:
        self.client = client
        self.points = 0

    def write(self, points: Iterable[Point]) -> None:
        batch = list(points)
        for i in range(0, len(batch), 20_000):
            self.client.write(encode_points(batch[i:i + 20_000]))
        self.points += len(batch)


def live_points(store: CallStore, inventory: Inventory, *, start_s: int, end_s: int) -> list[Point]:
    """``voice_live`` every minute of ``[start_s, end_s)``: per trunk the stored calls in progress at that instant
    (start ≤ t < end), and the source's total, through :meth:`LivePoller.points`."""
    lines = {line.id: line for line in inventory.lines if line.type is LineType.VOICE_TRUNK}
    calls = store.calls(lines=sorted(lines), start_s=start_s, end_s=end_s, overlapping=True,
                        columns=["line", "start_s", "end_s"])
    poller = LivePoller([], lines)
    ticks = np.arange(start_s, end_s, LIVE_STEP_S, dtype="float64")
    active = {}
    for line_id in lines:  # per trunk, one sorted-array count over every tick (not a loop per call)
        mine = calls[calls["line"] == line_id]
        starts = np.sort(mine["start_s"].to_numpy(dtype="float64"))
        ends = np.sort(mine["end_s"].to_numpy(dtype="float64"))
        active[line_id] = np.searchsorted(starts, ticks, side="right") - np.searchsorted(ends, ticks, side="right")
    points: list[Point] = []
    for k, t in enumerate(ticks):
        per_line = {line_id: int(counts[k]) for line_id, counts in active.items()}
        reading = LiveReading(LIVE_SOURCE, True, sum(per_line.values()), per_line)
        points += poller.points([reading], t)
    return points


# Per trunk: its extension, carrier-side numbers by destination class, the busy-hour arrivals per minute and the
# holding time. PAR-VOICE-1 offers about 9 Erlangs to 10 channels (about 3 calls a minute of 180 s): some calls
# find every channel busy and are blocked (SIP 503, Q.850 34).
TRUNKS = {
    "FRA-VOICE-1": {"extension": "3101", "per_min": 4.0, "hold_s": 180.0, "trunk": "PJSIP/dtag-sip",
                    "numbers": ["069123456", "030987654", "01701234567", "0033142345678", "09001234567"]},
    "PAR-VOICE-1": {"extension": "4101", "per_min": 3.0, "hold_s": 180.0, "trunk": "obs-sip",
                    "numbers": ["0142345678", "0491234567", "0612345678", "004969123456", "0899123456"]},
}
CLASS_MIX = [0.35, 0.25, 0.25, 0.13, 0.02]  # local, national, mobile, international, premium
FRAUD = {"line": "FRA-VOICE-1", "number": "00882123456789", "calls": 12, "hour_utc": 2}  # 03:00 Berlin


def _daily(t_s: np.ndarray) -> np.ndarray:
    """0.05 at night, 1 from 09:00 to 17:00 UTC (office hours), linear in between."""
    hour = (t_s % 86400) / 3600
    return np.clip(np.minimum(hour - 6, 20 - hour) / 3, 0.05, 1.0)


def model_calls(inventory: Inventory, *, start_s: int, end_s: int, seed: int = 1) -> pd.DataFrame:
    """The normalized calls (CALL_COLUMNS) of the demo trunks in ``[start_s, end_s)``: Poisson arrivals
    following the office-hours profile, exponential holding times, a call blocked when the trunk's contracted
    channels are all held."""
    rng = np.random.default_rng(seed)
    frames = []
    for line_id, trunk in TRUNKS.items():
        line = inventory.lines_by_id[line_id]
        minutes = np.arange(start_s, end_s, 60, dtype="float64")
        counts = rng.poisson(trunk["per_min"] * _daily(minutes))
        starts = np.repeat(minutes, counts) + rng.uniform(0, 60, counts.sum())
        if line_id == FRAUD["line"]:
            nights = np.arange(start_s - start_s % 86400, end_s, 86400) + FRAUD["hour_utc"] * 3600
            nights = nights[(nights >= start_s) & (nights < end_s - 3600)]
            starts = np.concatenate([starts, (nights[:, None] + 60 * np.arange(FRAUD["calls"])).ravel()])
        starts = np.sort(starts)
        n = len(starts)
        hold = rng.exponential(trunk["hold_s"], n).clip(5, 3600)
        ring = rng.uniform(2, 10, n)
        numbers = rng.choice(np.array(trunk["numbers"], dtype=object), n, p=CLASS_MIX)
        fraud = np.zeros(n, dtype=bool)
        if line_id == FRAUD["line"]:
            fraud = ((starts % 86400) // 3600 == FRAUD["hour_utc"]) & ((starts % 60) == 0)
            numbers[fraud] = FRAUD["number"]
        inbound = (rng.random(n) < 0.4) & ~fraud
        unanswered = rng.random(n) < 0.08
        ends = starts + ring + np.where(unanswered, 0.0, hold)
        blocked = np.zeros(n, dtype=bool)
        held: list[float] = []  # channel occupancy: a model of the trunk, not a per-call step of linewatch
        for k in range(n):
            held = [e for e in held if e > starts[k]]
            if line.channels and len(held) >= line.channels:
                blocked[k] = True
                ends[k] = starts[k] + 0.5
            else:
                held.append(ends[k])
        answered = ~blocked & ~unanswered
        frames.append(pd.DataFrame({
            "call_key": [f"{line_id}-{k}" for k in range(n)],
            "source": [f"model:{k + 1}" for k in range(n)],
            "trunk": trunk["trunk"], "line": line_id,
            "start_s": starts, "answer_s": np.where(answered, starts + ring, np.nan), "end_s": ends,
            "duration_s": ends - starts, "billsec_s": np.where(answered, ends - starts - ring, 0.0),
            "caller": np.where(inbound, numbers, trunk["extension"]),
            "callee": np.where(inbound, trunk["extension"], numbers),
            "extension": trunk["extension"],
            "direction": np.where(inbound, CallDirection.INBOUND.value, CallDirection.OUTBOUND.value),
            "outcome": np.select([blocked, unanswered], [CallOutcome.BLOCKED.value, CallOutcome.NO_ANSWER.value],
                                 CallOutcome.ANSWERED.value),
            "sip_code": np.select([blocked, unanswered], [503, 487], 200),
            "q850_cause": np.select([blocked, unanswered], [34, 19], 16),
        }))
    return conform(pd.concat(frames, ignore_index=True))


@dataclass(frozen=True)
class _Batch:
    calls: pd.DataFrame
    problems: list = field(default_factory=list)
    rows: int = 0


def load_voice_demo(client: InfluxClient, inventory: Inventory, work_dir: Path, *, start_s: int, end_s: int,
                    live_from_s: int) -> VoiceDemo:
    """The modelled calls of ``[start_s, end_s)`` through the pipeline into ``client``'s database, and live counts
    from ``live_from_s`` to ``end_s``."""
    config = load_voice_config(load_settings(REPO / "config" / "linewatch.yaml"), inventory)
    calls = model_calls(inventory, start_s=start_s, end_s=end_s)
    store = CallStore(work_dir / "calls.sqlite")
    sink = _ClientSink(client)
    result = VoicePipeline(config, inventory, store, sink).ingest(_Batch(calls, rows=len(calls)), offset=None,
                                                                  source="model")
    sink.write(live_points(store, inventory, start_s=live_from_s, end_s=end_s))
    return VoiceDemo(store=store, calls=result.new, points=sink.points)
