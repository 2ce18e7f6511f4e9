"""Tailing real CDR files: complete lines only, rotation by rename, copytruncate, a new file, and resuming after a
restart from the offset committed in the real call store — each CDR loaded exactly once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from cdr_support import SAMPLES, CdrEnv, cdr_env

from collector.voice.tail import TailReader
from linewatch.voice.formats import parse
from linewatch.voice.store import CallStore

ROWS = (SAMPLES / "asterisk-Master.csv").read_bytes().splitlines(keepends=True)  # 8 complete CDR lines


@pytest.fixture
def env(tmp_path: Path) -> CdrEnv:
    return cdr_env(tmp_path)


@pytest.fixture
def store(tmp_path: Path):
    with CallStore(tmp_path / "calls.sqlite") as s:
        yield s


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as fh:
        fh.write(data)


def drain(env: CdrEnv, store: CallStore, path: Path, reader: TailReader | None = None, *,
          problems: list | None = None) -> tuple[TailReader, int]:
    """One poll: every chunk parsed and stored with its offset (as the service does); the calls inserted."""
    source = env.source("asterisk")
    reader = reader or TailReader(source, path, start=store.offset(source.name), max_bytes=700)
    inserted = 0
    for data, first_row, offset in reader.chunks():
        batch = parse(data, source, mapper=env.mapper("asterisk"), first_row=first_row, file=str(path))
        if problems is None:
            assert batch.problems == []
        else:
            problems.extend(batch.problems)
        inserted += len(store.add(batch.calls, problems=batch.problems, offset=offset, source=source.name))
    return reader, inserted


def stored(store: CallStore) -> int:
    return len(store.calls(start_s=0, end_s=4e9))


def test_chunks_are_complete_lines_with_row_numbers_and_offsets(env: CdrEnv, tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    path.write_bytes(b"".join(ROWS[:5]) + ROWS[5][:40])  # a partial last line waits for its newline
    chunks = list(TailReader(env.source("asterisk"), path, start=None, max_bytes=700).chunks())
    assert b"".join(c for c, _, _ in chunks) == b"".join(ROWS[:5])
    assert all(c.endswith(b"\n") for c, _, _ in chunks)
    firsts = [first for _, first, _ in chunks]
    assert firsts[0] == 1 and firsts == sorted(firsts)
    last = chunks[-1][2]
    st = path.stat()
    assert (last.offset, last.row, last.device, last.inode) == (len(b"".join(ROWS[:5])), 5, st.st_dev, st.st_ino)


def test_a_partial_line_is_read_once_its_newline_arrives(env: CdrEnv, store: CallStore, tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    path.write_bytes(ROWS[0] + ROWS[1][:30])
    reader, n = drain(env, store, path)
    assert n == 1
    append(path, ROWS[1][30:] + ROWS[2])
    _, n = drain(env, store, path, reader)
    assert n == 2 and stored(store) == 3


def test_resume_after_restart_loads_each_cdr_exactly_once(env: CdrEnv, store: CallStore, tmp_path: Path) -> None:
    """A new reader from the committed offset (the service restarted) yields only the rows written since."""
    path = tmp_path / "Master.csv"
    path.write_bytes(b"".join(ROWS[:3]))
    _, n = drain(env, store, path)
    assert n == 3
    append(path, b"".join(ROWS[3:6]))
    reader = TailReader(env.source("asterisk"), path, start=store.offset("asterisk"))
    rows = [first for _, first, _ in reader.chunks()]
    assert rows == [4]
    _, n = drain(env, store, path)
    assert n == 3 and stored(store) == 6
    _, n = drain(env, store, path)
    assert n == 0 and store.offset("asterisk").row == 6


@pytest.mark.parametrize("rotated_name", ["Master.csv.1", "Master.csv-20261201"])
def test_rotation_by_rename_finishes_the_old_file_then_reads_the_new(env: CdrEnv, store: CallStore, tmp_path: Path,
                                                                      rotated_name: str) -> None:
    path = tmp_path / "Master.csv"
    path.write_bytes(b"".join(ROWS[:2]))
    drain(env, store, path)
    append(path, ROWS[2] + ROWS[3][:50])  # written after the last poll, the last line cut by the rotation
    os.rename(path, tmp_path / rotated_name)
    path.write_bytes(b"".join(ROWS[4:6]))
    problems: list = []
    _, n = drain(env, store, path, problems=problems)
    assert stored(store) == 2 + 1 + 2  # the rotated file's complete line and the new file's two lines
    assert n == 3
    assert [(p.row, p.reason) for p in problems] == [(4, "truncated row: 5 of 18 columns")]  # not lost silently
    offset = store.offset("asterisk")
    assert (offset.inode, offset.row) == (path.stat().st_ino, 2)


def test_rotation_survives_a_restart_between_the_files(env: CdrEnv, store: CallStore, tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    path.write_bytes(b"".join(ROWS[:2]))
    drain(env, store, path)
    append(path, ROWS[2])
    os.rename(path, tmp_path / "Master.csv.1")
    path.write_bytes(ROWS[3])
    source = env.source("asterisk")
    reader = TailReader(source, path, start=store.offset("asterisk"))
    data, first, offset = next(iter(reader.chunks()))  # the rotated file's rest, stored; then the process dies
    store.add(parse(data, source, mapper=env.mapper("asterisk"), first_row=first, file="x").calls, offset=offset)
    _, n = drain(env, store, path)
    assert n == 1 and stored(store) == 4


def test_copytruncate_is_read_again_from_the_start(env: CdrEnv, store: CallStore, tmp_path: Path) -> None:
    """logrotate's copytruncate: same inode, smaller than the offset → from the start (nothing loaded twice)."""
    path = tmp_path / "Master.csv"
    path.write_bytes(b"".join(ROWS[:4]))
    drain(env, store, path)
    (tmp_path / "Master.csv.1").write_bytes(path.read_bytes())
    with path.open("r+b") as fh:
        fh.truncate(0)
    append(path, ROWS[4])
    reader = TailReader(env.source("asterisk"), path, start=store.offset("asterisk"))
    assert [first for _, first, _ in reader.chunks()] == [1]
    assert any("truncated" in w for w in reader.warnings)
    _, n = drain(env, store, path)
    assert n == 1 and stored(store) == 5


