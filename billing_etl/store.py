"""Durable store of imported invoices (SQLite in ``state_dir``), so a period can be re-run without the source
files.

Identity of an invoice is ``(carrier, invoice_number)``; its content hash decides what a re-import does:

* same number, same content (from the same or another file) → nothing changes (``ImportOutcome.UNCHANGED``);
* same number, different content → the stored invoice is kept and the newcomer is recorded as a conflict,
  which the audit reports (``invoice_conflict``) — never silently merged;
* except for the quarantine round trip: an invoice imported from a file with quarantined rows is stored as
  *incomplete*; the corrected file (no quarantined row, every stored row still in it) replaces it
  (``ImportOutcome.COMPLETED``), and the broken file seen again later (its rows all in the stored invoice)
  changes nothing (``UNCHANGED``). Anything else that differs is a conflict.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from pathlib import Path

from billing_etl.model import Invoice, InvoiceLine
from linewatch.fileperms import ensure_private_file

_SCHEMA = """
CREATE TABLE IF NOT EXISTS invoices (
    carrier TEXT NOT NULL,
    invoice_number TEXT NOT NULL,
    billing_account TEXT NOT NULL,
    invoice_date TEXT NOT NULL,
    due_date TEXT NOT NULL,
    currency TEXT NOT NULL,
    stated_total TEXT,
    content_hash TEXT NOT NULL,
    source_file TEXT NOT NULL,
    PRIMARY KEY (carrier, invoice_number)
);
CREATE TABLE IF NOT EXISTS invoice_lines (
    carrier TEXT NOT NULL,
    invoice_number TEXT NOT NULL,
    idx INTEGER NOT NULL,
    line_json TEXT NOT NULL,
    PRIMARY KEY (carrier, invoice_number, idx)
);
CREATE TABLE IF NOT EXISTS invoice_conflicts (
    carrier TEXT NOT NULL,
    invoice_number TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    source_file TEXT NOT NULL,
    stated_total TEXT,
    lines_total TEXT NOT NULL,
    PRIMARY KEY (carrier, invoice_number, content_hash)
);
CREATE TABLE IF NOT EXISTS usage (
    line TEXT NOT NULL,
    period TEXT NOT NULL,
    usage_json TEXT NOT NULL,
    PRIMARY KEY (line, period)
);
"""


class ImportOutcome(str, Enum):
    NEW = "new"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    COMPLETED = "completed"


_INVOICE_COLUMNS = (
    "carrier, invoice_number, billing_account, invoice_date, due_date, currency, stated_total, content_hash, "
    "source_file, complete"
)


def _row_keys(lines: Iterable[InvoiceLine]) -> Counter[str]:
    """The rows of an invoice as a multiset of their content (a row billed twice counts twice)."""
    return Counter(json.dumps(line.canonical(), sort_keys=True) for line in lines)


def _within(part: Counter[str], whole: Counter[str]) -> bool:
    return all(whole[k] >= n for k, n in part.items())


@dataclass(frozen=True)
class Conflict:
    """A file brought an invoice number already imported with different content."""

    carrier: str
    invoice_number: str
    source_file: str
    stated_total: Decimal | None
    lines_total: Decimal
    stored_source_file: str


class InvoiceStore:
    """SQLite-backed invoice store. One writer at a time (SQLite locking); cheap to open."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        if str(path) != ":memory:":
            ensure_private_file(self.path)  # 0600 in a 0700 folder; SQLite's WAL/SHM files copy its mode
        self._db = sqlite3.connect(str(path), isolation_level=None)
        self._db.execute(
            "PRAGMA journal_mode=WAL" if str(path) != ":memory:" else "PRAGMA journal_mode=MEMORY"
        )
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(invoices)")}
        if "complete" not in columns:  # stores written before the quarantine round trip existed
            self._db.execute("ALTER TABLE invoices ADD COLUMN complete INTEGER NOT NULL DEFAULT 1")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> InvoiceStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _stored_row_keys(self, cur: sqlite3.Cursor, key: tuple[str, str]) -> Counter[str]:
        return _row_keys(
            InvoiceLine.model_validate_json(line_json)
            for (line_json,) in cur.execute(
                "SELECT line_json FROM invoice_lines WHERE carrier=? AND invoice_number=?", key
            )
        )

    def add_invoices(
        self, invoices: Iterable[Invoice], *, complete: bool = True
    ) -> dict[tuple[str, str], ImportOutcome]:
        """Store new invoices, skip identical ones, record conflicts. One transaction: all or nothing.

        ``complete=False``: the invoices come from a file with quarantined rows (see the module docstring).
        """
        outcomes: dict[tuple[str, str], ImportOutcome] = {}
        cur = self._db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            for inv in invoices:
                key = (inv.carrier, inv.invoice_number)
                row = cur.execute(
                    "SELECT content_hash, complete FROM invoices WHERE carrier=? AND invoice_number=?", key
                ).fetchone()
                replace = False
                if row is not None and row[0] != inv.content_hash:
                    stored_keys = self._stored_row_keys(cur, key)
                    if not complete and _within(_row_keys(inv.lines), stored_keys):
                        outcomes[key] = ImportOutcome.UNCHANGED  # the broken copy of what is stored
                        continue
                    replace = complete and not row[1] and _within(stored_keys, _row_keys(inv.lines))
                if replace:
                    cur.execute("DELETE FROM invoices WHERE carrier=? AND invoice_number=?", key)
                    cur.execute("DELETE FROM invoice_lines WHERE carrier=? AND invoice_number=?", key)
                    cur.execute(
                        "DELETE FROM invoice_conflicts WHERE carrier=? AND invoice_number=? AND content_hash=?",
                        (*key, inv.content_hash),
                    )
                if row is None or replace:
                    cur.execute(
                        f"INSERT INTO invoices ({_INVOICE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (
                            inv.carrier,
                            inv.invoice_number,
                            inv.billing_account,
                            inv.invoice_date.isoformat(),
                            inv.due_date.isoformat(),
                            inv.currency,
                            None if inv.stated_total is None else str(inv.stated_total),
                            inv.content_hash,
                            inv.source_file,
                            int(complete),
                        ),
                    )
                    cur.executemany(
                        "INSERT INTO invoice_lines VALUES (?,?,?,?)",
                        [
                            (inv.carrier, inv.invoice_number, i, line.model_dump_json())
                            for i, line in enumerate(inv.lines)
                        ],
                    )
                    outcomes[key] = ImportOutcome.COMPLETED if replace else ImportOutcome.NEW
                elif row[0] == inv.content_hash:
                    outcomes[key] = ImportOutcome.UNCHANGED
                else:
                    cur.execute(
                        "INSERT OR IGNORE INTO invoice_conflicts VALUES (?,?,?,?,?,?)",
                        (
                            inv.carrier,
                            inv.invoice_number,
                            inv.content_hash,
                            inv.source_file,
                            None if inv.stated_total is None else str(inv.stated_total),
                            str(inv.lines_total),
                        ),
                    )
                    outcomes[key] = ImportOutcome.CONFLICT
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        return outcomes

    def invoices(self) -> list[Invoice]:
        """Every stored invoice with its lines, in a stable order (carrier, invoice number)."""
        lines: dict[tuple[str, str], list[InvoiceLine]] = {}
        for carrier, number, line_json in self._db.execute(
            "SELECT carrier, invoice_number, line_json FROM invoice_lines ORDER BY carrier, invoice_number, "
            "idx"
        ):
            lines.setdefault((carrier, number), []).append(InvoiceLine.model_validate_json(line_json))
        out = []
        for carrier, number, account, inv_date, due, currency, total, _hash, source in self._db.execute(
            "SELECT carrier, invoice_number, billing_account, invoice_date, due_date, currency, stated_total, "
            "content_hash, source_file FROM invoices ORDER BY carrier, invoice_number"
        ):
            out.append(
                Invoice(
                    carrier=carrier,
                    invoice_number=number,
                    billing_account=account,
                    invoice_date=dt.date.fromisoformat(inv_date),
                    due_date=dt.date.fromisoformat(due),
                    currency=currency,
                    stated_total=None if total is None else Decimal(total),
                    source_file=source,
                    lines=tuple(lines.get((carrier, number), ())),
                )
            )
        return out

    def conflicts(self) -> list[Conflict]:
        rows = self._db.execute(
            "SELECT c.carrier, c.invoice_number, c.source_file, c.stated_total, c.lines_total, i.source_file "
            "FROM invoice_conflicts c JOIN invoices i USING (carrier, invoice_number) "
            "ORDER BY c.carrier, c.invoice_number, c.source_file"
        )
        return [
            Conflict(
                carrier,
                number,
                source,
                None if total is None else Decimal(total),
                Decimal(lines_total),
                stored,
            )
            for carrier, number, source, total, lines_total, stored in rows
        ]

    def save_usage(self, period: str, usage: dict[str, dict[str, object]]) -> None:
        cur = self._db.cursor()
        cur.execute("BEGIN IMMEDIATE")
        cur.executemany(
            "INSERT OR REPLACE INTO usage VALUES (?,?,?)",
            [(line, period, json.dumps(data, sort_keys=True, default=str)) for line, data in usage.items()],
        )
        cur.execute("COMMIT")

    def load_usage(self, period: str) -> dict[str, dict[str, object]]:
        return {
            line: json.loads(data)
            for line, data in self._db.execute("SELECT line, usage_json FROM usage WHERE period=?", (period,))
        }
