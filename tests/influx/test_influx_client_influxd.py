"""InfluxClient against a real influxd (1.6): write, query, query_frame and the error contract."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from linewatch.errors import InfluxDatabaseNotFound, InfluxQueryError, InfluxRejected, InfluxUnavailable
from linewatch.influx import InfluxClient, InfluxSettings, Point, encode_points
from linewatch.servers import free_tcp_port

S = 1_000_000_000


@pytest.fixture(params=[pytest.param(True, id="gzip"), pytest.param(False, id="plain")])
def client(request: pytest.FixtureRequest, influx_db: tuple[str, str]) -> Iterator[InfluxClient]:
    url, dbname = influx_db
    with InfluxClient(InfluxSettings(url=url, database=dbname, gzip=request.param)) as c:
        yield c


def test_ping_returns_the_server_version(client: InfluxClient) -> None:
    assert client.ping().startswith("1.")


def test_written_points_come_back_from_query(client: InfluxClient) -> None:
    client.write(
        encode_points(
            [
                Point("if_traffic", {"line_id": "L1"}, {"in_bps": 1.5, "oper": 1}, 10 * S),
                Point("if_traffic", {"line_id": "L2"}, {"in_bps": 2.5, "oper": 2}, 20 * S),
            ]
        )
    )
    series = client.query("SELECT in_bps, oper FROM if_traffic GROUP BY line_id")
    assert series == [
        {"name": "if_traffic", "tags": {"line_id": "L1"}, "columns": ["time", "in_bps", "oper"],
         "values": [[10, 1.5, 1]]},
        {"name": "if_traffic", "tags": {"line_id": "L2"}, "columns": ["time", "in_bps", "oper"],
         "values": [[20, 2.5, 2]]},
    ]  # fmt: skip


def test_precision_applies_to_the_written_timestamps(client: InfluxClient) -> None:
    client.write(b"m v=1 42\n", precision="s")
    assert client.query("SELECT v FROM m", epoch="ns")[0]["values"] == [[42 * S, 1]]


def test_query_flattens_series_over_several_statements(client: InfluxClient) -> None:
    client.write(b"a v=1 1000000000\nb w=2 2000000000\n")
    series = client.query("SELECT v FROM a; SELECT w FROM b")
    assert [(s["name"], s["values"]) for s in series] == [("a", [[1, 1]]), ("b", [[2, 2]])]


def test_query_frame_has_time_tags_then_values(client: InfluxClient) -> None:
    client.write(b"m,line_id=L1 v=1 1000000000\nm,line_id=L2 v=2 2000000000\n")
    frame = client.query_frame("SELECT v FROM m GROUP BY line_id")
    assert list(frame.columns) == ["time", "line_id", "v"]
    assert frame["time"].tolist() == [
        pd.Timestamp(1, unit="s", tz="UTC"),
        pd.Timestamp(2, unit="s", tz="UTC"),
    ]
    assert frame["line_id"].tolist() == ["L1", "L2"]
    assert str(frame["time"].dtype).startswith("datetime64")


def test_query_frame_names_the_measurement_when_several(client: InfluxClient) -> None:
    client.write(b"a v=1 1000000000\nb v=2 2000000000\n")
    frame = client.query_frame("SELECT v FROM a, b")
    assert list(frame.columns) == ["_measurement", "time", "v"]
    assert frame["_measurement"].tolist() == ["a", "b"]


def test_query_frame_of_nothing_is_empty(client: InfluxClient) -> None:
    assert client.query_frame("SELECT v FROM nothing_here").empty


def test_bad_line_protocol_is_rejected_with_the_server_message(client: InfluxClient) -> None:
    with pytest.raises(InfluxRejected, match="unable to parse 'this is bad'"):
        client.write(b"this is bad\n")


def test_field_type_conflict_is_rejected_as_partial_write(client: InfluxClient) -> None:
    client.write(b"m v=1.5 1000000000\n")
    with pytest.raises(InfluxRejected, match="field type conflict"):
        client.write(b"m v=2.5 2000000000\nm v=3i 3000000000\n")
    assert client.query("SELECT count(v) FROM m")[0]["values"][0][1] == 2  # the good point was written


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        pytest.param("SELEC v FROM m", "error parsing query", id="syntax"),
        pytest.param(
            "SELECT v FROM m; SELECT nope(v) FROM m", "undefined function nope", id="second-statement"
        ),
    ],
)
def test_query_error_raises_with_the_statement_error(
    client: InfluxClient, statement: str, message: str
) -> None:
    with pytest.raises(InfluxQueryError, match=message):
        client.query(statement)


def test_write_to_a_missing_database_says_so(influx_db: tuple[str, str]) -> None:
    settings = InfluxSettings(url=influx_db[0], database="lw_missing_db", create_database=False)
    with InfluxClient(settings) as c, pytest.raises(InfluxDatabaseNotFound, match="database not found"):
        c.write(b"m v=1\n")


def test_ensure_database_creates_it(influx_db: tuple[str, str]) -> None:
    name = f"{influx_db[1]}_created"
    with InfluxClient(InfluxSettings(url=influx_db[0], database=name)) as c:
        c.ensure_database()
        c.write(b"m v=1 1000000000\n")
        assert c.query("SELECT v FROM m")[0]["values"] == [[1, 1]]
        c.query(f'DROP DATABASE "{name}"', database="")


@pytest.mark.parametrize("method", ["ping", "write", "query"])
def test_connection_refused_is_unavailable(method: str) -> None:
    settings = InfluxSettings(url=f"http://127.0.0.1:{free_tcp_port()}", timeout_s=2)
    calls = {
        "ping": lambda c: c.ping(),
        "write": lambda c: c.write(b"m v=1\n"),
        "query": lambda c: c.query("SHOW DATABASES"),
    }
    with InfluxClient(settings) as c, pytest.raises(InfluxUnavailable, match="ConnectionError"):
        calls[method](c)
