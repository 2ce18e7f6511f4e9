"""voice.yaml ``numbering``: dialled numbers to E.164, destination classes, emergency and high-risk numbers.

Pure logic (no server): each table row is one dialled number and what linewatch must make of it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from linewatch.errors import ConfigError
from linewatch.voice.config import VoiceConfig
from linewatch.voice.numbering import DEFAULT_HIGH_RISK_PREFIXES, NumberingConfig, longest_prefix
from linewatch.yamlconf import load_model

ROOT = Path(__file__).resolve().parents[2]

NUMBERING = NumberingConfig(classes=[
    {"prefix": "4969", "class": "local"},
    {"prefix": "4915", "class": "mobile"},
    {"prefix": "49800", "class": "toll_free"},
    {"prefix": "49900", "class": "premium"},
    {"prefix": "331", "class": "local"},
    {"prefix": "336", "class": "mobile"},
    {"prefix": "3389", "class": "premium"},
    {"prefix": "33118", "class": "premium"},
])


def e164(number: str | None, cc: str = "49", numbering: NumberingConfig = NUMBERING) -> str | None:
    out = numbering.to_e164(pd.Series([number], dtype="string"), pd.Series([cc], dtype="string")).iloc[0]
    return None if pd.isna(out) else out


def classify(number: str | None, cc: str = "49") -> tuple[str, bool]:
    dialled = pd.Series([number], dtype="string")
    codes = pd.Series([cc], dtype="string")
    dest, risk = NUMBERING.classify(NUMBERING.to_e164(dialled, codes), codes, dialled)
    return dest.iloc[0], bool(risk.iloc[0])


@pytest.mark.parametrize(("dialled", "cc", "expected"), [
    ("069 1234567", "49", "49691234567"),  # national: trunk prefix 0 dropped, country code added
    ("004969123456", "49", "4969123456"),  # international prefix
    ("+49 (69) 123-456", "49", "4969123456"),  # '+' and formatting
    ("0033612345678", "49", "33612345678"),
    ("0612345678", "33", "33612345678"),  # a French national number on a Paris trunk
    ("sip:+33612345678@10.0.0.1;user=phone", "49", "33612345678"),  # SIP URI user part
    ("tel:+4930123456", "33", "4930123456"),
    ("4969123456789", "49", "4969123456789"),  # 13 digits without prefix: E.164 without its '+'
    ("11833", "49", "4911833"),  # a short service number of the trunk's country
    ("3150", "49", "493150"),
    ("", "49", None),
    (None, "49", None),
    ("anonymous", "49", None),
    ("+0123456", "49", None),  # E.164 never starts with 0
    ("00491234567890123456", "49", None),  # longer than 15 digits
    ("+1", "49", None),  # shorter than 3 digits
], ids=lambda v: repr(v))
def test_dialled_numbers_become_e164_in_the_trunks_country(dialled: str | None, cc: str, expected: str | None) -> None:
    assert e164(dialled, cc) == expected


def test_a_missing_country_code_is_numbering_country_code() -> None:
    out = NUMBERING.to_e164(pd.Series(["069123"], dtype="string"), pd.Series([None], dtype="string"))
    assert out.tolist() == ["4969123"]


def test_a_plan_without_national_prefix_keeps_leading_digits() -> None:
    italy = NumberingConfig(country_code="39", national_prefix="", bare_e164_min_digits=12)
    assert e164("0612345678", "39", italy) == "390612345678"  # Italy keeps the 0 of Rome in E.164
    assert e164("00493012345", "39", italy) == "493012345"


@pytest.mark.parametrize(("dialled", "cc", "dest_class", "high_risk"), [
    ("0691234567", "49", "local", False),
    ("0301234567", "49", "national", False),  # no class prefix, the trunk's own country
    ("015112345678", "49", "mobile", False),
    ("0800123456", "49", "toll_free", False),
    ("0900123456", "49", "premium", False),
    ("0033612345678", "49", "international", False),  # a French mobile called from Germany
    ("004915112345678", "33", "international", False),  # a German mobile called from Paris
    ("0033891234567", "49", "premium", False),  # a premium prefix counts from every trunk
    ("0612345678", "33", "mobile", False),
    ("0123456789", "33", "local", False),
    ("118712", "33", "premium", False),  # French directory enquiries, a short number
    ("112", "49", "emergency", False),
    ("110", "49", "emergency", False),
    ("15", "33", "emergency", False),
    ("+882123456789", "49", "international", True),  # international networks: toll-fraud target
    ("005312345678", "49", "international", True),  # Cuba
    ("0018761234567", "49", "international", True),  # Jamaica (NANP)
    ("0012125551234", "49", "international", False),  # New York (NANP, not high risk)
    ("anonymous", "49", "unknown", False),
], ids=lambda v: repr(v))
def test_destination_class_and_high_risk(dialled: str, cc: str, dest_class: str, high_risk: bool) -> None:
    assert classify(dialled, cc) == (dest_class, high_risk)


def test_classify_keeps_the_index_and_order_of_the_calls() -> None:
    dialled = pd.Series(["112", "0691", "+88212345"], index=[7, 3, 5], dtype="string")
    codes = pd.Series(["49"] * 3, index=[7, 3, 5], dtype="string")
    dest, risk = NUMBERING.classify(NUMBERING.to_e164(dialled, codes), codes, dialled)
    assert list(dest.index) == [7, 3, 5] and dest.tolist() == ["emergency", "local", "international"]
    assert risk.tolist() == [False, False, True]


def test_many_calls_of_two_countries_are_classified_column_wise() -> None:
    n = 20_000
    dialled = pd.Series(["0691234567", "0612345678"] * (n // 2), dtype="string")
    codes = pd.Series(["49", "33"] * (n // 2), dtype="string")
    dest, _risk = NUMBERING.classify(NUMBERING.to_e164(dialled, codes), codes, dialled)
    assert dest.value_counts().to_dict() == {"local": n // 2, "mobile": n // 2}


@pytest.mark.parametrize(("prefixes", "numbers", "expected"), [
    ({"49": 0, "4969": 1, "496": 2}, ["4969123", "4960000", "4930000", "33123"], [1, 2, 0, -1]),
    ({"": 5, "1": 6}, ["123", "456"], [6, 5]),  # "" matches every number
    ({"123456789012345": 1}, ["123456789012345", "12345678901234"], [1, -1]),  # 15 digits, int64-safe
], ids=["longest-wins", "empty-prefix", "fifteen-digits"])
def test_longest_prefix(prefixes: dict[str, int], numbers: list[str], expected: list[int]) -> None:
    import pyarrow as pa

    assert longest_prefix(pa.array(numbers, pa.large_string()), prefixes).tolist() == expected


@pytest.mark.parametrize(("numbering", "reason"), [
    ({"classes": [{"prefix": "4915", "class": "mobile"}, {"prefix": "4915", "class": "premium"}]},
     "prefix 4915 is already classes[0]"),
    ({"classes": [{"prefix": "+4915", "class": "mobile"}]}, "String should match pattern"),
    ({"classes": [{"prefix": "4915", "class": "unknown"}]}, "'unknown' is what no prefix matching means"),
    ({"classes": [{"prefix": "4915", "class": "fixed"}]}, "Input should be"),
    ({"emergency_numbers": ["112", "11a"]}, "'11a': expected 1 to 15 digits"),
    ({"emergency_numbers": ["112", "112"]}, "listed twice: 112"),
    ({"high_risk_prefixes": ["0882"]}, "'0882': expected E.164 digits"),
    ({"national_prefix": "0", "international_prefix": "0"}, "must differ"),
    ({"country_code": "049"}, "String should match pattern"),
], ids=["duplicate-prefix", "plus-in-prefix", "unknown-class", "bad-class", "emergency-letters",
        "emergency-twice", "high-risk-leading-zero", "same-prefixes", "country-code"])
def test_bad_numbering_is_refused_with_the_reason(tmp_path: Path, numbering: dict, reason: str) -> None:
    import yaml

    path = tmp_path / "voice.yaml"
    path.write_text(yaml.safe_dump({"numbering": numbering}))
    with pytest.raises(ConfigError) as err:
        load_model(path, VoiceConfig)
    assert reason in str(err.value)
    assert all(p.key.startswith("numbering") for p in err.value.problems)


def test_defaults_list_the_high_risk_ranges_and_eu_emergency_number() -> None:
    default = NumberingConfig()
    assert "112" in default.emergency_numbers and "882" in default.high_risk_prefixes
    assert list(DEFAULT_HIGH_RISK_PREFIXES) == default.high_risk_prefixes


def test_the_demo_numbering_classifies_the_demo_trunks_numbers() -> None:
    config, _located = load_model(ROOT / "config" / "voice.yaml", VoiceConfig)
    numbering = config.numbering
    dialled = pd.Series(["069 12345", "01701234567", "0033142345678", "0142345678", "00882123456", "112"],
                        dtype="string")
    codes = pd.Series(["49", "49", "49", "33", "49", "33"], dtype="string")
    dest, risk = numbering.classify(numbering.to_e164(dialled, codes), codes, dialled)
    assert dest.tolist() == ["local", "mobile", "international", "local", "international", "emergency"]
    assert risk.tolist() == [False, False, False, False, True, False]
