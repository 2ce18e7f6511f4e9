"""bench/history_gen.py's moderate anomalies (``moderate_share``): drawn per anomaly from the seed, in the ranges
the anomaly benchmark documents, labelled with their severity; without them the frames stay those of before."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.history_gen import generate

KW = {"lines": 30, "days": 56, "step_s": 300, "seed": 11, "anomalies_per_line": 1.5}


def test_no_moderate_share_gives_the_same_history_as_the_default_all_large():
    default, zero = generate(**KW), generate(**KW, moderate_share=0.0)
    assert default.frame.equals(zero.frame) and default.anomalies == zero.anomalies
    assert {a.severity for a in default.anomalies} == {"large"}


def test_moderate_anomalies_are_drawn_per_seed_and_lie_in_their_ranges():
    hist = generate(**KW, moderate_share=0.5)
    again = generate(**KW, moderate_share=0.5)
    assert hist.frame.equals(again.frame) and hist.anomalies == again.anomalies
    moderate = [a for a in hist.anomalies if a.severity == "moderate"]
    assert moderate and len(moderate) < len(hist.anomalies), "a mix of both was asked for"
    for label in moderate:
        part = hist.frame[(hist.frame["line"] == label.line) & (hist.frame["time"] >= label.start)
                          & (hist.frame["time"] < label.end)]
        hours = (label.end - label.start) / pd.Timedelta(hours=1)
        if label.kind == "drop":  # a lost LAG member: −30…−50 % of normal, 1 to 6 h
            assert 1.0 <= hours <= 6.0, label
            assert -0.5 - 1e-9 <= label.magnitude_pct / part["expected"].mean() <= -0.3 + 1e-9, label
        elif label.kind == "surge":  # a backup job at night: +20…+40 points, 1 to 4 h
            assert 1.0 <= hours <= 4.0 and 20.0 <= label.magnitude_pct <= 40.0, label
            assert (part["time"].dt.hour <= 8).all(), label
        else:  # traffic moved: ±15…30 % of the level
            assert 0.15 - 1e-9 <= abs(label.magnitude_pct / part["expected"].mean()) <= 0.3 + 1e-9, label
        departure = float(np.clip(part["value"], 0, 100).mean() - part["expected"].mean())
        assert np.sign(departure) == np.sign(label.magnitude_pct), label


@pytest.mark.parametrize("share", [-0.1, 1.5])
def test_a_share_outside_0_to_1_is_refused(share):
    with pytest.raises(ValueError, match="moderate_share"):
        generate(lines=1, days=35, moderate_share=share)
