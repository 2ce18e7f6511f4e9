"""Property: any representable points written to a real influxd read back identically (tags, fields, time)."""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linewatch.influx import InfluxClient, InfluxSettings, Point, encode_points
from linewatch.servers import InfluxdServer

# Names and tag values: printable unicode incl. the characters line protocol escapes (space , = ") but no
# control characters and no backslash (the 1.x parser cannot carry every backslash sequence in names).
NAME_CHARS = st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\\")
names = st.text(NAME_CHARS, min_size=1, max_size=12)
# String field values may hold anything printable plus newline, tab, quote and backslash.
string_values = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=30
)

# Field keys carry their type in a prefix so that random examples never conflict on a field's type.
FIELD_TYPES = {
    "f_": st.floats(allow_nan=False, allow_infinity=False),
    "i_": st.integers(min_value=-(2**63), max_value=2**63 - 1),
    "b_": st.booleans(),
    "s_": string_values,
}
fields = st.one_of(
    *[st.dictionaries(names.map(lambda n, p=prefix: p + n), values, min_size=1, max_size=3)
      for prefix, values in FIELD_TYPES.items()]
)  # fmt: skip
tags = st.dictionaries(names.map(lambda n: "t_" + n), names, max_size=3)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(examples=st.lists(st.tuples(tags, fields), min_size=1, max_size=8))
def test_random_points_read_back_identically(
    influxd: InfluxdServer, examples: list[tuple[dict[str, str], dict[str, object]]]
) -> None:
    measurement = f"prop_{uuid.uuid4().hex[:10]}"
    points = [Point(measurement, t, f, 1_600_000_000_000_000_000 + i) for i, (t, f) in enumerate(examples)]
    with InfluxClient(InfluxSettings(url=influxd.url, database="lw_property")) as client:
        client.ensure_database()
        client.write(encode_points(points))
        series = client.query(f'SELECT * FROM "{measurement}" GROUP BY *', epoch="ns")
    got = {}
    for s in series:
        for row in s["values"]:
            record = dict(zip(s["columns"], row, strict=True))
            time_ns = record.pop("time")
            got[time_ns] = ({k: v for k, v in s["tags"].items() if v != ""},
                            {k: v for k, v in record.items() if v is not None})  # fmt: skip
    expected = {p.time_ns: (dict(p.tags), dict(p.fields)) for p in points}
    assert got.keys() == expected.keys()
    for time_ns, (tags_got, fields_got) in got.items():
        tags_expected, fields_expected = expected[time_ns]
        assert tags_got == tags_expected
        assert fields_got.keys() == fields_expected.keys()
        for key, value in fields_expected.items():
            assert same_value(fields_got[key], value), (key, fields_got[key], value)


def same_value(got: object, expected: object) -> bool:
    """Equal and of the same type; InfluxDB's JSON writes an integral float (2.0, 6.4e16) as an integer."""
    if isinstance(expected, float):
        return type(got) in (int, float) and float(got) == expected  # type: ignore[arg-type]
    return type(got) is type(expected) and got == expected
