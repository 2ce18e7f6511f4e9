"""``{{ amount|money:currency }}``: an amount rounded to its currency's minor unit and grouped (1,234.50 EUR's
number part, 1,235 for KRW); ``—`` for none."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from billing_etl.model import CurrencyError, amount_text

register = template.Library()


@register.filter
def money(value: Any, currency: str) -> str:
    if value is None or value == "":
        return "—"
    try:
        return amount_text(Decimal(value), currency)
    except (CurrencyError, ArithmeticError, ValueError):
        return str(value)


@register.filter
def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %"
