"""Credit matches: a credit or adjustment row of an invoice proposed as the answer to an open dispute
(web/credits/matching.py scores it), then confirmed by finance (the dispute resolved with the recovered amount,
:func:`web.findings.services.resolve_dispute`) or rejected.

The state is a django-fsm ``FSMField(protected=True)``: nothing writes it but the transitions, which only
:mod:`web.credits.services` calls (with the permission check, the decision and the dispute's resolution).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from linewatch.choices import CreditMatchState
from web.audit.models import ChangeLoggedModel
from web.credits.labels import choices_of
from web.findings.models import Dispute
from web.invoices.models import InvoiceRow

PROPOSED, CONFIRMED, REJECTED = (s.value for s in CreditMatchState)


class CreditMatch(ConcurrentTransitionMixin, ChangeLoggedModel):
    credit_row = models.ForeignKey(InvoiceRow, verbose_name=_("credit row"), on_delete=models.CASCADE,
                                   related_name="credit_matches")
    dispute = models.ForeignKey(Dispute, verbose_name=_("dispute"), on_delete=models.CASCADE,
                                related_name="credit_matches")
    score = models.PositiveSmallIntegerField(_("score"), help_text=_("0-100: how surely the row answers the dispute"))
    reasons = models.JSONField(_("reasons"), default=list, blank=True,
                               help_text=_("the signals that matched: circuit, amount, reference, period"))
    state = FSMField(_("state"), max_length=16, choices=choices_of(CreditMatchState), default=PROPOSED,
                     protected=True)
    manual = models.BooleanField(_("linked by hand"), default=False)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("decided by"), on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    decided_by_name = models.CharField(_("decided by"), max_length=150, blank=True,
                                       help_text=_("linewatch: withdrawn by the worker"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    recovered_amount = models.DecimalField(_("recovered"), max_digits=14, decimal_places=4, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ("-score", "-pk")
        verbose_name = _("credit match")
        verbose_name_plural = _("credit matches")
        constraints = (models.UniqueConstraint(fields=("credit_row", "dispute"), name="creditmatch_unique_pair"),)

    def __str__(self) -> str:
        return f"{self.credit_row} → {self.dispute.reference}"

    def get_absolute_url(self) -> str:
        return reverse("credits:match_detail", args=[self.pk])

    @property
    def state_enum(self) -> CreditMatchState:
        return CreditMatchState(self.state)

    @transition(field=state, source=PROPOSED, target=CONFIRMED)
    def confirm(self) -> None:
        """Moves the state only: web.credits.services.confirm() does the rest."""

    @transition(field=state, source=PROPOSED, target=REJECTED)
    def reject(self) -> None:
        """Moves the state only: web.credits.services.reject() does the rest."""

    @transition(field=state, source=REJECTED, target=PROPOSED)
    def reconsider(self) -> None:
        """A rejected pair linked by hand after all (web.credits.services.link)."""
