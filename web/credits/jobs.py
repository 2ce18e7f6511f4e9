"""The credits' worker job (``linewatch_jobs`` of :class:`web.credits.apps.CreditsConfig`, every 300 s; H1's audit
calls it too after a sync): :func:`propose_matches` proposes the new credit rows of the invoices for the open
disputes of their carrier and currency. Idempotent: a pair is proposed once, a rejected pair never again."""

from __future__ import annotations

from web.credits import services
from web.credits.models import CreditMatch


def propose_matches() -> list[CreditMatch]:
    """Credit and adjustment rows not yet matched × disputes sent or answered (web/credits/services.py)."""
    return services.propose_matches()
