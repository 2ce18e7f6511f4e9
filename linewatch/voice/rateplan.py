"""voice.yaml ``rate_plans``: a carrier contract's call tariff (docs/rating.md).

A plan names its currency, the zone its time bands are read in, the billing increment (``60/60``: the first 60
seconds, then every 60; ``30/6``; ``1/1``), a minimum charge and a connection fee per answered call, time bands
(named windows of weekdays and times of day; a band without windows is "every other time"), per-minute rates by
E.164 prefix and/or destination class (one for all bands or one per band), and at most one included-minute bundle
a month. Money is :class:`decimal.Decimal`. Validated strictly, every problem located at its entry.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import cached_property
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from iso4217 import Currency as _Iso4217
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from linewatch.choices import DestinationClass

_STRICT = ConfigDict(extra="forbid", frozen=True)
_ALIASED = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
E164_PREFIX = r"^[1-9][0-9]{0,14}$"
RATE_PLACES = 6
"""Rates, fees and charges have at most this many decimal places (they are computed exactly in millionths)."""
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MINUTES_PER_WEEK = 7 * 24 * 60


def _to_decimal(value: object) -> object:
    # YAML reads 0.029 as a float: through its shortest repr, so it stays 0.029 and not 0.0289999999999999…
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    return value


def _places(value: Decimal) -> Decimal:
    if value.as_tuple().exponent < -RATE_PLACES:  # type: ignore[operator]
        raise ValueError(f"at most {RATE_PLACES} decimal places")
    return value


Amount = Annotated[Decimal, BeforeValidator(_to_decimal), Field(ge=0, le=10**6, allow_inf_nan=False)]


def _error(loc: tuple[str | int, ...], reason: str) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError("rate_plan", "{reason}", {"reason": reason}), loc=loc, input=None)


def _hhmm(value: str, *, end: bool) -> int:
    match = re.fullmatch(r"([01][0-9]|2[0-4]):([0-5][0-9])", value)
    if not match or (int(match[1]) == 24 and (int(match[2]) or not end)):
        raise ValueError(f"expected a time HH:MM{' (24:00 for midnight at the end)' if end else ''}, got {value!r}")
    return int(match[1]) * 60 + int(match[2])


class Window(BaseModel):
    """Weekdays and a time of day, ``start`` ≤ t < ``end`` in the plan's zone (``end: "24:00"`` for midnight)."""

    model_config = _STRICT
    days: list[Weekday] = Field(min_length=1)
    start: str = Field(description="HH:MM")
    end: str = Field(description="HH:MM, or 24:00")

    @field_validator("days")
    @classmethod
    def _unique_days(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("a weekday is listed twice")
        return v

    @field_validator("start")
    @classmethod
    def _start(cls, v: str) -> str:
        _hhmm(v, end=False)
        return v

    @field_validator("end")
    @classmethod
    def _end(cls, v: str) -> str:
        _hhmm(v, end=True)
        return v

    @model_validator(mode="after")
    def _order(self) -> Window:
        if _hhmm(self.end, end=True) <= _hhmm(self.start, end=False):
            raise ValueError(f"end {self.end} is not after start {self.start}: split a window over midnight in two")
        return self

    def minutes_of_week(self) -> list[tuple[int, int]]:
        """[start, end) minute-of-week ranges (Monday 00:00 = 0)."""
        first, last = _hhmm(self.start, end=False), _hhmm(self.end, end=True)
        return [(WEEKDAYS.index(d) * 1440 + first, WEEKDAYS.index(d) * 1440 + last) for d in self.days]


class Band(BaseModel):
    """A named time band; without ``windows`` it is every time no other band's window covers."""

    model_config = _STRICT
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    windows: list[Window] = Field(default_factory=list)


class Holidays(BaseModel):
    """Dates (in the plan's zone) charged all day in ``band``."""

    model_config = _STRICT
    band: str
    dates: list[dt.date] = Field(min_length=1)


class Rate(BaseModel):
    """A per-minute rate for numbers starting with ``prefix`` (E.164 digits) and/or of class ``class``; neither
    is the plan's default. ``rate`` is one amount for every band or a mapping band → amount."""

    model_config = _ALIASED
    prefix: str | None = Field(default=None, pattern=E164_PREFIX)
    dest_class: DestinationClass | None = Field(default=None, alias="class")
    rate: Amount | dict[str, Amount]
    description: str = ""

    @field_validator("rate")
    @classmethod
    def _rate_places(cls, v: Decimal | dict[str, Decimal]) -> Decimal | dict[str, Decimal]:
        for amount in v.values() if isinstance(v, dict) else (v,):
            _places(amount)
        return v

    @property
    def key(self) -> tuple[str, str]:
        return (self.prefix or "", self.dest_class.value if self.dest_class else "")

    def label(self) -> str:
        parts = [f"prefix {self.prefix}"] if self.prefix else []
        parts += [f"class {self.dest_class.value}"] if self.dest_class else []
        return " and ".join(parts) or "the default rate"


class Bundle(BaseModel):
    """Included minutes a month (the month in the plan's zone) for calls of ``classes`` or to ``prefixes``: the
    line's answered calls take from it in start order until it is used up."""

    model_config = _STRICT
    name: str = Field(min_length=1, max_length=64)
    minutes: int = Field(gt=0, le=10**7)
    classes: list[DestinationClass] = Field(default_factory=list)
    prefixes: list[str] = Field(default_factory=list)

    @field_validator("prefixes")
    @classmethod
    def _prefixes(cls, v: list[str]) -> list[str]:
        for p in v:
            if not re.fullmatch(E164_PREFIX, p):
                raise ValueError(f"{p!r} is not an E.164 prefix (digits, country code first, no '+')")
        return v

    @model_validator(mode="after")
    def _something(self) -> Bundle:
        if not self.classes and not self.prefixes:
            raise ValueError("a bundle needs classes or prefixes: which calls may use its minutes")
        return self


class RatePlan(BaseModel):
    """One carrier contract's call tariff (voice.yaml ``rate_plans`` entry); inventory lines name it."""

    model_config = _STRICT
    name: str = Field(min_length=1, max_length=128)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    timezone: str = Field(default="UTC", description="the zone of the time bands, holidays and bundle months")
    increment: str = Field(default="60/60", description="first/next billed seconds: 60/60, 30/6, 1/1")
    minimum_charge: Amount = Field(default=Decimal(0), description="least charge of an answered call (not in bundle)")
    connection_fee: Amount = Field(default=Decimal(0), description="added to every answered call")
    bands: list[Band] = Field(default_factory=list)
    holidays: Holidays | None = None
    rates: list[Rate] = Field(min_length=1)
    bundles: list[Bundle] = Field(default_factory=list, max_length=1,
                                  description="at most one: its use is counted per line and month")
    description: str = ""

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        try:
            exponent = _Iso4217(v).exponent
        except ValueError:
            raise ValueError(f"{v!r} is not an ISO 4217 currency code") from None
        if exponent is None:
            raise ValueError(f"{v} has no minor unit in ISO 4217: not a currency to charge in")
        return v

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (an IANA name such as Europe/Berlin)") from None
        return v

    @field_validator("increment", mode="before")
    @classmethod
    def _increment(cls, v: object) -> str:
        v = str(v)
        match = re.fullmatch(r"([1-9][0-9]{0,4})/([1-9][0-9]{0,4})", v)
        if not match:
            raise ValueError(f"expected first/next seconds such as 60/60, 30/6 or 1/1, got {v!r}")
        return v

    @field_validator("minimum_charge", "connection_fee")
    @classmethod
    def _fee_places(cls, v: Decimal) -> Decimal:
        return _places(v)

    @model_validator(mode="after")
    def _consistent(self) -> RatePlan:
        errors = self._band_errors() + self._rate_errors()
        if errors:
            raise ValidationError.from_exception_data("RatePlan", errors)
        return self

    def _band_errors(self) -> list[InitErrorDetails]:
        errors: list[InitErrorDetails] = []
        names: dict[str, int] = {}
        for i, band in enumerate(self.bands):
            if band.name in names:
                errors.append(_error(("bands", i, "name"), f"band {band.name} is already bands[{names[band.name]}]"))
            names.setdefault(band.name, i)
        rest = [i for i, b in enumerate(self.bands) if not b.windows]
        for i in rest[1:]:
            errors.append(_error(("bands", i, "windows"), f"only one band may have no windows (bands[{rest[0]}] "
                                                          "already is every other time)"))
        owner: list[str | None] = [None] * MINUTES_PER_WEEK
        for i, band in enumerate(self.bands):
            for j, window in enumerate(band.windows):
                for lo, hi in window.minutes_of_week():
                    clash = next((owner[m] for m in range(lo, hi) if owner[m] is not None), None)
                    if clash is not None:
                        day = WEEKDAYS[lo // 1440]
                        errors.append(_error(("bands", i, "windows", j), f"overlaps band {clash} on {day} "
                                                                         f"between {window.start} and {window.end}"))
                        break
                    owner[lo:hi] = [band.name] * (hi - lo)
        if self.bands and not rest and None in owner:
            gap = owner.index(None)
            errors.append(_error(("bands",), f"no band covers {WEEKDAYS[gap // 1440]} "
                                             f"{gap % 1440 // 60:02d}:{gap % 60:02d}: add a window or a band "
                                             "without windows (every other time)"))
        if self.holidays is not None and self.holidays.band not in names:
            errors.append(_error(("holidays", "band"), f"unknown band {self.holidays.band!r}"))
        return errors

    def _rate_errors(self) -> list[InitErrorDetails]:
        errors: list[InitErrorDetails] = []
        bands = [b.name for b in self.bands]
        seen: dict[tuple[str, str], int] = {}
        for i, rate in enumerate(self.rates):
            if rate.key in seen:
                errors.append(_error(("rates", i), f"{rate.label()} is already rates[{seen[rate.key]}]"))
            seen.setdefault(rate.key, i)
            if isinstance(rate.rate, dict):
                if not bands:
                    errors.append(_error(("rates", i, "rate"), "per-band rates, but the plan has no bands: "
                                                               "give one amount"))
                    continue
                unknown = [b for b in rate.rate if b not in bands]
                missing = [b for b in bands if b not in rate.rate]
                if unknown:
                    errors.append(_error(("rates", i, "rate"), f"unknown band {', '.join(unknown)} (bands: "
                                                               f"{', '.join(bands)})"))
                elif missing:
                    errors.append(_error(("rates", i, "rate"), f"no rate for band {', '.join(missing)}"))
        return errors

    # -- derived ---------------------------------------------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def first_s(self) -> int:
        return int(self.increment.split("/")[0])

    @property
    def next_s(self) -> int:
        return int(self.increment.split("/")[1])

    @property
    def minor_unit(self) -> int:
        """Decimal places of the currency (ISO 4217): EUR 2, KRW 0, BHD 3."""
        return int(_Iso4217(self.currency).exponent)

    @property
    def band_names(self) -> list[str]:
        """The bands in the order of ``bands`` ([""] for a plan without bands: one band for all times)."""
        return [b.name for b in self.bands] or [""]

    @cached_property
    def week_bands(self) -> list[int]:
        """The band index (into ``band_names``) of each minute of the week, Monday 00:00 first."""
        if not self.bands:
            return [0] * MINUTES_PER_WEEK
        rest = next((i for i, b in enumerate(self.bands) if not b.windows), 0)
        out = [rest] * MINUTES_PER_WEEK
        for i, band in enumerate(self.bands):
            for window in band.windows:
                for lo, hi in window.minutes_of_week():
                    out[lo:hi] = [i] * (hi - lo)
        return out

    def rate_of(self, rate: Rate, band: str) -> Decimal:
        """The per-minute amount of ``rate`` in ``band``."""
        return rate.rate[band] if isinstance(rate.rate, dict) else rate.rate


def month_bounds(plan: RatePlan, month: str) -> tuple[float, float]:
    """Epoch seconds of the start of ``month`` ("YYYY-MM") and of the next month, in the plan's zone."""
    match = re.fullmatch(r"([0-9]{4})-(0[1-9]|1[0-2])", month)
    if not match:
        raise ValueError(f"expected a month YYYY-MM, got {month!r}")
    year, mon = int(match[1]), int(match[2])
    start = dt.datetime(year, mon, 1, tzinfo=plan.zone)
    end = dt.datetime(year + (mon == 12), mon % 12 + 1, 1, tzinfo=plan.zone)
    return start.timestamp(), end.timestamp()
