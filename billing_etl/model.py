"""The normalized invoice model every carrier layout maps onto, and the billing period.

One :class:`InvoiceLine` per invoice row, validated by pydantic with the carrier's
:class:`~billing_etl.config.Layout` passed as validation context (decimal separator, date format, charge-type
codes). Money is ``Decimal``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache, cached_property
from typing import Any, TypeVar

from iso4217 import Currency as _Iso4217
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from linewatch.choices import ChargeType

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(10) ** 12
K = TypeVar("K")  # a key of spread(): sortable (ties go to the smaller one)

# Charges that bill a circuit for a service period: they need both a circuit id and the period.
PERIODIC_CHARGES = (ChargeType.MONTHLY_RECURRING, ChargeType.USAGE)
CIRCUIT_CHARGES = (ChargeType.MONTHLY_RECURRING, ChargeType.USAGE, ChargeType.ONE_TIME)


class CurrencyError(ValueError):
    """A currency code ISO 4217 does not list, or one without a minor unit (XAU, XXX): not billable."""


@cache
def minor_unit(currency: str) -> int:
    """Decimal places of ``currency``'s minor unit, from ISO 4217's own table (the ``iso4217`` package):
    KRW and JPY 0, USD and EUR 2, BHD 3. Raises :class:`CurrencyError` for anything else."""
    try:
        exponent = _Iso4217(currency).exponent
    except ValueError:
        raise CurrencyError(f"{currency!r} is not an ISO 4217 currency code") from None
    if exponent is None:
        raise CurrencyError(f"{currency} has no minor unit in ISO 4217: not a currency to bill in")
    return int(exponent)


def spread(amount: Decimal, weights: Mapping[K, Decimal], *, currency: str | None = None) -> dict[K, Decimal]:
    """Split ``amount`` over ``weights`` in proportion, in the currency's minor unit (cents without one),
    adding up exactly: largest remainder, ties to the smaller key (won are split in whole won, dinars in
    fils). Empty when the weights are empty or add up to zero. The one splitting routine: account-level
    charges over an invoice's circuit charges (:mod:`~billing_etl.costs`) and a service period over its
    months (:func:`~billing_etl.audit.month_shares`)."""
    total_weight = sum(weights.values(), Decimal(0))
    if not weights or total_weight == 0:
        return {}
    unit = _step(currency)
    units = int((amount / unit).to_integral_value(rounding="ROUND_HALF_UP"))
    raw = {k: units * w / total_weight for k, w in weights.items()}
    whole = {k: int(v.to_integral_value(rounding="ROUND_FLOOR")) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: (-(raw[k] - whole[k]), k))[: units - sum(whole.values())]:
        whole[k] += 1
    return {k: n * unit for k, n in whole.items()}


def money(value: Decimal, currency: str | None = None) -> Decimal:
    """Round half up (what invoices do) to ``currency``'s ISO 4217 minor unit (KRW 1235, USD 12.35, BHD
    1.235); to cents when no currency is given (intermediate figures only: every exported amount has one)."""
    return value.quantize(_step(currency), rounding="ROUND_HALF_UP")


def amount_text(value: Decimal, currency: str) -> str:
    """``1,235`` KRW, ``1,234.50`` USD, ``1.235`` BHD: rounded (:func:`money`), grouped, every minor digit."""
    return f"{money(value, currency):,.{minor_unit(currency)}f}"


def _step(currency: str | None) -> Decimal:
    """The currency's minor unit as an amount (1 won, 0.01 dollar, 0.001 dinar); a cent without a currency."""
    return CENT if currency is None else Decimal(1).scaleb(-minor_unit(currency))


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month, the billing period: ``Period.parse("2026-10")``."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        m = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise ValueError(f"period must be YYYY-MM, got {text!r}")
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def containing(cls, day: dt.date) -> Period:
        return cls(day.year, day.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.month, 1)

    @property
    def last_day(self) -> dt.date:
        return dt.date(self.year, self.month, self.days)

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def start_s(self) -> int:
        return calendar.timegm((self.year, self.month, 1, 0, 0, 0))

    @property
    def end_s(self) -> int:
        return self.next().start_s

    def next(self) -> Period:
        return Period(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Period:
        return Period(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def contains(self, day: dt.date) -> bool:
        return self.first_day <= day <= self.last_day


def overlap_days(a_start: dt.date, a_end: dt.date, b_start: dt.date, b_end: dt.date) -> int:
    """Days two inclusive date ranges share."""
    return max(0, (min(a_end, b_end) - max(a_start, b_start)).days + 1)


# -- row parsing helpers (the layout comes in the validation context)
# ---------------------------------------------


def parse_decimal(
    value: Any, *, decimal_separator: str = ".", thousands_separator: str = ""
) -> Decimal | None:
    """Parse an invoice number cell: ``1.234,50``, ``(12.00)`` and ``12.00-`` (negatives), floats from
    XLSX."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("expected a finite number")
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        return value
    text = str(value).strip().replace("\u00a0", " ")
    if not text:
        return None
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    elif text.endswith("-"):
        negative, text = True, text[:-1].strip()
    if thousands_separator:
        text = text.replace(thousands_separator, "")
    if decimal_separator != ".":
        if "." in text:
            raise ValueError(f"{value!r} is not a number with decimal separator {decimal_separator!r}")
        text = text.replace(decimal_separator, ".")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
        raise ValueError(f"{value!r} is not a number")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not a number") from None
    return -number if negative else number


def parse_date(value: Any, *, date_format: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not text:
        return None
    if date_format == "%Y-%m-%d" and len(text) == 10 and text[4] == text[7] == "-":
        try:  # the common ISO layout: ~10x faster than strptime, same strictness for this shape
            return dt.date.fromisoformat(text)
        except ValueError:
            pass  # strptime gives the uniform error below
    try:
        return dt.datetime.strptime(text, date_format).date()
    except ValueError:
        raise ValueError(f"{text!r} is not a date in the format {date_format}") from None


class InvoiceLine(BaseModel):
    """One normalized invoice row. Built with ``model_validate(raw, context={"layout": layout})``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    carrier: str = Field(min_length=1)
    billing_account: str = ""
    invoice_number: str = Field(min_length=1, max_length=64)
    invoice_date: dt.date
    due_date: dt.date | None = None
    circuit_id: str | None = None
    charge_type: ChargeType
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    amount: Decimal
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    description: str = ""
    invoice_total: Decimal | None = None
    source_file: str = ""
    source_row: int = 0

    @field_validator("invoice_number", "billing_account", "circuit_id", "description", mode="before")
    @classmethod
    def _text(cls, value: Any, info: ValidationInfo) -> Any:
        blank = None if info.field_name in ("circuit_id", "invoice_number") else ""
        if value is None:
            return blank
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # XLSX stores "1234" typed as a number
        text = str(value).strip()
        return text or blank

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            value = getattr((info.context or {}).get("layout"), "currency", None)
            if value is None:
                return None
        code = str(value).strip().upper()
        if re.fullmatch(r"[A-Z]{3}", code):
            minor_unit(code)  # CurrencyError (a ValueError): the row is quarantined naming the code
        return code

    @field_validator("invoice_date", "due_date", "period_start", "period_end", mode="before")
    @classmethod
    def _date(cls, value: Any, info: ValidationInfo) -> Any:
        layout = (info.context or {}).get("layout")
        return parse_date(value, date_format=layout.date_format if layout else "%Y-%m-%d")

    @field_validator("quantity", "unit_price", "amount", "invoice_total", mode="before")
    @classmethod
    def _decimal(cls, value: Any, info: ValidationInfo) -> Any:
        layout = (info.context or {}).get("layout")
        number = parse_decimal(
            value,
            decimal_separator=layout.decimal_separator if layout else ".",
            thousands_separator=layout.thousands_separator if layout else "",
        )
        if number is not None and abs(number) >= MAX_AMOUNT:
            raise ValueError(f"{number} is out of range")
        return number

    @field_validator("charge_type", mode="before")
    @classmethod
    def _charge_type(cls, value: Any, info: ValidationInfo) -> Any:
        layout = (info.context or {}).get("layout")
        if layout is None or isinstance(value, ChargeType):
            return value
        code = "" if value is None else str(value).strip()
        if not code:
            raise ValueError("charge type is empty")
        codes = layout.charge_types
        if code in codes:
            return codes[code]
        folded = {k.casefold(): v for k, v in codes.items()}
        if code.casefold() in folded:
            return folded[code.casefold()]
        raise ValueError(f"unknown charge type code {code!r} (known: {', '.join(sorted(codes))})")

    @model_validator(mode="after")
    def _rules(self) -> InvoiceLine:
        if (self.period_start is None) != (self.period_end is None):
            raise ValueError("give both service period start and end, or neither")
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValueError(
                f"service period ends ({self.period_end}) before it starts ({self.period_start})"
            )
        if self.charge_type in CIRCUIT_CHARGES and not self.circuit_id:
            raise ValueError(f"a {self.charge_type.value} charge needs a circuit id")
        if self.charge_type in PERIODIC_CHARGES and self.period_start is None:
            raise ValueError(f"a {self.charge_type.value} charge needs a service period")
        if self.due_date is not None and self.due_date < self.invoice_date:
            raise ValueError(f"due date {self.due_date} is before the invoice date {self.invoice_date}")
        return self

    def canonical(self) -> dict[str, str | None]:
        """The content of the row without where it came from (for invoice identity)."""
        data = self.model_dump(mode="json", exclude={"source_file", "source_row"})
        return {k: (None if v is None else str(v)) for k, v in data.items()}

    @property
    def service_start(self) -> dt.date:
        return self.period_start or self.invoice_date

    @property
    def service_end(self) -> dt.date:
        return self.period_end or self.service_start


@dataclass(frozen=True)
class Invoice:
    """All rows of one invoice number of one carrier, as imported from one file."""

    carrier: str
    invoice_number: str
    billing_account: str
    invoice_date: dt.date
    due_date: dt.date
    currency: str
    stated_total: Decimal | None
    source_file: str
    lines: tuple[InvoiceLine, ...] = field(default=())

    @cached_property
    def content_hash(self) -> str:
        """Same rows (in any order, from any file) → same hash: what makes a re-import a no-op."""
        rows = sorted(json.dumps(line.canonical(), sort_keys=True) for line in self.lines)
        return hashlib.sha256("\n".join(rows).encode()).hexdigest()

    @property
    def lines_total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))
