"""voice.yaml ``rate_plans``: strict validation, each problem located at its entry (file:line: key: reason).

Pure logic: each case writes a voice.yaml with one plan broken in one way and checks the reported key, line and
reason.
"""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from linewatch.errors import ConfigError
from linewatch.voice.config import VoiceConfig
from linewatch.voice.rateplan import RatePlan
from linewatch.yamlconf import load_model

ROOT = Path(__file__).resolve().parents[2]
GOOD = """\
rate_plans:
  - name: p
    currency: EUR
    timezone: Europe/Berlin
    increment: 30/6
    minimum_charge: 0.02
    connection_fee: 0.015
    bands:
      - name: peak
        windows:
          - {days: [mon, tue, wed, thu, fri], start: "08:00", end: "18:00"}
      - name: offpeak
    holidays: {band: offpeak, dates: [2026-12-25]}
    rates:
      - {class: national, rate: {peak: 0.029, offpeak: 0.019}}
      - {prefix: "4915", rate: 0.129}
    bundles:
      - {name: national-1000, minutes: 1000, classes: [national]}
"""


def load(tmp_path: Path, text: str) -> VoiceConfig:
    path = tmp_path / "voice.yaml"
    path.write_text(textwrap.dedent(text))
    return load_model(path, VoiceConfig)[0]


def test_a_good_plan_loads_with_decimal_money(tmp_path: Path) -> None:
    plan = load(tmp_path, GOOD).rate_plans[0]
    assert plan.minimum_charge == Decimal("0.02") and plan.connection_fee == Decimal("0.015")
    assert plan.rates[0].rate == {"peak": Decimal("0.029"), "offpeak": Decimal("0.019")}
    assert (plan.first_s, plan.next_s, plan.minor_unit) == (30, 6, 2)
    assert plan.band_names == ["peak", "offpeak"]


