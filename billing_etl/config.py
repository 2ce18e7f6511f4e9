"""Carrier invoice layouts (``carriers.yaml``) and per-line contract terms (``contracts.yaml``).

Both files are parsed once, strictly, through :func:`linewatch.yamlconf.load_model`; cross-file rules (a
contract names a line the inventory does not know, a contract's carrier differs from the line's carrier) are
reported with the file line of the offending entry. Money is :class:`decimal.Decimal` everywhere.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from billing_etl.model import minor_unit
from linewatch.choices import (
    UTILIZATION_WARNING_PCT,
    BillingModel,
    ChargeType,
    DestinationClass,
    GbUnit,
    LabelValuePosition,
    ProrationConvention,
    UsageDirection,
)
from linewatch.errors import ConfigError, Problem
from linewatch.inventory import Inventory, load_inventory
from linewatch.inventory_source import load_configured_inventory
from linewatch.settings import Settings
from linewatch.voice.config import VoiceConfig, load_voice_config, voice_path
from linewatch.voice.directory import Directory, read_directory
from linewatch.yamlconf import Located, load_model

_STRICT = ConfigDict(extra="forbid", frozen=True)


def _to_decimal(value: object) -> object:
    # YAML gives floats for 12.50; go through str so 0.1 stays 0.1 and not 0.1000000000000000055...
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return value


Money = Annotated[Decimal, BeforeValidator(_to_decimal), Field(allow_inf_nan=False)]
NonNegMoney = Annotated[Decimal, BeforeValidator(_to_decimal), Field(ge=0, allow_inf_nan=False)]
Pct = Annotated[Decimal, BeforeValidator(_to_decimal), Field(ge=0, le=100, allow_inf_nan=False)]


def _iso4217(code: str) -> str:
    minor_unit(code)  # CurrencyError (a ValueError): reported as file:line by check-config
    return code


Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$"), AfterValidator(_iso4217)]

# Normalized invoice fields a layout maps columns onto. Required ones must be mapped in every layout.
REQUIRED_FIELDS = ("invoice_number", "invoice_date", "charge_type", "amount")
OPTIONAL_FIELDS = (
    "billing_account",
    "due_date",
    "circuit_id",
    "period_start",
    "period_end",
    "quantity",
    "unit_price",
    "currency",
    "description",
    "invoice_total",
)
INVOICE_FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS
# Fields that hold one value for the whole invoice and may therefore sit outside the table (``layout.fields``:
# the title cell, a label–value header block, the totals row).
INVOICE_LEVEL_FIELDS = (
    "invoice_number",
    "invoice_date",
    "due_date",
    "billing_account",
    "currency",
    "invoice_total",
    "period_start",
    "period_end",
)
# Fields every row must carry in a table column (they differ from row to row).
ROW_FIELDS = ("charge_type", "amount")


# -- carriers.yaml
# ----------------------------------------------------------------------------------------------


_CELL_REF = r"^[A-Z]{1,3}[1-9][0-9]{0,6}$"


def _has_strftime_field(value: str) -> str:
    if "%" not in value:
        raise ValueError(f"date_format {value!r} has no strftime field (e.g. %Y-%m-%d)")
    return value


DateFormat = Annotated[str, AfterValidator(_has_strftime_field)]


class FieldSource(BaseModel):
    """Where an invoice-level field sits outside the table: a fixed ``cell`` (``A1``), the cell next to a
    ``label`` (or the label's own text after a colon, ``Account: 12345``), or the first cell outside the table
    matching ``pattern``. With ``cell`` or ``label``, ``pattern`` picks the value out of the text (its first
    group, or the whole match): ``{cell: A1, pattern: 'Invoice No\\.\\s*(\\S+)'}``."""

    model_config = _STRICT
    cell: str | None = Field(default=None, pattern=_CELL_REF, description="fixed cell, e.g. A1 or B4")
    label: str | None = Field(default=None, min_length=1, description="text of the cell naming the value")
    pattern: str | None = Field(
        default=None, min_length=1, description="regular expression; group 1 is the value"
    )
    column: str | None = Field(
        default=None,
        min_length=1,
        description="with label: the value is in this table column on the label's row (a totals row)",
    )
    value: LabelValuePosition = Field(
        default=LabelValuePosition.RIGHT,
        description="with label: the value is the next non-empty cell to the right, or the cell below",
    )
    date_format: DateFormat | None = Field(
        default=None, description="for a date field: overrides the layout's"
    )

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
        if compiled.groups > 1:
            raise ValueError(f"pattern {value!r} has {compiled.groups} groups; give at most one (the value)")
        return value

    @model_validator(mode="after")
    def _one_place(self) -> FieldSource:
        if self.cell is not None and self.label is not None:
            raise ValueError("give cell or label, not both")
        if self.cell is None and self.label is None and self.pattern is None:
            raise ValueError("give a cell, a label or a pattern")
        if self.column is not None and self.label is None:
            raise ValueError("column needs a label (the row holding the value)")
        if self.column is not None and self.value is LabelValuePosition.BELOW:
            raise ValueError("give column (the label's row) or value: below, not both")
        if "value" in self.model_fields_set and self.label is None:
            raise ValueError("value (right or below) needs a label")
        return self

    def where(self) -> str:
        """How the source reads in messages: ``cell A1``, ``label 'TOTAL DUE'``, ``pattern '...'``."""
        if self.cell is not None:
            return f"cell {self.cell}"
        if self.label is not None:
            return f"label {self.label!r}"
        return f"pattern {self.pattern!r}"


class TableEnd(BaseModel):
    """Where the table of charges stops; what follows (totals, footnotes) is not read as rows. A row whose
    first non-empty cell is the label of a field not found above the table (``TOTAL DUE``) ends it as well."""

    model_config = _STRICT
    blank_row: bool = Field(default=False, description="the first blank row after the first charge row")
    markers: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list, description="a row whose first non-empty cell starts with one of these"
    )


def _table_settings_known(value: dict[str, Any]) -> dict[str, Any]:
    """pdfplumber's own table settings (``TableSettings`` and its ``text_*`` word options), checked by
    pdfplumber itself: an unknown key is refused listing the known ones, a bad value with pdfplumber's reason."""
    from pdfplumber.table import TableSettings
    from pdfplumber.utils.text import WORD_EXTRACTOR_KWARGS

    known = [f.name for f in dataclasses.fields(TableSettings) if f.name != "text_settings"]
    known += [f"text_{k}" for k in WORD_EXTRACTOR_KWARGS]
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ValueError(f"unknown table setting(s) {', '.join(unknown)}; known: {', '.join(known)}")
    try:
        TableSettings.resolve(dict(value))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"pdfplumber refuses these table settings: {exc}") from None
    return value


