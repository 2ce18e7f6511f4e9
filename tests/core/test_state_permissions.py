"""Private state: the spool, the SQLite stores and the collector state are 0600 in 0700 folders (issue 9).

Each store is opened for real (SQLite with its WAL and SHM files, the spool with its lock) under the usual umask
022, which used to give 0644 files anyone on the host could read.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from alerting.store import AlertStore
from billing_etl.store import InvoiceStore
from collector.snmp.counters import Reading
from collector.state import CounterState
from linewatch.influx import DiskSpool


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def open_alert_store(folder: Path) -> Callable[[], None]:
    store = AlertStore(folder / "alerts.sqlite", exclusive=True)
    return store.close


def open_invoice_store(folder: Path) -> Callable[[], None]:
    store = InvoiceStore(folder / "invoices.sqlite")
    return store.close


def save_collector_state(folder: Path) -> Callable[[], None]:
    state = CounterState(folder / "collector-state.json")
    state.put("r1", "L1", Reading(**_reading_fields()))
    state.save()
    return lambda: None


def fill_spool(folder: Path) -> Callable[[], None]:
    spool = DiskSpool(folder, 10_000)
    spool.append(b"m v=1 1\n")
    return spool.close


def _reading_fields() -> dict[str, object]:
    """Every required field of the collector's Reading set to 1 (its exact fields belong to the collector)."""
    return {f.name: 1 for f in dataclasses.fields(Reading)
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}


@pytest.mark.parametrize("open_store", [open_alert_store, open_invoice_store, save_collector_state, fill_spool],
                         ids=["alert-store", "invoice-store", "collector-state", "influx-spool"])
def test_spool_and_sqlite_stores_are_not_world_readable(tmp_path: Path, open_store: Callable[[Path],
                                                                                          Callable[[], None]]) -> None:
    folder = tmp_path / "var" / "state"
    close = open_store(folder)
    try:
        files = [p for p in folder.iterdir() if p.is_file()]
        assert files, "the store wrote nothing"
        modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in files}
        assert set(modes.values()) == {"0o600"}, modes
        for created in (tmp_path / "var", folder):
            assert oct(stat.S_IMODE(created.stat().st_mode)) == "0o700", created
    finally:
        close()