BROKEN = [
    ("unknown-band", ("{class: national, rate: {peak: 0.029, offpeak: 0.019}}",
                      "{class: national, rate: {peak: 0.029, night: 0.019}}"),
     "rate_plans[0].rates[0].rate", 15, "unknown band night"),
    ("missing-band", ("{class: national, rate: {peak: 0.029, offpeak: 0.019}}", "{class: national, rate: {peak: 1}}"),
     "rate_plans[0].rates[0].rate", 15, "no rate for band offpeak"),
    ("duplicate-prefix", ('{prefix: "4915", rate: 0.129}', ('{prefix: "4915", rate: 0.129}\n      - {prefix: "4915", '
                                                           'rate: 0.2}')),
     "rate_plans[0].rates[2]", 17, "prefix 4915 is already rates[1]"),
    ("duplicate-class", ('{prefix: "4915", rate: 0.129}', "{class: national, rate: 0.1}"),
     "rate_plans[0].rates[1]", 16, "class national is already rates[0]"),
    ("overlap", ("      - name: offpeak\n", ("      - name: offpeak\n        windows: [{days: [fri], start: \"17:00\", "
                                             "end: \"24:00\"}]\n")),
     "rate_plans[0].bands[1].windows[0]", 13, "overlaps band peak on fri between 17:00 and 24:00"),
    ("gap", ("      - name: offpeak\n", ("      - name: offpeak\n        windows: [{days: [mon], start: \"00:00\", "
                                         "end: \"08:00\"}]\n")),
     "rate_plans[0].bands", 8, "no band covers mon 18:00"),
    ("two-rest-bands", ("      - name: offpeak\n", "      - name: offpeak\n      - name: night\n"),
     "rate_plans[0].bands[2]", 13, "only one band may have no windows"),
    ("duplicate-band", ("      - name: offpeak\n", "      - name: peak\n"),
     "rate_plans[0].bands[1].name", 12, "band peak is already bands[0]"),
    ("holiday-band", ("{band: offpeak,", "{band: weekend,"), "rate_plans[0].holidays.band", 13, "unknown band 'weekend'"),
    ("increment", ("increment: 30/6", "increment: 30"), "rate_plans[0].increment", 5,
     "expected first/next seconds such as 60/60, 30/6 or 1/1"),
    ("increment-zero", ("increment: 30/6", "increment: 0/6"), "rate_plans[0].increment", 5, "expected first/next"),
    ("currency", ("currency: EUR", "currency: XYZ"), "rate_plans[0].currency", 3, "'XYZ' is not an ISO 4217"),
    ("currency-no-unit", ("currency: EUR", "currency: XAU"), "rate_plans[0].currency", 3, "has no minor unit"),
    ("zone", ("timezone: Europe/Berlin", "timezone: Mars/Olympus"), "rate_plans[0].timezone", 4, "unknown time zone"),
    ("negative-fee", ("connection_fee: 0.015", "connection_fee: -0.015"), "rate_plans[0].connection_fee", 7,
     "greater than or equal to 0"),
    ("too-precise", ("minimum_charge: 0.02", "minimum_charge: 0.0000001"), "rate_plans[0].minimum_charge", 6,
     "at most 6 decimal places"),
    ("window-order", ('start: "08:00", end: "18:00"', 'start: "18:00", end: "08:00"'),
     "rate_plans[0].bands[0].windows[0]", 11, "end 08:00 is not after start 18:00"),
    ("window-time", ('end: "18:00"', 'end: "24:30"'), "rate_plans[0].bands[0].windows[0].end", 11,
     "expected a time HH:MM"),
    ("weekday", ("days: [mon, tue,", "days: [monday, tue,"), "rate_plans[0].bands[0].windows[0].days[0]", 11,
     "Input should be 'mon'"),
    ("two-bundles", ("      - {name: national-1000, minutes: 1000, classes: [national]}",
                     ("      - {name: a, minutes: 1, classes: [national]}\n      - {name: b, minutes: 1, classes: "
                     "[mobile]}")),
     "rate_plans[0].bundles", 17, "at most 1 item"),
    ("bundle-for-nothing", ("minutes: 1000, classes: [national]", "minutes: 1000"), "rate_plans[0].bundles[0]", 18,
     "a bundle needs classes or prefixes"),
    ("rate-prefix-plus", ('{prefix: "4915"', '{prefix: "+4915"'), "rate_plans[0].rates[1].prefix", 16,
     "String should match pattern"),
]


@pytest.mark.parametrize(("old_new", "key", "line", "reason"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_a_broken_plan_is_refused_at_its_entry(tmp_path: Path, old_new: tuple[str, str], key: str, line: int,
                                               reason: str) -> None:
    old, new = old_new
    assert old in GOOD
    with pytest.raises(ConfigError) as err:
        load(tmp_path, GOOD.replace(old, new, 1))
    found = [(p.key, p.line, p.reason) for p in err.value.problems]
    assert any(k == key and ln == line and reason in r for k, ln, r in found), found


def test_per_band_rates_need_bands() -> None:
    with pytest.raises(ValueError, match="per-band rates, but the plan has no bands"):
        RatePlan.model_validate({"name": "p", "currency": "EUR", "rates": [{"rate": {"peak": 1}}]})


def test_a_plan_needs_rates() -> None:
    with pytest.raises(ValueError, match="at least 1 item"):
        RatePlan.model_validate({"name": "p", "currency": "EUR", "rates": []})


def test_the_demo_plans_load() -> None:
    config, _located = load_model(ROOT / "config" / "voice.yaml", VoiceConfig)
    plans = {p.name: p for p in config.rate_plans}
    assert {"dtag-sip-business", "obs-sip-fr"} <= set(plans)
    dtag, obs = plans["dtag-sip-business"], plans["obs-sip-fr"]
    assert (dtag.increment, dtag.bundles[0].minutes, dtag.band_names) == ("60/60", 1000, ["peak", "offpeak"])
    assert (obs.increment, obs.minimum_charge, obs.connection_fee) == ("30/6", Decimal("0.02"), Decimal("0.015"))