class PdfSettings(BaseModel):
    """Where the table of a text PDF is: the pages read, the area of each page holding it, and the settings
    given to pdfplumber's ``extract_tables`` (``vertical_strategy: lines`` for a ruled table, ``text`` for one
    aligned by whitespace)."""

    model_config = _STRICT
    pages: Literal["all"] | Annotated[list[Annotated[int, Field(ge=1)]], Field(min_length=1)] = Field(
        default="all", description="all, or the 1-based page numbers to read, e.g. [1, 2]"
    )
    area: (
        tuple[
            Annotated[float, Field(ge=0)],
            Annotated[float, Field(ge=0)],
            Annotated[float, Field(ge=0)],
            Annotated[float, Field(ge=0)],
        ]
        | None
    ) = Field(
        default=None,
        description="[x0, top, x1, bottom] in points (1/72 inch) from the page's top-left corner: the part of "
        "each page searched for tables; the whole page when absent",
    )
    table_settings: Annotated[dict[str, Any], AfterValidator(_table_settings_known)] = Field(
        default_factory=dict, description="pdfplumber table settings (vertical_strategy, snap_tolerance, ...)"
    )

    @field_validator("pages")
    @classmethod
    def _pages_unique(cls, value: object) -> object:
        if isinstance(value, list) and len(set(value)) != len(value):
            raise ValueError("a page is listed twice")
        return value

    @field_validator("area")
    @classmethod
    def _area_ordered(cls, value: tuple[float, float, float, float] | None) -> object:
        if value is not None:
            x0, top, x1, bottom = value
            if not (x0 < x1 and top < bottom):
                raise ValueError(
                    f"area {list(value)} is not [x0, top, x1, bottom] with x0 < x1 and top < bottom"
                )
        return value


