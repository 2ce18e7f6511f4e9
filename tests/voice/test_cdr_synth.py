"""The modelled month: it parses cleanly, its traffic is the demo's story (a lightly loaded Frankfurt trunk, a Paris
trunk at its channel limit with blocked calls, the night-time toll-fraud burst), its numbers are E.164-correct."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cdr_support import CdrEnv, cdr_env

from collector.voice.synth import FRAUD_CALLS, FRAUD_PREFIXES, fraud_start_s, write_asterisk_month
from linewatch.voice.formats import read_file

NOV_1 = 1_793_491_200  # 2026-11-01T00:00:00Z
DEC_1 = NOV_1 + 30 * 86400


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[CdrEnv, Path, int, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("synth")
    env = cdr_env(folder)
    path = folder / "Master.csv"
    rows = write_asterisk_month(path, env.inventory, start_s=NOV_1, end_s=DEC_1, seed=1)
    batch = read_file(path, env.source("asterisk"), mapper=env.mapper("asterisk"))
    assert batch.problems == []
    return env, path, rows, batch.calls


def busy_max(calls: pd.DataFrame) -> int:
    """Most calls in progress at once (a call holds a channel from start to end)."""
    t = np.concatenate([calls["start_s"].to_numpy(), calls["end_s"].to_numpy()])
    step = np.concatenate([np.ones(len(calls)), -np.ones(len(calls))])
    order = np.lexsort((step, t))  # at the same second an end frees the channel first
    return int(np.cumsum(step[order]).max())


def busy_hour_erlangs(calls: pd.DataFrame) -> float:
    """The busiest clock hour's carried traffic over the month (channel seconds / 3600)."""
    answered = calls[calls["outcome"] != "blocked"]
    hour = (answered["start_s"] // 3600).astype(int)
    return float((answered["end_s"] - answered["start_s"]).groupby(hour).sum().max() / 3600)


def test_every_row_parses_and_rows_are_in_end_order(month) -> None:
    _, path, rows, calls = month
    assert len(calls) == rows == sum(1 for _ in path.open("rb"))
    assert calls["end_s"].is_monotonic_increasing
    assert calls["call_key"].is_unique


def test_frankfurt_is_lightly_loaded(month) -> None:
    _, _, _, calls = month
    fra = calls[calls["line"] == "FRA-VOICE-1"]
    assert 8 <= busy_hour_erlangs(fra) <= 18
    assert busy_max(fra) <= 30
    assert (fra["outcome"] == "blocked").sum() == 0


def test_paris_runs_at_its_channel_limit_and_blocks(month) -> None:
    _, _, _, calls = month
    par = calls[calls["line"] == "PAR-VOICE-1"]
    carried = par[par["outcome"] != "blocked"]
    assert busy_max(carried) == 10  # the limit is reached and never exceeded
    blocked = par[par["outcome"] == "blocked"]
    assert len(blocked) > 100
    assert set(blocked["direction"]) == {"outbound"}
    assert (blocked["duration_s"] == 0).all()


def test_calls_follow_the_working_day(month) -> None:
    _, _, _, calls = month
    local = pd.to_datetime(calls["start_s"], unit="s", utc=True).dt.tz_convert("Europe/Berlin")
    weekday = calls[(local.dt.dayofweek < 5).to_numpy()]
    hours = pd.to_datetime(weekday["start_s"], unit="s", utc=True).dt.tz_convert("Europe/Berlin").dt.hour
    per_hour = hours.value_counts()
    assert per_hour.idxmax() in (9, 10, 11, 14)
    assert per_hour.get(10, 0) > 20 * per_hour.get(2, 1)


def test_the_toll_fraud_burst_hits_frankfurt_at_three_in_the_night_before_the_end(month) -> None:
    _, _, _, calls = month
    at = fraud_start_s(DEC_1)
    assert pd.Timestamp(at, unit="s", tz="UTC").tz_convert("Europe/Berlin").strftime("%Y-%m-%d %H:%M") == \
        "2026-11-30 03:00"
    burst = calls[(calls["start_s"] >= at) & (calls["start_s"] < at + 1800)
                  & calls["callee"].str.match("00(" + "|".join(FRAUD_PREFIXES) + ")")]
    assert len(burst) == FRAUD_CALLS
    assert set(burst["line"]) == {"FRA-VOICE-1"} and set(burst["outcome"]) == {"answered"}
    assert burst["extension"].nunique() == 1


def test_dialled_numbers_are_valid_for_their_country(month) -> None:
    _, _, _, calls = month
    out = calls[calls["direction"] == "outbound"]
    fra, par = out[out["line"] == "FRA-VOICE-1"]["callee"], out[out["line"] == "PAR-VOICE-1"]["callee"]
    national_de = fra[fra.str.match(r"^0[1-9]")]
    assert national_de.str.len().between(10, 12).all()  # 0 + a German NSN of 9 to 11 digits
    national_fr = par[par.str.match(r"^0[1-9]")]
    assert (national_fr.str.len() == 10).all()  # 0 + 9 digits
    international = out[out["callee"].str.startswith("00")]["callee"]
    assert len(international) and international.str.len().between(11, 16).all()
    assert out["callee"].str.fullmatch(r"[0-9]+").all()
    assert set(out["callee"][out["callee"].str.len() <= 3]) <= {"112", "110", "15", "17", "18"}
    inbound = calls[calls["direction"] == "inbound"]["caller"]
    assert inbound.str.fullmatch(r"\+(49[1-9][0-9]{8,10}|33[1-9][0-9]{8})").all()


def test_extensions_are_the_sites_ranges(month) -> None:
    _, _, _, calls = month
    ext = calls["extension"].astype(int)
    fra = ext[calls["line"] == "FRA-VOICE-1"]
    par = ext[calls["line"] == "PAR-VOICE-1"]
    assert fra.between(3100, 3199).all() and par.between(4100, 4139).all()


def test_the_same_seed_writes_the_same_file(month, tmp_path: Path) -> None:
    env, path, _, _ = month
    again = tmp_path / "again.csv"
    write_asterisk_month(again, env.inventory, start_s=NOV_1, end_s=DEC_1, seed=1)
    assert again.read_bytes() == path.read_bytes()


def test_a_row_target_scales_the_model(month, tmp_path: Path) -> None:
    env, _, _, _ = month
    rows = write_asterisk_month(tmp_path / "big.csv", env.inventory, start_s=NOV_1, end_s=NOV_1 + 7 * 86400,
                                target_rows=50_000)
    assert 40_000 <= rows <= 60_000
    assert re.match(rb'^"",', (tmp_path / "big.csv").read_bytes()[:4])
