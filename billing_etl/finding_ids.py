"""Stable ids of audit findings: the same finding of the same period gets the same key on every re-run.

The key hashes what *identifies* a finding — period, rule, carrier, invoice, line, circuit and the charge row
it is about — never the amount at stake or the reason text, which change when usage is re-measured or a
contract is corrected. The web application (``web/findings``) upserts findings by this key, so their
triage state (accepted, disputed, …) survives re-runs. See docs/billing.md ("Finding ids").
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from billing_etl.model import InvoiceLine, Period

if TYPE_CHECKING:  # audit.py imports charge_key from here
    from billing_etl.audit import Finding

KEY_VERSION = "v1"
CHARGE_KEY_HEX = 16
FINDING_KEY_HEX = 24


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def charge_key(row: InvoiceLine) -> str:
    """The first 16 hex digits of the sha256 of the row's content (``InvoiceLine.canonical``, without the
    file and row number it came from): the same charge re-imported from another file keeps its key."""
    return _sha256_hex(json.dumps(row.canonical(), sort_keys=True))[:CHARGE_KEY_HEX]


def itemized_call_key(record_key: str) -> str:
    """The ``charge_key`` of a finding about one itemized call (billing_etl.itemized): 16 hex digits of the sha256
    of the record's own key (the reader's call_key: the carrier's call reference, else the row's content), so each
    disputed call of an invoice is its own finding, stable across re-runs and re-sent files."""
    return _sha256_hex(f"itemized-call|{record_key}")[:CHARGE_KEY_HEX]


def finding_key(finding: Finding, period: Period | str) -> str:
    """24 lowercase hex digits identifying ``finding`` in ``period``, independent of its amounts and reason."""
    parts = (
        KEY_VERSION,
        str(period),
        finding.rule.value,
        finding.carrier,
        finding.invoice_number,
        finding.line,
        finding.circuit_id,
        finding.charge_key,
    )
    return _sha256_hex("|".join(parts))[:FINDING_KEY_HEX]