class Layout(BaseModel):
    """How one carrier's invoice file is laid out: format, text conventions, where the table and the
    invoice-level fields are, column names, charge-type codes."""

    model_config = _STRICT
    format: Literal["csv", "xlsx", "pdf"]
    pdf: PdfSettings | None = Field(default=None, description="pdf only: pages, area and table settings")
    encoding: str = "utf-8"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    decimal_separator: Literal[".", ","] = "."
    thousands_separator: Literal["", ".", ",", " ", "'"] = ""
    date_format: DateFormat = "%Y-%m-%d"
    sheet: str | None = Field(default=None, description="XLSX sheet name; the first sheet when absent")
    header_row: Annotated[int, Field(ge=1)] | Literal["auto"] = Field(
        default=1,
        description="1-based row holding the column names, or auto: the first row holding every mapped "
        "column of the required fields",
    )
    currency: Currency | None = Field(
        default=None,
        description="currency of rows without a currency cell; the carrier's currency when absent (the "
        "Carrier fills it in)",
    )
    payment_terms_days: int = Field(
        default=30,
        ge=0,
        le=365,
        description="due date = invoice date + this, when the file has no due-date column",
    )
    columns: dict[str, str]
    fields: dict[str, FieldSource] = Field(
        default_factory=dict, description="invoice-level fields taken from outside the table"
    )
    table_end: TableEnd = Field(default_factory=TableEnd)
    charge_types: dict[str, ChargeType] = Field(min_length=1)

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        return value

    @field_validator("columns")
    @classmethod
    def _columns_known(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(INVOICE_FIELDS))
        if unknown:
            raise ValueError(
                f"unknown invoice field(s) {', '.join(unknown)}; known: {', '.join(INVOICE_FIELDS)}"
            )
        missing = [f for f in ROW_FIELDS if f not in value]
        if missing:
            raise ValueError(f"required invoice field(s) not mapped: {', '.join(missing)}")
        names = list(value.values())
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"column(s) mapped to more than one field: {', '.join(dupes)}")
        return value

    @field_validator("fields")
    @classmethod
    def _fields_known(cls, value: dict[str, FieldSource]) -> dict[str, FieldSource]:
        unknown = sorted(set(value) - set(INVOICE_LEVEL_FIELDS))
        if unknown:
            raise ValueError(
                f"field(s) {', '.join(unknown)} cannot be taken from outside the table; "
                f"invoice-level fields: {', '.join(INVOICE_LEVEL_FIELDS)}"
            )
        return value

    @model_validator(mode="after")
    def _separators_differ(self) -> Layout:
        both = sorted(set(self.columns) & set(self.fields))
        if both:
            raise ValueError(f"field(s) {', '.join(both)} given both in columns and in fields: keep one")
        missing = [f for f in REQUIRED_FIELDS if f not in self.columns and f not in self.fields]
        if missing:
            raise ValueError(
                f"required invoice field(s) not mapped: {', '.join(missing)} (map a column, or take it "
                "from a cell or label under fields)"
            )
        if self.thousands_separator == self.decimal_separator:
            raise ValueError("thousands_separator and decimal_separator must differ")
        if self.format == "csv" and self.delimiter == self.decimal_separator:
            raise ValueError(f"delimiter {self.delimiter!r} is also the decimal separator")
        if self.pdf is not None and self.format != "pdf":
            raise ValueError(f"pdf settings given for a {self.format} layout: drop them or set format: pdf")
        if self.format == "pdf":
            if self.header_row != "auto" and "header_row" in self.model_fields_set:
                raise ValueError(
                    "header_row: a PDF's column names are found in its tables (auto); drop header_row"
                )
            object.__setattr__(self, "header_row", "auto")
            if self.pdf is None:
                object.__setattr__(self, "pdf", PdfSettings())
        return self


