"""An SLA-credit claim: an outage month below the contract's availability target, for finance to claim."""

from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from linewatch.choices import AuditRule, SlaClaimState
from web.audit.models import ChangeLoggedModel
from web.faults.labels import fault_choices

_PCT = {"max_digits": 7, "decimal_places": 4}


class SlaClaim(ChangeLoggedModel):
    """One per line and month; recomputed when another outage ticket of that month resolves.

    The billing audit's finding of the same month is ``(rule sla_credit_owed, line, period)``: :attr:`finding_rule`
    with :attr:`line` and :attr:`period` name it.
    """

    finding_rule = AuditRule.SLA_CREDIT_OWED

    line = models.ForeignKey("inventory.Line", verbose_name=_("line"), on_delete=models.CASCADE,
                             related_name="sla_claims")
    period = models.CharField(_("month"), max_length=7, help_text=_("YYYY-MM, the billing period"))
    availability_pct = models.DecimalField(_("availability (%)"), **_PCT)
    target_pct = models.DecimalField(_("SLA target (%)"), **_PCT)
    credit_pct = models.DecimalField(_("credit (percent of the MRC)"), **_PCT)
    amount = models.DecimalField(_("credit amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    outage_s = models.PositiveIntegerField(_("outage (s)"), help_text=_("outage tickets' time in the month"))
    state = models.CharField(_("state"), max_length=16, choices=fault_choices(SlaClaimState), default=SlaClaimState.OPEN)
    tickets = models.ManyToManyField("faults.Ticket", verbose_name=_("tickets"), related_name="sla_claims")
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ("-period", "line")
        verbose_name = _("SLA-credit claim")
        verbose_name_plural = _("SLA-credit claims")
        constraints = (models.UniqueConstraint(fields=("line", "period"), name="sla_claim_one_per_line_month"),)

    def __str__(self) -> str:
        return f"{self.line} {self.period}"

    def get_absolute_url(self) -> str:
        return reverse("faults:claim_list") + f"#claim-{self.pk}"
