"""Orders: a new line, a change or a termination, each a workflow (web/orders/workflow.py) with steps, an
append-only history of events and comments, an equipment-recovery checklist and attachments.

The state is a django-fsm ``FSMField(protected=True)``: nothing writes it but the transitions, which only
:mod:`web.orders.services` calls (with the role check, the side effects on the line and the event row).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField

from linewatch.choices import ChangeKind, LineType, OrderEventKind, OrderKind, OrderState
from web.audit.models import ChangeLoggedModel
from web.inventory.models import Carrier, Department, Device, Line, Site
from web.labels import choices_of as inventory_choices
from web.orders.labels import choices_of
from web.orders.workflow import MOVES, Move
from web.workflow import AppendOnlyHistory, fsm_move

_MONEY = {"max_digits": 16, "decimal_places": 4, "null": True, "blank": True}


def _kind_in(kinds: tuple[OrderKind, ...]) -> Callable[[Any], bool]:
    def condition(order: Order) -> bool:
        return order.kind in kinds

    return condition


def _fsm_move(field: FSMField, move: Move) -> Callable[..., None]:
    return fsm_move(field, move.name, sources=move.sources, target=move.target, conditions=[_kind_in(move.kinds)],
                    doc="Moves the state only: web.orders.services.transition() does the rest.")


class Order(ConcurrentTransitionMixin, ChangeLoggedModel):
    kind = models.CharField(_("kind"), max_length=16, choices=choices_of(OrderKind))
    state = FSMField(_("state"), max_length=32, choices=choices_of(OrderState), default=OrderState.REQUESTED.value,
                     protected=True)
    # One django-fsm transition per move of web/orders/workflow.py (the one table of the state machines).
    for _move in MOVES:
        vars()[_move.name] = _fsm_move(state, _move)
    del _move

    line = models.ForeignKey(Line, verbose_name=_("line"), on_delete=models.PROTECT, null=True, blank=True,
                             related_name="orders", help_text=_("a new line's is created at the approval"))
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("requester"), on_delete=models.SET_NULL,
                                  null=True, blank=True, related_name="+")
    requester_name = models.CharField(_("requester"), max_length=150, editable=False)
    department = models.ForeignKey(Department, verbose_name=_("department"), on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+")
    justification = models.TextField(_("justification"), blank=True)
    budget_amount = models.DecimalField(_("budget"), **_MONEY)
    currency = models.CharField(_("currency"), max_length=3, blank=True, help_text=_("ISO 4217 code"))

    # New line (the request, the carrier order, the installation) and change (the new values).
    line_name = models.CharField(_("line id"), max_length=128, blank=True,
                                 help_text=_("the id the new line gets, e.g. PAR-INET-2"))
    line_type = models.CharField(_("line type"), max_length=32, choices=inventory_choices(LineType), blank=True)
    site = models.ForeignKey(Site, verbose_name=_("site"), on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+", help_text=_("a change: the new site (a move)"))
    capacity_bps = models.PositiveBigIntegerField(_("capacity (bit/s)"), null=True, blank=True,
                                                  help_text=_("a change: the new capacity"))
    carrier = models.ForeignKey(Carrier, verbose_name=_("carrier"), on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", help_text=_("a change: the new carrier"))
    circuit_id = models.CharField(_("circuit id"), max_length=128, blank=True)
    quote_amount = models.DecimalField(_("quote (monthly)"), **_MONEY)
    carrier_order_ref = models.CharField(_("carrier order reference"), max_length=128, blank=True)
    promised_date = models.DateField(_("promised install date"), null=True, blank=True)
    device = models.ForeignKey(Device, verbose_name=_("device"), on_delete=models.PROTECT, null=True, blank=True,
                               related_name="+")
    interface = models.CharField(_("interface"), max_length=128, blank=True)
    acceptance_started_at = models.DateTimeField(_("acceptance started"), null=True, blank=True)
    acceptance = models.JSONField(_("acceptance result"), null=True, blank=True,
                                  help_text=_("passed, figures, failures of the last evaluation"))

    # Change.
    change_kind = models.CharField(_("change"), max_length=16, choices=choices_of(ChangeKind), blank=True)
    effective_at = models.DateTimeField(_("effective"), null=True, blank=True)
    mrc = models.DecimalField(_("new monthly recurring charge"), **_MONEY)
    commit_bps = models.PositiveBigIntegerField(_("new commit (bit/s)"), null=True, blank=True)
    price_per_mbps = models.DecimalField(_("new price per Mbit/s"), **_MONEY)
    included_gb = models.DecimalField(_("new included GB"), **_MONEY)
    price_per_gb = models.DecimalField(_("new price per GB"), **_MONEY)
    old_capacity_bps = models.PositiveBigIntegerField(_("capacity before (bit/s)"), null=True, blank=True,
                                                      editable=False)
    verification = models.JSONField(_("verification result"), null=True, blank=True)

    # Termination.
    requested_date = models.DateField(_("termination date"), null=True, blank=True)
    notice_date = models.DateField(_("notice date"), null=True, blank=True)
    terms = models.JSONField(_("termination terms"), null=True, blank=True,
                             help_text=_("earliest free date, fee, explanation (computed from the contract)"))
    fee_acknowledged = models.BooleanField(_("early-termination fee acknowledged"), default=False)
    carrier_confirmation_ref = models.CharField(_("carrier confirmation"), max_length=128, blank=True)
    carrier_confirmed_on = models.DateField(_("confirmed on"), null=True, blank=True)
    completion_notice_sent_at = models.DateTimeField(_("completion notice sent"), null=True, blank=True)

    class Meta:
        ordering = ("-pk",)
        verbose_name = _("order")
        verbose_name_plural = _("orders")

    def __str__(self) -> str:
        subject = self.line.name if self.line_id else self.line_name
        return f"#{self.pk} {self.get_kind_display()} {subject}".strip()

    def get_absolute_url(self) -> str:
        return reverse("orders:order_detail", args=[self.pk])

    @property
    def kind_enum(self) -> OrderKind:
        return OrderKind(self.kind)

    @property
    def state_enum(self) -> OrderState:
        return OrderState(self.state)


class OrderStep(ChangeLoggedModel):
    """One stage of an order: who does it, by when, and when it was done."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(_("position"))
    stage = models.CharField(_("stage"), max_length=32, choices=choices_of(OrderState),
                             help_text=_("the state the step reaches"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assignee"), on_delete=models.SET_NULL,
                                 null=True, blank=True, related_name="order_steps")
    due_date = models.DateField(_("due date"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by_name = models.CharField(_("done by"), max_length=150, blank=True)

    class Meta:
        ordering = ("order", "position")
        verbose_name = _("order step")
        verbose_name_plural = _("order steps")
        constraints = (models.UniqueConstraint(fields=("order", "stage"), name="orderstep_unique_stage"),)

    def __str__(self) -> str:
        return f"{self.order}: {self.get_stage_display()}"

    @property
    def overdue(self) -> bool:
        return self.done_at is None and self.due_date is not None and self.due_date < timezone.localdate()


class OrderEvent(AppendOnlyHistory, ChangeLoggedModel):
    """The order's history, append-only: state changes, comments, assignments, acceptance and verification."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="events")
    time = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=choices_of(OrderEventKind))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.SET_NULL,
                              null=True, blank=True, related_name="+")
    actor_name = models.CharField(_("by"), max_length=150, help_text=_("linewatch: the worker"))
    transition = models.CharField(_("transition"), max_length=32, blank=True)
    source = models.CharField(_("from"), max_length=32, blank=True, choices=choices_of(OrderState))
    target = models.CharField(_("to"), max_length=32, blank=True, choices=choices_of(OrderState))
    text = models.TextField(_("text"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    class Meta:
        ordering = ("time", "pk")
        verbose_name = _("order event")
        verbose_name_plural = _("order events")

    history_of = "an order's"

    def __str__(self) -> str:
        return f"{self.order} {self.kind} {self.target or ''}".strip()


class RecoveryItem(ChangeLoggedModel):
    """One item of a termination's equipment-recovery checklist (a router, a CPE, a patch at the site)."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE,
                              related_name="recovery_items")
    name = models.CharField(_("item"), max_length=200)
    done = models.BooleanField(_("done"), default=False)
    done_by_name = models.CharField(_("done by"), max_length=150, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        ordering = ("order", "pk")
        verbose_name = _("recovery item")
        verbose_name_plural = _("recovery items")

    def __str__(self) -> str:
        return self.name


class OrderAttachment(ChangeLoggedModel):
    """A file attached to an order (a quote, the carrier's confirmation), checked and stored as the inventory's
    documents are (web/inventory/documents.py: the type from the content, the size limit, the private store)."""

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="attachments")
    title = models.CharField(_("title"), max_length=200, blank=True)
    file_name = models.CharField(_("file name"), max_length=255, editable=False)
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"), editable=False)
    sha256 = models.CharField(_("SHA-256"), max_length=64, editable=False)
    content_type = models.CharField(_("content type"), max_length=128, editable=False)
    storage_name = models.CharField(_("stored as"), max_length=64, unique=True, editable=False)
    uploaded_by_name = models.CharField(_("uploaded by"), max_length=150, editable=False)
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ("-uploaded_at", "-pk")
        verbose_name = _("order attachment")
        verbose_name_plural = _("order attachments")

    def __str__(self) -> str:
        return self.title or self.file_name
