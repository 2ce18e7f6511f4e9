"""PointWriter retry / drop / spool policy against a scripted loopback HTTP server and a fake clock."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from influx_test_support import FakeClock, ScriptedInflux

from linewatch.influx import DiskSpool, InfluxClient, InfluxSettings, Point, PointWriter


def points(n: int, start: int = 0) -> list[Point]:
    return [Point("m", {"line": "L1"}, {"v": float(i)}, 1_000 + i) for i in range(start, start + n)]


def lines_of(bodies: list[bytes]) -> list[bytes]:
    return [line for body in bodies for line in body.splitlines()]


def make_writer(
    script: ScriptedInflux, clock: FakeClock, spool_dir: Path, *, gzip: bool = True, **kwargs: object
) -> PointWriter:
    settings = InfluxSettings(url=script.url, database="db", gzip=gzip, timeout_s=5, create_database=False)
    options: dict = {"batch_size": 100, "max_attempts": 5, "backoff_initial_s": 0.5, "backoff_max_s": 30.0}
    options.update(kwargs)
    return PointWriter(
        InfluxClient(settings), DiskSpool(spool_dir, 10_000), sleep=clock.sleep, clock=clock.clock, **options
    )


@pytest.mark.parametrize("gzip", [pytest.param(True, id="gzip"), pytest.param(False, id="plain")])
def test_5xx_is_retried_with_the_same_batch_then_sent(
    scripted_influx: ScriptedInflux, fake_clock: FakeClock, tmp_path: Path, gzip: bool
) -> None:
    scripted_influx.statuses = [500, 503]
    with make_writer(scripted_influx, fake_clock, tmp_path, gzip=gzip) as writer:
        writer.write(points(3))
        stats = writer.stats()
    assert len(scripted_influx.bodies) == 3
    assert scripted_influx.bodies[0] == scripted_influx.bodies[1] == scripted_influx.bodies[2]
    assert fake_clock.sleeps == [0.5, 1.0]
    assert (stats.sent_batches, stats.sent_points) == (1, 3)
    assert (stats.spooled_batches, stats.dropped_batches) == (0, 0)


def test_4xx_is_dropped_without_retry_and_logged_with_the_server_message(
    scripted_influx: ScriptedInflux, fake_clock: FakeClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    scripted_influx.statuses = [400]
    with make_writer(scripted_influx, fake_clock, tmp_path) as writer, caplog.at_level(logging.ERROR):
        writer.write(points(3))
        stats = writer.stats()
    assert len(scripted_influx.bodies) == 1 and fake_clock.sleeps == []
    assert (stats.dropped_batches, stats.sent_batches, stats.spooled_batches) == (1, 0, 0)
    assert "scripted error 400" in caplog.text


@pytest.mark.parametrize(
    ("max_attempts", "initial_s", "max_s", "max_retry_s", "sleeps"),
    [
        pytest.param(3, 0.5, 30.0, 60.0, [0.5, 1.0], id="max-attempts-bounds-retries"),
        pytest.param(6, 1.0, 3.0, 60.0, [1.0, 2.0, 3.0, 3.0, 3.0], id="backoff-capped-at-max"),
        pytest.param(10, 1.0, 30.0, 2.5, [1.0], id="total-retry-time-bounded"),
        pytest.param(1, 1.0, 30.0, 60.0, [], id="single-attempt"),
    ],
)
@pytest.mark.parametrize("status", [pytest.param(s, id=str(s)) for s in (500, 503, 429, 408)])
def test_unavailable_batch_is_retried_with_bounded_backoff_then_spooled(
    scripted_influx: ScriptedInflux,
    fake_clock: FakeClock,
    tmp_path: Path,
    max_attempts: int,
    initial_s: float,
    max_s: float,
    max_retry_s: float,
    sleeps: list[float],
    status: int,
) -> None:
    scripted_influx.statuses = [status] * 20
    with make_writer(
        scripted_influx,
        fake_clock,
        tmp_path,
        max_attempts=max_attempts,
        backoff_initial_s=initial_s,
        backoff_max_s=max_s,
        max_retry_s=max_retry_s,
    ) as writer:
        writer.write(points(2))
        assert fake_clock.sleeps == sleeps
        assert len(scripted_influx.bodies) == len(sleeps) + 1
        assert writer.stats().spooled_batches == 1


def test_batches_after_a_failed_one_go_to_the_spool_and_replay_in_order(
    scripted_influx: ScriptedInflux, fake_clock: FakeClock, tmp_path: Path
) -> None:
    scripted_influx.statuses = [204, 503]
    with make_writer(scripted_influx, fake_clock, tmp_path, batch_size=2, max_attempts=1) as writer:
        writer.write(points(6))  # batches: sent, failed -> spooled, spooled without trying
        assert len(scripted_influx.bodies) == 2
        assert writer.stats().spooled_batches == 2
        writer.write(points(2, start=6))  # replays both, then sends the new one
        stats = writer.stats()
    sent = lines_of([scripted_influx.bodies[0]] + scripted_influx.bodies[2:])
    assert sent == lines_of([b"".join(PointWriter.make_batches(points(8), 100))])
    assert (stats.sent_batches, stats.sent_points, stats.spooled_batches) == (4, 8, 0)


def test_new_batches_wait_behind_the_spool_while_replay_fails(
    scripted_influx: ScriptedInflux, fake_clock: FakeClock, tmp_path: Path
) -> None:
    scripted_influx.statuses = [503, 503]
    with make_writer(scripted_influx, fake_clock, tmp_path, max_attempts=1) as writer:
        writer.write(points(1))
        writer.write(points(1, start=1))  # replay fails -> new batch appended, not sent
        assert len(scripted_influx.bodies) == 2
        assert writer.stats().spooled_batches == 2
        assert writer.replay_spool() == 2
    assert lines_of(scripted_influx.bodies[2:]) == lines_of(PointWriter.make_batches(points(2), 100))


def test_rejected_spooled_batch_is_dropped_and_replay_continues(
    scripted_influx: ScriptedInflux, fake_clock: FakeClock, tmp_path: Path
) -> None:
    scripted_influx.statuses = [503, 400]
    with make_writer(scripted_influx, fake_clock, tmp_path, batch_size=1, max_attempts=1) as writer:
        writer.write(points(2))  # first fails, both spooled
        assert writer.replay_spool() == 1  # first rejected (dropped), second sent
        stats = writer.stats()
    assert (stats.dropped_batches, stats.sent_batches, stats.spooled_batches) == (1, 1, 0)


@pytest.mark.parametrize(
    "status",
    [
        pytest.param(401, id="401-bad-credentials"),
        pytest.param(403, id="403-no-permission"),
        pytest.param(404, id="404-database-not-found"),
    ],
)
def test_setup_errors_keep_the_batch_instead_of_dropping_it(
    scripted_influx: ScriptedInflux, fake_clock: FakeClock, tmp_path: Path, status: int
) -> None:
    scripted_influx.statuses = [status]
    with make_writer(scripted_influx, fake_clock, tmp_path) as writer:
        writer.write(points(1))
        stats = writer.stats()
    assert (stats.dropped_batches, stats.spooled_batches) == (0, 1)


def test_a_new_writer_on_the_same_spool_dir_replays_what_the_old_one_left(
    scripted_influx: ScriptedInflux, fake_clock: FakeClock, tmp_path: Path
) -> None:
    scripted_influx.statuses = [503]
    with make_writer(scripted_influx, fake_clock, tmp_path, max_attempts=1) as writer:
        writer.write(points(3))
        assert writer.stats().spooled_batches == 1
    with make_writer(scripted_influx, fake_clock, tmp_path) as restarted:
        assert restarted.replay_spool() == 1
        assert restarted.stats().spooled_batches == 0
    assert scripted_influx.bodies[1] == scripted_influx.bodies[0]


@pytest.mark.parametrize(
    ("body", "batch_size", "expected"),
    [
        pytest.param(b"a v=1\nb v=2\nc v=3\n", 2, [b"a v=1\nb v=2\n", b"c v=3\n"], id="split"),
        pytest.param(b"a v=1\n\nb v=2", 5, [b"a v=1\nb v=2\n"], id="blank-lines-and-no-final-newline"),
        pytest.param(b"", 5, [], id="empty"),
    ],
)
def test_bytes_input_is_split_into_batches_of_lines(
    body: bytes, batch_size: int, expected: list[bytes]
) -> None:
    assert PointWriter.make_batches(body, batch_size) == expected


def test_spool_overflow_is_counted_in_stats(
    scripted_influx: ScriptedInflux, fake_clock: FakeClock, tmp_path: Path
) -> None:
    scripted_influx.statuses = [503] * 10
    settings = InfluxSettings(url=scripted_influx.url, database="db", create_database=False)
    spool = DiskSpool(tmp_path, 45)
    with PointWriter(
        InfluxClient(settings),
        spool,
        batch_size=1,
        max_attempts=1,
        sleep=fake_clock.sleep,
        clock=fake_clock.clock,
    ) as writer:
        writer.write(points(5))  # each batch is 21 bytes: two fit, three overflow
        stats = writer.stats()
    assert (stats.spooled_batches, stats.overflowed_batches, stats.spool_bytes) == (2, 3, 42)


def test_a_large_backlog_is_drained_over_several_calls_within_the_time_budget(
    scripted_influx: ScriptedInflux, fake_clock: FakeClock, tmp_path: Path
) -> None:
    scripted_influx.statuses = [503]
    with make_writer(
        scripted_influx, fake_clock, tmp_path, batch_size=1, max_attempts=1, max_retry_s=2.5
    ) as writer:
        writer.write(points(10))  # all 10 batches spooled
        ticking = iter(range(10_000))
        writer._clock = lambda: fake_clock.now_s + next(ticking)  # every look at the clock: one second later
        sent_first = writer.replay_spool()
        assert 0 < sent_first < 10
        while writer.replay_spool():
            pass
        assert writer.stats().spooled_batches == 0
    assert lines_of(scripted_influx.bodies[1:]) == lines_of(PointWriter.make_batches(points(10), 100))


def test_from_settings_builds_client_spool_and_policy_from_the_settings(
    scripted_influx: ScriptedInflux, tmp_path: Path
) -> None:
    settings = InfluxSettings(
        url=scripted_influx.url,
        batch_size=7,
        max_attempts=2,
        max_retry_s=9,
        spool={"path": tmp_path / "spool", "max_bytes": 1234},
    )
    with PointWriter.from_settings(settings) as writer:
        assert (writer.batch_size, writer.max_attempts, writer.max_retry_s) == (7, 2, 9)
        assert (writer.spool.path, writer.spool.max_bytes) == (tmp_path / "spool", 1234)
        writer.write(points(10))
        assert writer.stats().sent_batches == 2
