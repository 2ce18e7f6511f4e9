"""Findings of the invoice audit with their stable ids, the suppression rules that accept known exceptions, and
the disputes with carriers (each with an append-only timeline).

States are django-fsm ``FSMField(protected=True)``: nothing writes them but the transitions made from
:mod:`web.findings.workflow`, which only :mod:`web.findings.services` calls (role check, side effects, events).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField

from linewatch.choices import (
    AuditRule,
    DisputeEventKind,
    DisputeOutcome,
    DisputeState,
    FindingState,
    Language,
)
from web.audit.models import ChangeLoggedModel
from web.findings.labels import choices_of
from web.findings.workflow import Machine, Move, moves_of
from web.inventory.models import Carrier, Line
from web.workflow import AppendOnlyHistory, fsm_move

MONEY = {"max_digits": 14, "decimal_places": 4}
ZERO = Decimal(0)


def _fsm_move(field: FSMField, move: Move) -> Callable[..., None]:
    return fsm_move(field, move.name, sources=move.sources, target=move.target,
                    doc="Moves the state only: web.findings.services does the rest.")


class SuppressionRule(ChangeLoggedModel):
    """A known exception finance accepts: a finding first seen while the rule runs (``expires_on`` included) and
    matching it is recorded ``accepted`` with the rule's reason. Blank criteria match everything; a rule never
    changes a finding recorded before (triaged by a person or not)."""

    rule = models.CharField(_("rule"), max_length=32, choices=choices_of(AuditRule))
    carrier = models.ForeignKey(Carrier, verbose_name=_("carrier"), on_delete=models.CASCADE, null=True, blank=True,
                                related_name="suppression_rules")
    line = models.ForeignKey(Line, verbose_name=_("line"), on_delete=models.CASCADE, null=True, blank=True,
                             related_name="suppression_rules")
    circuit_id = models.CharField(_("circuit id"), max_length=128, blank=True)
    max_amount = models.DecimalField(_("up to amount"), **MONEY, null=True, blank=True,
                                     help_text=_("only findings whose amount at stake is at most this"))
    currency = models.CharField(_("currency"), max_length=3, blank=True,
                                help_text=_("ISO 4217 code of the amount (required with an amount)"))
    reason = models.TextField(_("reason"), help_text=_("why these findings are right (shown on each)"))
    expires_on = models.DateField(_("expires on"), help_text=_("the last day the rule applies"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="+")
    created_by_name = models.CharField(_("created by"), max_length=150, blank=True, editable=False)

    class Meta:
        ordering = ("-expires_on", "pk")
        verbose_name = _("suppression rule")
        verbose_name_plural = _("suppression rules")

    def __str__(self) -> str:
        return f"S-{self.pk} {self.get_rule_display()}"

    def get_absolute_url(self) -> str:
        return reverse("findings:suppression_list") + f"#rule-{self.pk}"  # everyone reads the list

    def clean(self) -> None:
        errors: dict[str, list[Any]] = {}
        if not (self.reason or "").strip():
            errors["reason"] = [_("say why the findings are right")]
        if self.max_amount is not None and not self.currency:
            errors["currency"] = [_("give the currency of the amount")]
        if self.line_id and self.carrier_id and self.line.carrier_id != self.carrier_id:
            errors["line"] = [_("the line is not the carrier's")]
        if errors:
            raise ValidationError(errors)

    def active_on(self, day: dt.date) -> bool:
        return day <= self.expires_on

    def matches(self, finding: Finding) -> bool:
        """Whether ``finding`` (saved or not) is one this rule accepts (its expiry aside: :meth:`active_on`)."""
        if finding.rule != self.rule:
            return False
        if self.carrier_id and finding.carrier_id != self.carrier_id:
            return False
        if self.line_id and finding.line_id != self.line_id:
            return False
        if self.circuit_id and finding.circuit_id != self.circuit_id:
            return False
        if self.max_amount is not None:
            return finding.currency == self.currency and finding.amount_at_stake <= self.max_amount
        return True


class Dispute(ConcurrentTransitionMixin, ChangeLoggedModel):
    """A claim to one carrier about one or several findings of one currency, with its evidence pack."""

    carrier = models.ForeignKey(Carrier, verbose_name=_("carrier"), on_delete=models.PROTECT, related_name="disputes")
    state = FSMField(_("state"), max_length=16, choices=choices_of(DisputeState), default=DisputeState.DRAFT.value,
                     protected=True)
    for _move in moves_of(Machine.DISPUTE):
        vars()[_move.name] = _fsm_move(state, _move)
    del _move
    outcome = models.CharField(_("outcome"), max_length=32, choices=choices_of(DisputeOutcome), blank=True)
    claimed_amount = models.DecimalField(_("claimed"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    recovered_amount = models.DecimalField(_("recovered"), **MONEY, default=ZERO)
    language = models.CharField(_("language"), max_length=2, choices=[(x.value, x.value) for x in Language],
                                default=Language.EN.value, help_text=_("of the mail and the evidence pack"))
    carrier_reference = models.CharField(_("carrier's reference"), max_length=128, blank=True)
    carrier_answer = models.TextField(_("carrier's answer"), blank=True)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("opened by"), on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+")
    opened_by_name = models.CharField(_("opened by"), max_length=150, blank=True, editable=False)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    period = models.CharField(_("period"), max_length=7, help_text=_("YYYY-MM of its earliest finding"))
    evidence_pdf_name = models.CharField(_("evidence (PDF)"), max_length=200, blank=True)
    evidence_xlsx_name = models.CharField(_("evidence (XLSX)"), max_length=200, blank=True)

    class Meta:
        ordering = ("-pk",)
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")

    def __str__(self) -> str:
        return f"{self.reference} {self.carrier}"

    def get_absolute_url(self) -> str:
        return reverse("findings:dispute_detail", args=[self.pk])

    @property
    def reference(self) -> str:
        """What the mail's subject and the carrier's credit note quote."""
        return f"DSP-{self.pk}"

    @property
    def state_enum(self) -> DisputeState:
        return DisputeState(self.state)

    @property
    def pending_amount(self) -> Decimal:
        """Claimed and not (yet) recovered; zero once resolved."""
        return ZERO if self.state == DisputeState.RESOLVED else self.claimed_amount - self.recovered_amount


class Finding(ConcurrentTransitionMixin, ChangeLoggedModel):
    """One audit finding, upserted by its stable key (billing_etl.finding_ids) on every audit of its period."""

    key = models.CharField(_("key"), max_length=24, unique=True, editable=False)
    period = models.CharField(_("period"), max_length=7, db_index=True, help_text=_("YYYY-MM"))
    rule = models.CharField(_("rule"), max_length=32, choices=choices_of(AuditRule))
    carrier = models.ForeignKey(Carrier, verbose_name=_("carrier"), on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="findings")
    carrier_name = models.CharField(_("carrier"), max_length=128, blank=True)
    invoice = models.ForeignKey("invoices.Invoice", verbose_name=_("invoice"), on_delete=models.SET_NULL, null=True,
                                blank=True, related_name="findings")
    invoice_number = models.CharField(_("invoice number"), max_length=64, blank=True)
    line = models.ForeignKey(Line, verbose_name=_("line"), on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="findings")
    line_name = models.CharField(_("line id"), max_length=128, blank=True, help_text=_("as the audit named it"))
    circuit_id = models.CharField(_("circuit id"), max_length=128, blank=True)
    charge_key = models.CharField(_("charge key"), max_length=16, blank=True,
                                  help_text=_("the invoice row it is about (blank: the invoice or the line)"))
    amount_at_stake = models.DecimalField(_("amount at stake"), **MONEY,
                                          help_text=_("positive: billed too much; negative: billed too little"))
    recoverable = models.DecimalField(_("recoverable"), **MONEY, help_text=_("what a dispute can claim back"))
    currency = models.CharField(_("currency"), max_length=3, blank=True)
    reason = models.TextField(_("reason"))
    department = models.CharField(_("department"), max_length=128, blank=True)
    source = models.CharField(_("source"), max_length=255, blank=True, help_text=_("file:row of the charge"))
    state = FSMField(_("state"), max_length=16, choices=choices_of(FindingState), default=FindingState.NEW.value,
                     protected=True)
    for _move in moves_of(Machine.FINDING):
        vars()[_move.name] = _fsm_move(state, _move)
    del _move
    state_reason = models.TextField(_("why accepted"), blank=True,
                                    help_text=_("the person's reason, or the suppression rule's"))
    suppressed_by = models.ForeignKey(SuppressionRule, verbose_name=_("suppressed by"), on_delete=models.SET_NULL,
                                      null=True, blank=True, related_name="findings")
    dispute = models.ForeignKey(Dispute, verbose_name=_("dispute"), on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="findings")
    present = models.BooleanField(_("in the latest audit"), default=True)
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)

    class Meta:
        ordering = ("-period", "rule", "pk")
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        indexes = (models.Index(fields=("rule", "line", "period"), name="finding_rule_line_period"),)

    def __str__(self) -> str:
        return f"{self.display_id} {self.get_rule_display()}"

    def get_absolute_url(self) -> str:
        return reverse("findings:finding_detail", args=[self.pk])

    @property
    def display_id(self) -> str:
        return f"F-{self.pk}"

    @property
    def state_enum(self) -> FindingState:
        return FindingState(self.state)

    @property
    def subject(self) -> str:
        """The line, else the circuit, else the invoice: what the finding is about, in one word."""
        return self.line_name or self.circuit_id or self.invoice_number


class DisputeEvent(AppendOnlyHistory, ChangeLoggedModel):
    """A dispute's history, append-only: opened, sent, answered, reminded, resolved."""

    dispute = models.ForeignKey(Dispute, verbose_name=_("dispute"), on_delete=models.CASCADE, related_name="events")
    time = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=choices_of(DisputeEventKind))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL, null=True,
                              blank=True, related_name="+")
    actor_name = models.CharField(_("by"), max_length=150, help_text=_("linewatch: the worker"))
    transition = models.CharField(_("transition"), max_length=32, blank=True)
    source = models.CharField(_("from"), max_length=16, blank=True, choices=choices_of(DisputeState))
    target = models.CharField(_("to"), max_length=16, blank=True, choices=choices_of(DisputeState))
    text = models.TextField(_("text"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        ordering = ("time", "pk")
        verbose_name = _("dispute event")
        verbose_name_plural = _("dispute events")

    history_of = "a dispute's"

    def __str__(self) -> str:
        return f"{self.dispute.reference} {self.kind} {self.target}".strip()
