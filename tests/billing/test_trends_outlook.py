"""read_outlook (linewatch.trends.outlook) against crafted ``line_outlook`` points in a real influxd: the latest
point per line as a whole (a crossing that left the horizon does not come back from an older run), sorted by
days left, lines filtered."""

from __future__ import annotations

import math

import pytest

from linewatch.influx import InfluxClient, InfluxSettings, Point, encode_points
from linewatch.trends.outlook import OUTLOOK_COLUMNS, outlook_statement, read_outlook

pytestmark = pytest.mark.slow

T0 = 1_790_000_000  # a run's time (epoch s)


def _outlook(line: str, t_s: int, **fields: float | str) -> Point:
    return Point("line_outlook", {"line": line}, {"busy_hour_pct": 50.0, **fields}, t_s * 10**9)


@pytest.fixture
def client(influx_db):
    url, db = influx_db
    with InfluxClient(InfluxSettings(url=url, database=db)) as c:
        yield c


def _write(client: InfluxClient, points: list[Point]) -> None:
    client.write(encode_points(points))


def test_latest_point_per_line_is_read_whole_not_field_by_field(client):
    """A's older run crossed 80 % in 10 days, its latest run does not cross within the horizon: NaN, not 10."""
    _write(client, [
        _outlook("A", T0 - 86400, days_to_80=10.0, growth_pct_per_month=4.0),
        _outlook("A", T0, growth_pct_per_month=-1.0, method="robust_seasonal"),
    ])
    [row] = read_outlook(client).to_dict("records")
    assert row["line"] == "A"
    assert math.isnan(row["days_to_80"])
    assert row["growth_pct_per_month"] == -1.0
    assert row["method"] == "robust_seasonal"
    assert row["time"].timestamp() == T0


@pytest.mark.parametrize(
    ("days", "expected_order"),
    [
        pytest.param({"A": 30.0, "B": 3.0, "C": None}, ["B", "A", "C"], id="soonest-first-none-last"),
        pytest.param({"A": None, "B": None, "C": 0.0}, ["C", "A", "B"], id="ties-of-none-by-line"),
    ],
)
def test_sorted_by_days_to_80_lines_without_crossing_last(client, days, expected_order):
    _write(client, [
        _outlook(line, T0, **({} if d is None else {"days_to_80": d})) for line, d in days.items()
    ])
    assert read_outlook(client)["line"].tolist() == expected_order


def test_lines_filter_and_every_contract_column_present(client):
    _write(client, [_outlook("A", T0, projected_amount=12.5, currency="EUR"), _outlook("B", T0)])
    frame = read_outlook(client, lines=["A", "Z"])
    assert frame["line"].tolist() == ["A"]
    assert frame.loc[0, "projected_amount"] == 12.5 and frame.loc[0, "currency"] == "EUR"
    assert list(frame.columns[: len(OUTLOOK_COLUMNS)]) == OUTLOOK_COLUMNS


@pytest.mark.parametrize("lines", [None, []], ids=["nothing-written", "no-lines-asked"])
def test_empty_outlook_has_the_columns(client, lines):
    frame = read_outlook(client, lines=lines)
    assert frame.empty and list(frame.columns) == OUTLOOK_COLUMNS


def test_statement_escapes_line_names():
    assert '/^(?:a\\/b|c)$/' in outlook_statement(["c", "a/b"])
