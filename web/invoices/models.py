"""Invoices: the application's mirror of the billing ETL's invoice store (web/invoices/sync.py), each with its
rows and its way to payment (received → audited → approved → scheduled → paid, web/invoices/workflow.py).

The state is a django-fsm ``FSMField(protected=True)``: nothing writes it but the transitions, which only
:mod:`web.invoices.services` calls (with the role check and the event row). Money is ``Decimal`` with its currency
beside it (contracts: 14 digits, 4 places, rounded to the currency's minor unit).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField

from linewatch.choices import ChargeType, InvoiceState
from web.audit.models import ChangeLoggedModel
from web.inventory.models import Carrier, Line
from web.invoices.labels import choices_of
from web.invoices.workflow import MOVES, UNPAID, Move
from web.workflow import AppendOnly, AppendOnlyHistory, fsm_move  # noqa: F401  (AppendOnly re-exported)


def money_field(verbose_name: Any, **kwargs: Any) -> models.DecimalField:
    return models.DecimalField(verbose_name, max_digits=14, decimal_places=4, **kwargs)


def _fsm_move(field: FSMField, move: Move) -> Callable[..., None]:
    return fsm_move(field, move.name, sources=[s.value for s in move.sources], target=move.target.value,
                    doc="Moves the state only: web.invoices.services does the rest.")


class Invoice(ConcurrentTransitionMixin, ChangeLoggedModel):
    carrier = models.ForeignKey(Carrier, verbose_name=_("carrier"), on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField(_("invoice number"), max_length=64)
    billing_account = models.CharField(_("billing account"), max_length=64, blank=True)
    invoice_date = models.DateField(_("invoice date"))
    due_date = models.DateField(_("due date"))
    currency = models.CharField(_("currency"), max_length=3)
    total = money_field(_("total"), help_text=_("the sum of the rows"))
    stated_total = money_field(_("stated total"), null=True, blank=True,
                               help_text=_("the total the carrier printed, when the file gives one"))
    period = models.CharField(_("period"), max_length=7, db_index=True,
                              help_text=_("the billing month (YYYY-MM) most of its rows' service periods fall in"))
    content_hash = models.CharField(_("content hash"), max_length=64, editable=False)
    source_file = models.CharField(_("source file"), max_length=500, blank=True)
    state = FSMField(_("state"), max_length=16, choices=choices_of(InvoiceState),
                     default=InvoiceState.RECEIVED.value, protected=True)
    for _move in MOVES:
        vars()[_move.name] = _fsm_move(state, _move)
    del _move

    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approved by"),
                                    on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    withhold_disputed = models.BooleanField(_("disputed amounts withheld"), default=False)
    withheld_amount = money_field(_("withheld"), default=Decimal(0))
    amount_to_pay = money_field(_("amount to pay"), null=True, blank=True)
    payment_date = models.DateField(_("payment date"), null=True, blank=True,
                                    help_text=_("the scheduled payment, on or before the due date"))
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=128, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)

    class Meta:
        ordering = ("due_date", "carrier__name", "number")
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = (models.UniqueConstraint(fields=("carrier", "number"), name="invoice_unique_number"),)
        permissions = (("approve_invoice", _("Can approve an invoice for payment")),
                       ("pay_invoice", _("Can schedule and record an invoice's payment")))

    def __str__(self) -> str:
        return f"{self.carrier.name} {self.number}"

    def get_absolute_url(self) -> str:
        return reverse("invoices:invoice_detail", args=[self.pk])

    @property
    def state_enum(self) -> InvoiceState:
        return InvoiceState(self.state)

    @property
    def overdue(self) -> bool:
        """Unpaid and its due date is past (in the application's time zone)."""
        return self.state in UNPAID and self.due_date < timezone.localdate()

    @property
    def payable_amount(self) -> Decimal:
        """What the AP export pays: the approved amount, else the whole total."""
        return self.total if self.amount_to_pay is None else self.amount_to_pay


class InvoiceRow(ChangeLoggedModel):
    """One row of the carrier's invoice as the ETL normalized it (credits and adjustments: negative amounts as the
    carrier states them)."""

    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, related_name="rows")
    idx = models.PositiveIntegerField(_("row"))
    circuit_id = models.CharField(_("circuit id"), max_length=128, blank=True)
    line = models.ForeignKey(Line, verbose_name=_("line"), on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="invoice_rows")
    charge_type = models.CharField(_("charge type"), max_length=32, choices=choices_of(ChargeType))
    period_start = models.DateField(_("service from"), null=True, blank=True)
    period_end = models.DateField(_("service to"), null=True, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=20, decimal_places=6, null=True, blank=True)
    unit_price = models.DecimalField(_("unit price"), max_digits=20, decimal_places=6, null=True, blank=True)
    amount = money_field(_("amount"))
    currency = models.CharField(_("currency"), max_length=3)
    description = models.TextField(_("description"), blank=True)
    source_file = models.CharField(_("source file"), max_length=500, blank=True)
    source_row = models.PositiveIntegerField(_("source row"), default=0)
    charge_key = models.CharField(_("charge key"), max_length=16, blank=True, db_index=True,
                                  help_text=_("the row's stable id in the audit's findings"))

    class Meta:
        ordering = ("invoice", "idx")
        verbose_name = _("invoice row")
        verbose_name_plural = _("invoice rows")
        constraints = (models.UniqueConstraint(fields=("invoice", "idx"), name="invoicerow_unique_idx"),)

    def __str__(self) -> str:
        return f"{self.invoice} #{self.idx}"


class InvoiceEvent(AppendOnlyHistory, ChangeLoggedModel):
    """The invoice's history, append-only: received, re-synced, audited, approved (with or without withholding),
    scheduled, paid."""

    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE,
                                related_name="events")
    time = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL,
                              null=True, blank=True, related_name="+")
    actor_name = models.CharField(_("by"), max_length=150, help_text=_("linewatch: the worker"))
    transition = models.CharField(_("transition"), max_length=32, blank=True,
                                  help_text=_("the move; empty for the import and a re-sync"))
    source = models.CharField(_("from"), max_length=16, blank=True, choices=choices_of(InvoiceState))
    target = models.CharField(_("to"), max_length=16, blank=True, choices=choices_of(InvoiceState))
    text = models.TextField(_("text"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        ordering = ("time", "pk")
        verbose_name = _("invoice event")
        verbose_name_plural = _("invoice events")

    history_of = "an invoice's"

    def __str__(self) -> str:
        return f"{self.invoice} {self.transition or 'sync'} {self.target}".strip()
