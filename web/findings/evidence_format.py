"""Numbers and contract terms written for the evidence pack's reader, in the pack's language. Pure.

Amounts are the invoices' own rounding (:func:`billing_etl.model.amount_text`, the currency's minor unit) with
the currency code after them; rates in the largest unit that keeps them readable (``950 Mbit/s``,
``1.2 Gbit/s``); the contract's terms as sentences (:func:`clauses`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from billing_etl.model import amount_text
from linewatch.choices import BillingModel, UsageDirection
from web.findings.evidence_data import ContractTerms
from web.findings.evidence_labels import enum_text, text

_RATE_UNITS = ((10**12, "Tbit/s"), (10**9, "Gbit/s"), (10**6, "Mbit/s"), (10**3, "kbit/s"))


def money_text(amount: Decimal, currency: str) -> str:
    """``1,234.50 EUR``, ``-50,000 KRW``: rounded to the currency's minor unit, the code after it."""
    return f"{amount_text(amount, currency)} {currency}"


def rate_text(bps: float | None) -> str:
    """``100 Mbit/s``, ``1.5 Gbit/s``, ``512 kbit/s``; ``–`` for none."""
    if bps is None:
        return "–"
    for scale, unit in _RATE_UNITS:
        if abs(bps) >= scale:
            value = bps / scale
            return f"{value:,.0f} {unit}" if value >= 100 or value == int(value) else f"{value:,.1f} {unit}"
    return f"{bps:,.0f} bit/s"


def pct_text(value: float | Decimal | None, places: int = 3) -> str:
    """``99.95 %`` (trailing zeros dropped: ``99.9 %``, ``100 %``); ``–`` for none."""
    if value is None:
        return "–"
    shown = f"{float(value):.{places}f}".rstrip("0").rstrip(".")
    return f"{shown} %"


def minutes_text(minutes: float) -> str:
    """``0 min``, ``45 min``, ``2 h 05 min``."""
    whole = round(minutes)
    return f"{whole} min" if whole < 60 else f"{whole // 60} h {whole % 60:02d} min"


def bytes_text(n_bytes: float) -> str:
    """``12.3 GB`` (10⁹ bytes), ``1.05 TB``."""
    if n_bytes >= 1e12:
        return f"{n_bytes / 1e12:,.2f} TB"
    return f"{n_bytes / 1e9:,.1f} GB"


def day_text(day: dt.date | None) -> str:
    return day.isoformat() if day is not None else "–"


def _number(value: Decimal) -> str:
    """A contract's figure without trailing zeros: ``99.9``, ``10``, ``2.5``."""
    shown = f"{value:f}"
    return shown.rstrip("0").rstrip(".") if "." in shown else shown


def clauses(terms: ContractTerms, language: str) -> list[tuple[str, str]]:
    """The contract's terms in words, (term, wording) in the order a reader checks a charge against them:
    the MRC, the billing model and its usage terms, the SLA and its credits, the term."""
    t = terms
    c = t.currency
    out = [(text("c_mrc", language), money_text(t.mrc, c)),
           (text("c_billing", language), enum_text(BillingModel, t.billing_model, language))]
    if t.commit_bps:
        out.append((text("c_commit", language), rate_text(t.commit_bps)))
    if t.capacity_bps:
        out.append((text("c_capacity", language), rate_text(t.capacity_bps)))
    if t.billing_model == BillingModel.BURSTABLE_95 and t.price_per_mbps is not None:
        out.append((text("c_burst", language), text(
            "w_per_mbps", language, price=money_text(t.price_per_mbps, c),
            commit=rate_text(t.commit_bps or t.capacity_bps),
            direction=enum_text(UsageDirection, t.direction, language))))
    if t.billing_model == BillingModel.VOLUME_QUOTA and t.included_gb is not None:
        out.append((text("c_quota", language), f"{_number(t.included_gb)} GB"))
        if t.price_per_gb is not None:
            out.append((text("c_over_quota", language), text(
                "w_per_gb", language, price=money_text(t.price_per_gb, c), included=_number(t.included_gb))))
    if t.sla_target_pct is not None:
        out.append((text("c_sla", language), f"{_number(t.sla_target_pct)} %"))
    if t.tiers:
        out.append((text("c_tiers", language), "; ".join(
            text("w_tier", language, below=_number(tier.below_pct), credit=_number(tier.credit_pct))
            for tier in sorted(t.tiers, key=lambda tier: tier.below_pct, reverse=True))))
    if t.sla_cap_pct is not None:
        out.append((text("c_cap", language), text("w_cap", language, cap=_number(t.sla_cap_pct))))
    if t.term_months:
        renew = (text("w_renew", language, months=t.renewal_months, notice=t.notice_days)
                 if t.auto_renew and t.renewal_months else "")
        out.append((text("c_term", language), text("w_term", language, months=t.term_months,
                                                    start=day_text(t.term_start), renew=renew)))
    return out