class RateCardTier(BaseModel):
    """A commit the carrier sells and its monthly price (used to price a smaller or bigger commit)."""

    model_config = _STRICT
    commit_bps: int = Field(gt=0)
    mrc: NonNegMoney


class ItemizedCalls(BaseModel):
    """A carrier's itemized call records (one row per billed call), reconciled call by call with the PBX's CDRs
    (:mod:`billing_etl.itemized`, docs/billing.md "Itemized calls")."""

    model_config = _STRICT
    pattern: str = Field(min_length=1, description="glob of the carrier's call files, under invoice_dir")
    layout: str = Field(
        min_length=1, description="the voice.yaml layouts entry that reads them (its timezone: the files' times)"
    )
    classes: dict[str, DestinationClass] = Field(
        default_factory=dict,
        description="the carrier's destination texts (as the files write them) -> destination class; a text "
        "not listed must be a class name",
    )
    match_window_s: int = Field(
        default=120,
        ge=0,
        le=3600,
        description="a billed call matches a CDR of the line with the same number answered within ± this",
    )


class Carrier(BaseModel):
    model_config = _STRICT
    name: str = Field(min_length=1)
    files: list[str] = Field(min_length=1, description="glob patterns of invoice files, under invoice_dir")
    layout: Layout
    currency: Currency = Field(
        description="ISO 4217 code of the carrier's invoices (required: never assumed)"
    )
    rate_card: list[RateCardTier] = Field(default_factory=list)
    itemized_calls: ItemizedCalls | None = None

    @model_validator(mode="after")
    def _layout_currency(self) -> Carrier:
        """Rows without a currency cell are in the carrier's currency: ``layout.currency`` defaults to it (one
        that differs is a problem of load_billing_config's, located at the key)."""
        if self.layout.currency is None:
            object.__setattr__(self, "layout", self.layout.model_copy(update={"currency": self.currency}))
        return self

    @field_validator("rate_card")
    @classmethod
    def _sorted_unique(cls, value: list[RateCardTier]) -> list[RateCardTier]:
        commits = [t.commit_bps for t in value]
        if len(set(commits)) != len(commits):
            raise ValueError("rate_card has the same commit_bps twice")
        return sorted(value, key=lambda t: t.commit_bps)


class CarriersFile(BaseModel):
    model_config = _STRICT
    invoice_dir: Path = Path("invoices")
    carriers: list[Carrier] = Field(default_factory=list)

    def by_name(self) -> dict[str, Carrier]:
        return {c.name: c for c in self.carriers}


# -- contracts.yaml
# ---------------------------------------------------------------------------------------------


class Flat(BaseModel):
    model_config = _STRICT
    model: Literal[BillingModel.FLAT]


class Burstable(BaseModel):
    """95th percentile of 5-minute samples, top 5 % dropped; billed per Mbps (10^6 bit/s) above the commit."""

    model_config = _STRICT
    model: Literal[BillingModel.BURSTABLE_95]
    direction: UsageDirection = UsageDirection.MAX
    price_per_mbps: NonNegMoney


class VolumeQuota(BaseModel):
    """GB included per month (in + out), price per GB over."""

    model_config = _STRICT
    model: Literal[BillingModel.VOLUME_QUOTA]
    included_gb: NonNegMoney
    price_per_gb: NonNegMoney
    gb_unit: GbUnit = GbUnit.DECIMAL


