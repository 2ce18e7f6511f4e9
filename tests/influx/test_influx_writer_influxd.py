"""PointWriter against a real influxd that goes away and comes back: nothing lost, nothing doubled, order kept."""

from __future__ import annotations

from pathlib import Path

from influx_test_support import FakeClock

from linewatch.influx import DiskSpool, InfluxClient, InfluxSettings, Point, PointWriter
from linewatch.servers import InfluxdServer

S = 1_000_000_000


def cycle(n_cycle: int, n_points: int) -> list[Point]:
    """One collector cycle: ``n_points`` points at distinct times (``seq`` numbers them), then an order probe.

    Every cycle overwrites the same probe point (same series, same time) with its own number, so the value left
    in InfluxDB is that of the cycle that arrived last: the last cycle written, if order was kept.
    """
    base = n_cycle * n_points
    points = [
        Point("if_traffic", {"line_id": f"L{i % 7}"}, {"seq": base + i, "in_bps": float(i)}, (base + i) * S)
        for i in range(n_points)
    ]
    return points + [Point("order_probe", {}, {"cycle": n_cycle}, S)]


def make_writer(url: str, spool_dir: Path, clock: FakeClock) -> PointWriter:
    settings = InfluxSettings(url=url, database="lw_outage", timeout_s=2)
    client = InfluxClient(settings)
    return PointWriter(
        client, DiskSpool(spool_dir, 10_000_000), batch_size=40, max_attempts=2,
        backoff_initial_s=0.1, sleep=clock.sleep, clock=clock.clock,
    )  # fmt: skip


def last_cycle_arrived(client: InfluxClient) -> int:
    return client.query("SELECT cycle FROM order_probe")[0]["values"][0][1]


def stored_seqs(client: InfluxClient) -> list[int]:
    series = client.query("SELECT seq FROM if_traffic", epoch="ns")
    return [row[1] for row in series[0]["values"]] if series else []


def test_outage_spools_and_replays_every_point_exactly_once_in_order(
    influxd_private: InfluxdServer, tmp_path: Path, fake_clock: FakeClock
) -> None:
    writer = make_writer(influxd_private.url, tmp_path / "spool", fake_clock)
    writer.client.ensure_database()
    writer.write(cycle(0, 100))
    influxd_private.stop()
    writer.write(cycle(1, 100))
    writer.write(cycle(2, 100))
    assert writer.stats().spooled_batches == 6  # 3 batches of <= 40 lines per cycle of 101 points
    influxd_private.start()
    writer.write(cycle(3, 100))  # replays the spool first, then sends the new cycle
    stats = writer.stats()
    assert (stats.spooled_batches, stats.sent_points, stats.dropped_batches) == (0, 404, 0)
    assert stored_seqs(writer.client) == list(range(400))
    assert last_cycle_arrived(writer.client) == 3
    writer.close()


def test_a_restarted_writer_process_replays_the_spool_left_behind(
    influxd_private: InfluxdServer, tmp_path: Path, fake_clock: FakeClock
) -> None:
    spool_dir = tmp_path / "spool"
    first = make_writer(influxd_private.url, spool_dir, fake_clock)
    first.client.ensure_database()
    influxd_private.stop()
    first.write(cycle(0, 50))
    assert first.stats().spooled_batches == 2
    first.close()  # the process "dies"; its spool stays on disk
    influxd_private.start()
    second = make_writer(influxd_private.url, spool_dir, fake_clock)
    assert second.replay_spool() == 2
    second.write(cycle(1, 50))
    assert stored_seqs(second.client) == list(range(100))
    assert last_cycle_arrived(second.client) == 1
    assert second.stats().spooled_batches == 0
    second.close()
