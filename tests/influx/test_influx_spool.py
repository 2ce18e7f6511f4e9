"""DiskSpool: durable FIFO, restart survival, crash leftovers, overflow policy."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from linewatch.influx import DiskSpool, SpoolLocked


def drain(spool: DiskSpool) -> list[bytes]:
    out = []
    while (oldest := spool.peek_oldest()) is not None:
        out.append(oldest[1])
        spool.remove(oldest[0])
    return out


def test_batches_come_back_oldest_first(tmp_path: Path) -> None:
    with DiskSpool(tmp_path, 1000) as spool:
        for i in range(12):
            assert spool.append(b"m v=%d\n" % i)
        assert spool.count == 12
        assert drain(spool) == [b"m v=%d\n" % i for i in range(12)]
        assert spool.count == 0 and spool.size_bytes == 0


def test_peek_does_not_remove(tmp_path: Path) -> None:
    with DiskSpool(tmp_path, 1000) as spool:
        spool.append(b"a\n")
        assert spool.peek_oldest() == spool.peek_oldest()
        assert spool.count == 1


def test_spool_survives_reopen_and_continues_the_sequence(tmp_path: Path) -> None:
    spool = DiskSpool(tmp_path, 1000)
    spool.append(b"first\n")
    spool.append(b"second\n")
    first_id, _ = spool.peek_oldest()  # type: ignore[misc]
    spool.remove(first_id)
    spool.close()
    with DiskSpool(tmp_path, 1000) as reopened:
        assert reopened.count == 1 and reopened.size_bytes == len(b"second\n")
        reopened.append(b"third\n")
        assert drain(reopened) == [b"second\n", b"third\n"]


def test_half_written_tmp_files_are_removed_on_reopen(tmp_path: Path) -> None:
    with DiskSpool(tmp_path, 1000) as spool:
        spool.append(b"good\n")
    (tmp_path / ".tmp-00000000000000000002").write_bytes(b"half")
    with DiskSpool(tmp_path, 1000) as reopened:
        assert drain(reopened) == [b"good\n"]
    assert not list(tmp_path.glob(".tmp-*"))


def test_overflow_refuses_the_newest_batch_counts_and_logs_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with DiskSpool(tmp_path, 10) as spool, caplog.at_level(logging.ERROR):
        assert spool.append(b"12345\n")
        assert not spool.append(b"123456\n")
        assert spool.append(b"123\n")  # exactly fills
        assert not spool.append(b"x\n")
        assert spool.overflowed_batches == 2
        assert spool.size_bytes == 10
        assert drain(spool) == [b"12345\n", b"123\n"]
    assert "DROPPING" in caplog.text and caplog.records[0].levelno == logging.ERROR


def test_second_owner_of_a_spool_dir_is_refused(tmp_path: Path) -> None:
    with DiskSpool(tmp_path, 10), pytest.raises(SpoolLocked, match=str(tmp_path)):
        DiskSpool(tmp_path, 10)
    DiskSpool(tmp_path, 10).close()


def test_remove_of_unknown_id_is_ignored(tmp_path: Path) -> None:
    with DiskSpool(tmp_path, 10) as spool:
        spool.remove(12345)
        assert spool.count == 0