class Discount(BaseModel):
    """A percentage or fixed monthly reduction of the MRC, valid from/to (inclusive) when given."""

    model_config = _STRICT
    name: str = Field(min_length=1)
    percent: Pct | None = None
    amount: NonNegMoney | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Discount:
        if (self.percent is None) == (self.amount is None):
            raise ValueError(f"discount {self.name!r}: give exactly one of percent or amount")
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError(f"discount {self.name!r}: valid_to is before valid_from")
        return self

    def applies(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


class CreditTier(BaseModel):
    model_config = _STRICT
    below_pct: Pct = Field(description="availability strictly below this earns the credit")
    credit_pct: Pct = Field(description="credit as a percentage of the MRC")


class Sla(BaseModel):
    model_config = _STRICT
    target_pct: Pct
    credit_tiers: list[CreditTier] = Field(min_length=1)
    cap_pct: Pct = Decimal(100)

    @model_validator(mode="after")
    def _tiers(self) -> Sla:
        if any(t.below_pct > self.target_pct for t in self.credit_tiers):
            raise ValueError("a credit tier starts above the availability target")
        return self

    def credit_pct(self, availability_pct: Decimal) -> Decimal:
        """The credit (% of MRC) earned at ``availability_pct``: the best matching tier, capped."""
        earned = [t.credit_pct for t in self.credit_tiers if availability_pct < t.below_pct]
        return min(max(earned, default=Decimal(0)), self.cap_pct)


class Term(BaseModel):
    model_config = _STRICT
    start: dt.date
    months: int = Field(gt=0, le=240)
    auto_renew: bool = False
    renewal_months: int = Field(default=12, gt=0, le=120)
    notice_days: int = Field(default=90, ge=0, le=730)
    early_termination_pct: Pct = Field(
        default=Decimal(100),
        description="% of the MRCs remaining to the term's end charged when the line is terminated early",
    )

    def end(self, *, on_or_after: dt.date | None = None) -> dt.date:
        """Last day of the current term (following renewals past ``on_or_after`` when auto-renewing)."""
        end = add_months(self.start, self.months) - dt.timedelta(days=1)
        if on_or_after is not None and self.auto_renew:
            while end < on_or_after:
                end = add_months(end + dt.timedelta(days=1), self.renewal_months) - dt.timedelta(days=1)
        return end


# The terms a change may set, and the billing model each belongs to (None: every model has it).
CHANGE_TERMS: dict[str, BillingModel | None] = {
    "mrc": None,
    "commit_bps": None,
    "price_per_mbps": BillingModel.BURSTABLE_95,
    "included_gb": BillingModel.VOLUME_QUOTA,
    "price_per_gb": BillingModel.VOLUME_QUOTA,
}


class ContractChange(BaseModel):
    """New terms from ``effective`` on (billing is per day: the day itself is billed at the new terms). A term
    left out is unchanged."""

    model_config = _STRICT
    effective: dt.date
    mrc: NonNegMoney | None = None
    commit_bps: int | None = Field(default=None, gt=0)
    price_per_mbps: NonNegMoney | None = None
    included_gb: NonNegMoney | None = None
    price_per_gb: NonNegMoney | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> ContractChange:
        if not self.terms():
            raise ValueError(f"a change sets at least one of {', '.join(CHANGE_TERMS)}")
        return self

    def terms(self) -> dict[str, object]:
        """The terms this change sets (name: new value)."""
        return {name: getattr(self, name) for name in CHANGE_TERMS if getattr(self, name) is not None}


def _located_error(title: str, loc: tuple[str | int, ...], message: str, value: object) -> ValidationError:
    """A validation error at ``loc`` below the model being validated (pydantic prefixes the outer path)."""
    return ValidationError.from_exception_data(
        title, [InitErrorDetails(type=PydanticCustomError("value_error", message), loc=loc, input=value)]
    )


class Contract(BaseModel):
    model_config = _STRICT
    line: str = Field(min_length=1)
    carrier: str = Field(min_length=1)
    currency: Currency | None = Field(
        default=None, description="ISO 4217 code; the carrier's currency when absent"
    )
    mrc: NonNegMoney
    commit_bps: int | None = Field(
        default=None, gt=0, description="committed rate; the inventory capacity_bps when absent"
    )
    billing: Annotated[Flat | Burstable | VolumeQuota, Field(discriminator="model")] = Flat(
        model=BillingModel.FLAT
    )
    proration: ProrationConvention = ProrationConvention.ACTUAL_DAYS
    discounts: list[Discount] = Field(default_factory=list)
    sla: Sla | None = None
    term: Term | None = None
    changes: list[ContractChange] = Field(
        default_factory=list, description="new terms from a date on, strictly increasing effective"
    )
    price_per_channel: NonNegMoney | None = Field(
        default=None,
        description="voice trunks: the monthly price of one contracted channel (prices the channel sizing "
        "proposals)",
    )

    @model_validator(mode="after")
    def _changes_fit(self) -> Contract:
        """Changes are in strictly increasing order and set only terms of the contract's billing model (a
        price per Mbit/s on a flat contract is refused naming its field, as ``billing`` would refuse it)."""
        for j, change in enumerate(self.changes):
            if j and change.effective <= self.changes[j - 1].effective:
                raise _located_error(
                    "Contract",
                    ("changes", j, "effective"),
                    f"{change.effective} is not after the previous change's {self.changes[j - 1].effective} "
                    "(changes are in strictly increasing order of effective)",
                    change.effective.isoformat(),
                )
            for name, owner in CHANGE_TERMS.items():
                if (
                    owner is not None
                    and getattr(change, name) is not None
                    and self.billing.model is not owner
                ):
                    raise _located_error(
                        "Contract",
                        ("changes", j, name),
                        f"{name} is a term of {owner.value} billing; this contract is "
                        f"{self.billing.model.value}",
                        str(getattr(change, name)),
                    )
        return self

    def terms_on(self, day: dt.date) -> Contract:
        """The contract as it stands on ``day``: the changes effective on or before it applied (a contract with
        no ``changes``; its ``mrc_on``, ``commit_bps`` and ``billing`` are those in force that day)."""
        current = [c for c in self.changes if c.effective <= day]
        if not current:
            return self if not self.changes else self.model_copy(update={"changes": []})
        update: dict[str, object] = {"changes": []}
        billing: dict[str, object] = {}
        for change in current:
            for name, value in change.terms().items():
                (billing if CHANGE_TERMS[name] is not None else update)[name] = value
        if billing:
            update["billing"] = self.billing.model_copy(update=billing)
        return self.model_copy(update=update)

    def segments(self, first_day: dt.date, last_day: dt.date) -> list[tuple[dt.date, dt.date, Contract]]:
        """``first_day..last_day`` (inclusive) cut where a change takes effect: ``(first, last, terms)`` per
        stretch of days under the same terms, in order (one segment when nothing changes inside)."""
        if last_day < first_day:
            return []
        cuts = [c.effective for c in self.changes if first_day < c.effective <= last_day]
        starts = [first_day, *cuts]
        ends = [d - dt.timedelta(days=1) for d in cuts] + [last_day]
        return [(start, end, self.terms_on(start)) for start, end in zip(starts, ends, strict=True)]

    def mrc_on(self, day: dt.date) -> Decimal:
        """The monthly recurring charge in force on ``day`` (its changes applied) after the discounts valid
        that day (never below zero)."""
        mrc = self.terms_on(day).mrc if self.changes else self.mrc
        value = mrc
        for d in self.discounts:
            if d.applies(day):
                value -= mrc * d.percent / 100 if d.percent is not None else d.amount or Decimal(0)
        return max(value, Decimal(0))


class AuditSettings(BaseModel):
    model_config = _STRICT
    tolerance_amount: NonNegMoney = Decimal("0.01")
    usage_tolerance_pct: Pct = Decimal(1)
    month_over_month_pct: Pct = Decimal(20)
    contract_notice_days: int = Field(default=90, ge=0, le=730)


class SavingsSettings(BaseModel):
    model_config = _STRICT
    underused_pct: Pct = Field(default=Decimal(30), description="p95 below this % of commit is underused")
    underused_months: int = Field(default=3, ge=1, le=24)
    idle_bps: int = Field(default=100_000, ge=0, description="p95 below this is idle")
    saturated_pct: Pct = Decimal(str(UTILIZATION_WARNING_PCT))
    headroom_pct: Pct = Field(default=Decimal(25), description="a new commit leaves this much room above p95")
    min_availability_pct: Pct = Field(
        default=Decimal(95),
        description="a line up less than this in the period gets no terminate/downgrade proposal: its low "
        "usage is an outage, not a lack of demand",
    )


class ContractsFile(BaseModel):
    model_config = _STRICT
    audit: AuditSettings = Field(default_factory=AuditSettings)
    savings: SavingsSettings = Field(default_factory=SavingsSettings)
    contracts: list[Contract] = Field(default_factory=list)

    def by_line(self) -> dict[str, Contract]:
        return {c.line: c for c in self.contracts}


# -- loading
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BillingConfig:
    """Everything the ETL reads from configuration, validated together. ``voice``: voice.yaml (rate plans,
    numbering, layouts, capacity target; defaults without the file); ``directory``: the extension directory the
    voice cost per department is charged by (None: every call to its trunk's department)."""

    carriers: CarriersFile
    contracts: ContractsFile
    inventory: Inventory
    invoice_dir: Path
    voice: VoiceConfig = dataclasses.field(default_factory=VoiceConfig)
    directory: Directory | None = None

    def __post_init__(self) -> None:
        # Contracts that name no currency take their carrier's (a contract whose carrier is unknown and that
        # names none is a problem of load_billing_config's).
        by_name = self.carriers.by_name()
        resolved = [
            c.model_copy(update={"currency": by_name[c.carrier].currency})
            if c.currency is None and c.carrier in by_name
            else c
            for c in self.contracts.contracts
        ]
        object.__setattr__(self, "contracts", self.contracts.model_copy(update={"contracts": resolved}))


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` calendar months (clamped to the month's last day)."""
    import calendar

    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def carrier_problems(carriers: CarriersFile, located: Located) -> list[Problem]:
    problems = []
    seen: dict[str, int] = {}
    for i, carrier in enumerate(carriers.carriers):
        if carrier.name in seen:
            problems.append(
                located.problem(
                    ("carriers", i, "name"),
                    f"duplicate carrier {carrier.name!r} (first at carriers[{seen[carrier.name]}])",
                )
            )
        seen.setdefault(carrier.name, i)
        if carrier.layout.currency != carrier.currency:
            problems.append(
                located.problem(
                    ("carriers", i, "layout", "currency"),
                    f"{carrier.layout.currency} differs from the carrier's currency {carrier.currency}: drop "
                    "it (rows without a currency cell take the carrier's)",
                )
            )
    return problems


def contract_problems(
    contracts: ContractsFile, located: Located, inventory: Inventory, carriers: CarriersFile
) -> list[Problem]:
    problems = []
    seen: dict[str, int] = {}
    known_carriers = {c.name for c in carriers.carriers}
    for i, contract in enumerate(contracts.contracts):
        if contract.line in seen:
            problems.append(
                located.problem(
                    ("contracts", i, "line"),
                    f"line {contract.line!r} already has a contract (contracts[{seen[contract.line]}])",
                )
            )
        seen.setdefault(contract.line, i)
        line = inventory.lines_by_id.get(contract.line)
        if line is None:
            problems.append(
                located.problem(("contracts", i, "line"), f"line {contract.line!r} is not in the inventory")
            )
        elif line.carrier != contract.carrier:
            problems.append(
                located.problem(
                    ("contracts", i, "carrier"),
                    f"line {contract.line!r} is carried by {line.carrier!r} in the inventory",
                )
            )
        if known_carriers and contract.carrier not in known_carriers:
            problems.append(
                located.problem(
                    ("contracts", i, "carrier"), f"carrier {contract.carrier!r} is not in carriers.yaml"
                )
            )
        carrier = carriers.by_name().get(contract.carrier)
        if carrier is None and contract.currency is None:
            problems.append(
                located.problem(
                    ("contracts", i, "currency"),
                    f"no currency: give one, or describe carrier {contract.carrier!r} in carriers.yaml",
                )
            )
        if carrier is not None and contract.currency is not None and carrier.currency != contract.currency:
            problems.append(
                located.problem(
                    ("contracts", i, "currency"),
                    f"{contract.currency} differs from carrier currency {carrier.currency}",
                )
            )
    return problems


def voice_problems(
    carriers: CarriersFile,
    c_located: Located,
    contracts: ContractsFile,
    k_located: Located,
    inventory: Inventory,
    voice: VoiceConfig,
) -> list[Problem]:
    """A carrier's itemized calls naming a layout voice.yaml does not define; a price per channel on a line
    that is not a voice trunk with channels."""
    problems = []
    layouts = {layout.name for layout in voice.layouts}
    for i, carrier in enumerate(carriers.carriers):
        itemized = carrier.itemized_calls
        if itemized is not None and itemized.layout not in layouts:
            problems.append(
                c_located.problem(
                    ("carriers", i, "itemized_calls", "layout"),
                    f"unknown layout {itemized.layout!r}: voice.yaml layouts has "
                    f"{', '.join(sorted(layouts)) or 'none'}",
                )
            )
    for i, contract in enumerate(contracts.contracts):
        line = inventory.lines_by_id.get(contract.line)
        if contract.price_per_channel is not None and line is not None and line.channels is None:
            problems.append(
                k_located.problem(
                    ("contracts", i, "price_per_channel"),
                    f"line {contract.line!r} has no channels in the inventory (only voice trunks with channels "
                    "are priced per channel)",
                )
            )
    return problems


def load_voice_inputs(settings: Settings, inventory: Inventory) -> tuple[VoiceConfig, Directory | None]:
    """voice.yaml (cross-checked against ``inventory``) and the extension directory it names (None without
    one). Raises :class:`~linewatch.errors.ConfigError` naming every problem."""
    voice = load_voice_config(settings, inventory)
    directory = None
    if voice.extensions is not None:
        directory = read_directory(voice.extensions)
    return voice, directory


def load_billing_config(settings: Settings, *, inventory: Inventory | None = None) -> BillingConfig:
    """Load carriers.yaml, contracts.yaml (and the inventory) and check them against each other.

    Raises :class:`~linewatch.errors.ConfigError` listing every problem of both files.
    """
    problems: list[Problem] = []
    carriers_path = settings.resolve(settings.carriers_path)
    contracts_path = settings.resolve(settings.contracts_path)
    if inventory is None:  # lines.yaml or the management application (inventory.source)
        inventory = load_configured_inventory(settings)
    carriers = contracts = None
    try:
        carriers, c_located = load_model(carriers_path, CarriersFile)
        problems += carrier_problems(carriers, c_located)
    except ConfigError as exc:
        problems += exc.problems
    try:
        contracts, k_located = load_model(contracts_path, ContractsFile)
        if carriers is not None:
            problems += contract_problems(contracts, k_located, inventory, carriers)
    except ConfigError as exc:
        problems += exc.problems
    voice, directory = VoiceConfig(), None
    try:
        voice, directory = load_voice_inputs(settings, inventory)
    except ConfigError as exc:
        problems += exc.problems
    if carriers is not None and contracts is not None:
        problems += voice_problems(carriers, c_located, contracts, k_located, inventory, voice)
    if problems or carriers is None or contracts is None:
        raise ConfigError(problems)
    invoice_dir = carriers.invoice_dir
    if not invoice_dir.is_absolute():
        invoice_dir = carriers_path.parent / invoice_dir
    return BillingConfig(
        carriers=carriers,
        contracts=contracts,
        inventory=inventory,
        invoice_dir=invoice_dir,
        voice=voice,
        directory=directory,
    )


def check_config(settings: Settings) -> list[Problem]:
    """``linewatch check-config`` hook: every problem in carriers.yaml and contracts.yaml."""
    try:
        inventory = load_inventory(settings.resolve(settings.inventory_path))
    except ConfigError:
        return []  # the inventory checker reports those; contracts cannot be cross-checked without it
    try:
        load_billing_config(settings, inventory=inventory)
    except ConfigError as exc:
        # voice.yaml's own problems are reported by the voice checker (linewatch.voice.config)
        return [p for p in exc.problems if p.file != str(voice_path(settings))]
    return []
