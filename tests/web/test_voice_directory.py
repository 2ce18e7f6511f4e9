"""The extension directory's pure logic (linewatch/voice/directory.py): the CSV parser's located problems, the
vectorized lookups (exact beats range, longest range wins, the catch-all), and the cost per department."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from linewatch.errors import ConfigError
from linewatch.voice.directory import (
    Directory,
    Extension,
    department_costs,
    directory_csv,
    parse_directory_csv,
    read_directory,
)

HEADER = "number,department,name,cost_centre\n"

PROBLEMS = [
    ("bad-number", HEADER + "31x,Sales,,\n", ["d.csv:2: number: 31x is not an extension: digits (a leading + "
                                             "allowed), * at the end for a range (e.g. 3101, 31*)"]),
    ("star-inside", HEADER + "3*1,Sales,,\n", ["d.csv:2: number: 3*1 is not an extension"]),
    ("no-department", HEADER + "3101,,,\n", ["d.csv:2: department: required"]),
    ("no-number", HEADER + ",Sales,,\n", ["d.csv:2: number: required"]),
    ("twice", HEADER + "3101,Sales,,\n3101,Engineering,,\n", ["d.csv:3: number: 3101 is listed already (row 2)"]),
    ("range-twice", HEADER + "31*,Sales,,\n31*,Sales,,\n", ["d.csv:3: number: 31* is listed already (row 2)"]),
    ("extra-value", HEADER + "3101,Sales,,,x\n", ["d.csv:2: row: 1 value(s) more than the header's columns"]),
    ("unknown-column", "number,department,room\n3101,Sales,1\n", ["d.csv:1: header: unknown column(s) room"]),
    ("missing-column", "number,name\n3101,Kim\n", ["d.csv:1: header: missing column(s) department"]),
    ("empty-file", "", ["d.csv:1: header: missing column(s) number, department"]),
]


@pytest.mark.parametrize(("text", "expected"), [p[1:] for p in PROBLEMS], ids=[p[0] for p in PROBLEMS])
def test_a_bad_directory_row_is_reported_with_its_row_and_column(text, expected):
    _entries, problems = parse_directory_csv(text, file="d.csv")
    assert len(problems) == len(expected)
    for problem, want in zip(problems, expected, strict=True):
        assert str(problem).startswith(want)


def test_good_rows_load_beside_bad_ones_and_optional_columns_may_be_left_out():
    entries, problems = parse_directory_csv("department,number\nSales,3101\nSales,x\n, \nEngineering, 315* \n",
                                            file="d.csv")
    assert [(p.line, p.key) for p in problems] == [(3, "number")]  # row 4 is empty: skipped, no problem
    assert entries == [Extension("3101", "Sales"), Extension("315*", "Engineering")]


def test_the_csv_written_reads_back_the_same_entries():
    entries = [Extension("3101", "Sales", "Kim, Min-jun", "CC-1"), Extension("31*", "Sales"), Extension("*", "Ops"),
               Extension("+4969123450", "Engineering", '"Lab"')]
    assert parse_directory_csv(directory_csv(entries), file="d.csv") == (entries, [])


DIRECTORY = Directory([Extension("3100", "Reception"), Extension("31*", "Sales", cost_centre="CC-S"),
                       Extension("315*", "Engineering"), Extension("3155", "Lab"), Extension("4*", "Operations"),
                       Extension("*", "Company")])
LOOKUPS = [
    ("exact-beats-range", "3100", "Reception"), ("range", "3101", "Sales"), ("longest-range", "3150", "Engineering"),
    ("exact-inside-longer-range", "3155", "Lab"), ("range-covers-its-prefix", "31", "Sales"),
    ("other-range", "4130", "Operations"), ("catch-all", "999", "Company"), ("spaces-ignored", " 3101 ", "Sales"),
    ("missing-number", None, None),
]


@pytest.mark.parametrize(("number", "department"), [c[1:] for c in LOOKUPS], ids=[c[0] for c in LOOKUPS])
def test_a_numbers_department_is_its_exact_entry_else_its_longest_range(number, department):
    found = DIRECTORY.department_of(pd.Series([number], dtype="string"))
    assert (None if pd.isna(found.iloc[0]) else found.iloc[0]) == department


def test_lookups_keep_the_index_and_answer_na_without_a_catch_all():
    directory = Directory([Extension("31*", "Sales", cost_centre="CC-S")])
    numbers = pd.Series(["3101", "4101", "3102"], index=[7, 8, 9], dtype="string")
    assert directory.department_of(numbers).tolist() == ["Sales", pd.NA, "Sales"]
    assert directory.cost_centre_of(numbers).index.tolist() == [7, 8, 9]
    assert directory.cost_centre_of(numbers).tolist() == ["CC-S", pd.NA, "CC-S"]


def test_many_calls_are_looked_up_by_their_distinct_numbers():
    numbers = pd.Series([f"31{i % 100:02d}" for i in range(200_000)], dtype="string")  # 3100..3199, 2,000 each
    counts = DIRECTORY.department_of(numbers).value_counts().to_dict()
    assert counts == {"Sales": 89 * 2000, "Engineering": 9 * 2000, "Lab": 2000, "Reception": 2000}


def test_department_costs_sum_calls_minutes_and_cost_per_department_and_currency():
    calls = pd.DataFrame({
        "extension": pd.Series(["3101", "3102", "3150", "9999", None, "3101"], dtype="string"),
        "outcome": ["answered", "blocked", "answered", "answered", "answered", "answered"],
        "billsec_s": [120.0, 0.0, 30.0, 60.0, 60.0, 60.0],
        "cost": [0.10, 0.0, 0.02, 0.05, 0.07, 0.20],
        "currency": pd.Series(["EUR", "EUR", "EUR", "EUR", "EUR", "USD"], dtype="string"),
    })
    directory = Directory([Extension("31*", "Sales"), Extension("315*", "Engineering")])
    table = department_costs(calls, directory)
    assert table.to_dict("records") == [
        {"department": "Engineering", "calls": 1, "answered": 1, "minutes": 0.5, "cost": 0.02, "currency": "EUR"},
        {"department": "Sales", "calls": 2, "answered": 1, "minutes": 2.0, "cost": 0.10, "currency": "EUR"},
        {"department": "Sales", "calls": 1, "answered": 1, "minutes": 1.0, "cost": 0.20, "currency": "USD"},
        {"department": "", "calls": 2, "answered": 2, "minutes": 2.0, "cost": 0.12, "currency": "EUR"},
    ]


def test_department_costs_of_no_calls_is_an_empty_table_with_the_columns():
    table = department_costs(pd.DataFrame({"extension": pd.Series([], dtype="string"), "billsec_s": [],
                                           "outcome": []}), Directory())
    assert list(table.columns) == ["department", "calls", "answered", "minutes", "cost", "currency"]
    assert table.empty


def test_a_directory_file_with_problems_is_a_config_error_naming_each(tmp_path: Path):
    path = tmp_path / "extensions.csv"
    path.write_text(HEADER + "3101,Sales,,\nx,Sales,,\n3101,Sales,,\n", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        read_directory(path)
    assert [p.line for p in exc.value.problems] == [3, 4]
    path.write_text(HEADER + "3101,Sales,,\n", encoding="utf-8")
    assert read_directory(path).entries == (Extension("3101", "Sales"),)


def test_the_demo_directory_covers_the_demo_extensions():
    directory = read_directory(Path(__file__).resolve().parents[2] / "config" / "extensions.csv")
    numbers = pd.Series(["3100", "3149", "3150", "3199", "4100", "4129", "4130", "4139"], dtype="string")
    assert directory.department_of(numbers).tolist() == ["Sales", "Sales", "Engineering", "Engineering",
                                                         "Operations", "Operations", "Finance", "Finance"]
