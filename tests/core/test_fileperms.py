"""Private state on disk: folders 0700, files 0600, atomic replace; the umask only ever makes it stricter."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from linewatch.fileperms import (
    current_umask,
    ensure_private_dir,
    ensure_private_file,
    open_private,
    write_private,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask() -> Iterator[Callable[[int], None]]:
    """Set the process umask for one test; the old one comes back afterwards."""
    old = current_umask()

    def set_mask(mask: int) -> None:
        os.umask(mask)

    yield set_mask
    os.umask(old)


@pytest.mark.parametrize(("mask", "dir_mode", "file_mode"), [
    (0o000, 0o700, 0o600),
    (0o022, 0o700, 0o600),
    (0o077, 0o700, 0o600),
    (0o277, 0o500, 0o400),
], ids=["umask-000", "umask-022", "umask-077", "umask-277-stricter"])  # fmt: skip
def test_state_files_are_not_world_readable(tmp_path: Path, umask: Callable[[int], None], mask: int, dir_mode: int,
                                            file_mode: int) -> None:
    umask(mask)
    assert current_umask() == mask
    folder = ensure_private_dir(tmp_path / "var" / "spool")
    assert mode(tmp_path / "var") == dir_mode and mode(folder) == dir_mode
    if dir_mode & stat.S_IWUSR:
        target = write_private(folder / "state.json", "{}")
        assert mode(target) == file_mode
        assert target.read_text() == "{}"


def test_existing_loose_file_is_tightened_in_its_shared_folder(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    os.chmod(folder, 0o755)
    db = folder / "alerts.sqlite"
    db.write_bytes(b"keep me")
    os.chmod(db, 0o644)
    ensure_private_file(db)
    assert mode(folder) == 0o755, "a folder that exists may be shared: left alone"
    assert mode(db) == 0o600
    assert db.read_bytes() == b"keep me", "ensure_private_file must never truncate"


def test_existing_dedicated_folder_is_tightened(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    os.chmod(spool, 0o755)
    ensure_private_dir(spool)
    assert mode(spool) == 0o700


def test_existing_parents_are_left_alone(tmp_path: Path) -> None:
    os.chmod(tmp_path, 0o755)
    ensure_private_dir(tmp_path / "new")
    assert mode(tmp_path) == 0o755
    assert mode(tmp_path / "new") == 0o700


def test_write_private_replaces_atomically_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = write_private(tmp_path / "t.json", b"old")
    write_private(target, b"new")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.json"]


def test_open_private_tightens_a_file_created_loose(tmp_path: Path) -> None:
    loose = tmp_path / "x"
    loose.write_text("a")
    os.chmod(loose, 0o666)
    fd = open_private(loose, os.O_WRONLY | os.O_APPEND)
    os.close(fd)
    assert mode(loose) == 0o600
    assert loose.read_text() == "a"