def test_a_rewritten_file_of_the_same_size_is_read_again(env: CdrEnv, store: CallStore, tmp_path: Path) -> None:
    """copytruncate and new CDRs longer than the old file before the next poll: the fingerprint tells."""
    path = tmp_path / "Master.csv"
    path.write_bytes(b"".join(ROWS[:2]))
    drain(env, store, path)
    with path.open("r+b") as fh:
        fh.truncate(0)
        fh.seek(0)
        fh.write(b"".join(ROWS[5:8]))
    _, n = drain(env, store, path)
    assert n == 3 and stored(store) == 5


def test_a_new_file_replacing_a_deleted_one_is_read_from_the_start(env: CdrEnv, store: CallStore,
                                                                    tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    path.write_bytes(b"".join(ROWS[:3]))
    drain(env, store, path)
    path.unlink()
    path.write_bytes(b"".join(ROWS[3:5]))
    reader, n = drain(env, store, path)
    assert n == 2 and stored(store) == 5
    assert reader.warnings  # rotated away, or (its inode reused) truncated


def test_a_missing_file_yields_nothing(env: CdrEnv, tmp_path: Path) -> None:
    assert list(TailReader(env.source("asterisk"), tmp_path / "none.csv", start=None).chunks()) == []


def test_a_line_longer_than_max_bytes_is_read_whole(env: CdrEnv, tmp_path: Path) -> None:
    path = tmp_path / "Master.csv"
    path.write_bytes(ROWS[0] + ROWS[1])
    chunks = list(TailReader(env.source("asterisk"), path, start=None, max_bytes=16).chunks())
    assert [c for c, _, _ in chunks] == [ROWS[0], ROWS[1]]
    assert [first for _, first, _ in chunks] == [1, 2]
