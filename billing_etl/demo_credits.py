"""The demo's later credit note: the carrier's answer to a dispute, as the carrier sends it (``make run``, the
finance loop test).

A credit note is an invoice of its own, dated after the dispute was sent, with one ``credit`` row for the disputed
circuit and service month whose description quotes the dispute's reference (``DSP-n``), in the carrier's own
format (:mod:`billing_etl.demo`'s layouts: Orange Business XLSX with code ``AVOIR``, Colt CSV in cp1252 with code
``CRD``). Dropped into the intake folder it is collected, mirrored, and web/credits proposes it for the dispute.
Same note, same bytes: a second run finds it a duplicate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from billing_etl import demo
from billing_etl.model import Period, money

ORANGE = "Orange Business"
COLT = "Colt"
CARRIERS = (ORANGE, COLT)  # the demo carriers whose credit notes this module writes
PAYMENT_TERMS_DAYS = 30


@dataclass(frozen=True)
class CreditNote:
    """What the carrier credits: ``amount`` (positive; the row carries it negative, as carriers state credits)
    for ``circuit_id`` in ``service_period``, quoting ``reference``, issued on ``issued``."""

    carrier: str
    reference: str
    circuit_id: str
    amount: Decimal
    currency: str
    service_period: Period
    issued: dt.date

    def __post_init__(self) -> None:
        if self.carrier not in CARRIERS:
            raise ValueError(f"carrier: {self.carrier!r} sends no demo credit notes (one of {', '.join(CARRIERS)})")
        if self.amount <= 0:
            raise ValueError(f"amount: a credit note credits an amount above zero, not {self.amount}")
        if not self.reference.strip():
            raise ValueError("reference: the credit note quotes the dispute's reference (DSP-n)")

    @property
    def number(self) -> str:
        """The credit note's invoice number (one per dispute)."""
        prefix = "AV" if self.carrier == ORANGE else "CN"
        return f"{prefix}{self.issued:%Y%m}-{self.reference}"

    @property
    def description(self) -> str:
        if self.carrier == ORANGE:
            return f"Avoir {self.reference} : {self.circuit_id} {self.service_period}"
        return f"Credit {self.reference}: {self.circuit_id} {self.service_period}"

    @property
    def file_name(self) -> str:
        stem = "orange" if self.carrier == ORANGE else "colt"
        suffix = "xlsx" if self.carrier == ORANGE else "csv"
        return f"{stem}-{self.issued:%Y-%m}-credit-{self.reference}.{suffix}"


def write_credit_note(out_dir: Path, note: CreditNote) -> Path:
    """Write ``note`` as its carrier sends it into ``out_dir`` (created); returns the file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / note.file_name
    credit = -money(note.amount, note.currency)
    due = note.issued + dt.timedelta(days=PAYMENT_TERMS_DAYS)
    first, last = note.service_period.first_day, note.service_period.last_day
    if note.carrier == ORANGE:
        row = [note.number, note.issued, due, "OBS-ACC-5521", note.circuit_id, "AVOIR", first, last, 1.0,
               float(credit), float(credit), note.currency, note.description, float(credit)]  # fmt: skip
        demo._write_xlsx([row], path, Period.containing(note.issued))
    else:
        row = [note.number, demo._d(note.issued), demo._d(due), "UK-100-2231", note.circuit_id, "CRD",
               demo._d(first), demo._d(last), demo._n(Decimal(1)), demo._n(credit), demo._n(credit),
               note.currency, note.description]  # fmt: skip
        demo._write_csv([row], path)
    return path
