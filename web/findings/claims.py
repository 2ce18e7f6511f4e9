"""The SLA-credit claim of web/faults and the audit's finding of the same month: both name ``(rule
sla_credit_owed, line, period)`` (``SlaClaim.finding_rule``), so each finds the other without a link of its own."""

from __future__ import annotations

from typing import Any

from linewatch.choices import AuditRule
from web.findings.models import Finding


def finding_of(claim: Any) -> Finding | None:
    """The audit's finding of ``claim`` (a faults SlaClaim): its rule, line and period; None before the audit."""
    return (Finding.objects.filter(rule=claim.finding_rule, line_id=claim.line_id, period=claim.period)
            .order_by("-present", "pk").first())


def claim_of(finding: Finding) -> Any:
    """The SLA-credit claim of an ``sla_credit_owed`` finding (None for other rules, or when there is none)."""
    from web.faults.models import SlaClaim

    if finding.rule != AuditRule.SLA_CREDIT_OWED or finding.line_id is None:
        return None
    return SlaClaim.objects.filter(line_id=finding.line_id, period=finding.period).first()
