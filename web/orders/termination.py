"""A termination's terms from the line's contract: the billing ETL's own rule (``billing_etl.termination``,
contracts §3) on the web contract taken as contracts.yaml's model, stored on the order as JSON."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from billing_etl import config as billing
from web.inventory.models import Contract, Line


def compute_terms(line: Line, *, notice_date: dt.date, requested_date: dt.date) -> dict[str, Any]:
    """``earliest_free_date``, ``term_end``, ``notice_deadline``, ``early``, ``fee``, ``months_remaining``,
    ``currency``, ``explanation`` (JSON-ready); without a contract, the line is free to go at any date."""
    from billing_etl.termination import termination_terms

    contract = Contract.objects.filter(line=line).select_related("line__carrier").first()
    if contract is None:
        return {"earliest_free_date": notice_date.isoformat(), "term_end": None, "notice_deadline": None,
                "early": False, "fee": "0", "months_remaining": "0", "currency": line.carrier.currency,
                "explanation": "no contract recorded: no notice period and no fee"}
    try:
        model = billing.Contract.model_validate(contract.as_config())
    except ValueError as exc:
        raise ValidationError({"requested_date": [_("the contract of %(line)s is not valid: %(error)s") % {
            "line": line, "error": exc}]}) from None
    terms = termination_terms(model, notice_date=notice_date, requested_date=requested_date)
    currency = terms.currency or contract.currency or line.carrier.currency
    return {
        "earliest_free_date": terms.earliest_free_date.isoformat(),
        "term_end": terms.term_end.isoformat() if terms.term_end else None,
        "notice_deadline": terms.notice_deadline.isoformat() if terms.notice_deadline else None,
        "early": bool(terms.early), "fee": str(terms.fee), "months_remaining": str(terms.months_remaining),
        "currency": currency, "explanation": terms.explanation,
    }
