"""Line-protocol encoding: escaping, types and skip rules (pure, no server)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from linewatch.errors import LineProtocolError
from linewatch.influx import Point, encode_point, encode_points

T = 1_700_000_000_000_000_000


@pytest.mark.parametrize(
    ("point", "line"),
    [
        pytest.param(Point("cpu", {}, {"v": 1.5}, T), f"cpu v=1.5 {T}", id="float"),
        pytest.param(Point("cpu", {}, {"v": 2.0}, T), f"cpu v=2.0 {T}", id="integral-float-stays-float"),
        pytest.param(Point("cpu", {}, {"v": 1e-300}, T), f"cpu v=1e-300 {T}", id="float-exponent"),
        pytest.param(Point("cpu", {}, {"v": 7}, T), f"cpu v=7i {T}", id="int-suffix"),
        pytest.param(
            Point("cpu", {}, {"v": -(2**63)}, T), f"cpu v=-9223372036854775808i {T}", id="int64-min"
        ),
        pytest.param(Point("cpu", {}, {"v": True, "w": False}, T), f"cpu v=true,w=false {T}", id="bools"),
        pytest.param(Point("cpu", {}, {"v": 'say "hi"'}, T), f'cpu v="say \\"hi\\"" {T}', id="string-quote"),
        pytest.param(
            Point("cpu", {}, {"v": "C:\\dir\\"}, T), f'cpu v="C:\\\\dir\\\\" {T}', id="string-backslash"
        ),
        pytest.param(
            Point("cpu", {}, {"v": "a,b =c"}, T), f'cpu v="a,b =c" {T}', id="string-keeps-comma-space"
        ),
        pytest.param(
            Point("my cpu,x", {}, {"v": 1.0}, T), f"my\\ cpu\\,x v=1.0 {T}", id="measurement-escapes"
        ),
        pytest.param(Point("a=b", {}, {"v": 1.0}, T), f"a=b v=1.0 {T}", id="measurement-keeps-equals"),
        pytest.param(
            Point("m", {"k ,=": "v ,="}, {"f ,=": 1.0}, T),
            f"m,k\\ \\,\\==v\\ \\,\\= f\\ \\,\\==1.0 {T}",
            id="tag-and-field-key-escapes",
        ),
        pytest.param(
            Point("m", {"b": "2", "a": "1"}, {"v": 1.0}, T), f"m,a=1,b=2 v=1.0 {T}", id="tags-sorted"
        ),
        pytest.param(
            Point("m", {"a": "", "b": "x"}, {"v": 1.0}, T), f"m,b=x v=1.0 {T}", id="empty-tag-omitted"
        ),
        pytest.param(
            Point("m", {}, {"n": float("nan"), "i": float("inf"), "v": 1.0}, T),
            f"m v=1.0 {T}",
            id="nan-inf-skipped",
        ),
        pytest.param(Point("m", {}, {"n": float("nan")}, T), "", id="no-field-left-skips-point"),
        pytest.param(
            Point("m", {}, {"v": np.float64(0.5), "i": np.int64(3)}, T), f"m v=0.5,i=3i {T}", id="numpy"
        ),
        pytest.param(Point("m", {"h": "é"}, {"v": "ü"}, T), f'm,h=é v="ü" {T}', id="unicode"),
    ],
)
def test_encode_point_escapes_and_types(point: Point, line: str) -> None:
    assert encode_point(point) == line


@pytest.mark.parametrize(
    ("point", "reason"),
    [
        pytest.param(Point("", {}, {"v": 1.0}, T), "measurement is empty", id="empty-measurement"),
        pytest.param(Point("#m", {}, {"v": 1.0}, T), "comment", id="hash-measurement"),
        pytest.param(Point("m", {"a\nb": "x"}, {"v": 1.0}, T), "newline", id="newline-in-tag-key"),
        pytest.param(Point("m", {"a": "x\ny"}, {"v": 1.0}, T), "newline", id="newline-in-tag-value"),
        pytest.param(Point("m", {"a": "x\\"}, {"v": 1.0}, T), "backslash", id="tag-value-trailing-backslash"),
        pytest.param(Point("m", {}, {"v": 2**63}, T), "outside int64", id="int-overflow"),
        pytest.param(Point("m", {}, {"v": [1]}, T), "unsupported type list", id="list-field"),
        pytest.param(Point("m", {}, {"": 1.0}, T), "empty", id="empty-field-key"),
        pytest.param(Point("m", {"a": 1}, {"v": 1.0}, T), "not str", id="non-str-tag"),  # type: ignore[dict-item]
        pytest.param(Point("m", {}, {"v": 1.0}, 1.5), "not int", id="float-time"),  # type: ignore[arg-type]
    ],
)
def test_unrepresentable_point_raises_naming_the_problem(point: Point, reason: str) -> None:
    with pytest.raises(LineProtocolError, match=reason):
        encode_point(point)


def test_encode_points_joins_lines_and_skips_bad_points_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    points = [
        Point("m", {}, {"v": 1.0}, 1),
        Point("m", {"a": "x\ny"}, {"v": 1.0}, 2),
        Point("m", {}, {"v": float("nan")}, 3),
        Point("m", {}, {"v": 2.0}, 4),
    ]
    with caplog.at_level(logging.WARNING):
        body = encode_points(points)
    assert body == b"m v=1.0 1\nm v=2.0 4\n"
    assert "newline" in caplog.text


def test_encode_points_of_nothing_is_empty() -> None:
    assert encode_points([]) == b""


def test_point_is_immutable() -> None:
    point = Point("m", {}, {"v": 1.0}, 1)
    with pytest.raises(AttributeError):
        point.measurement = "x"  # type: ignore[misc]
