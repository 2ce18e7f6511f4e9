"""A fault ticket (brief §6: identify → report → technical response → prevention) and its timeline.

The state changes only through the service functions of :mod:`web.faults.services`, which check the role
(docs/faults.md "Who may do what"), write a :class:`TicketEvent` and enqueue the carrier's mail in one
transaction. The django-fsm transitions below are the single table of which state may follow which.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from linewatch.choices import FaultCause, FaultKind, TicketEventKind, TicketState
from web.audit.models import ChangeLoggedModel
from web.faults.labels import fault_choices
from web.labels import label

ACTIVE_STATES = tuple(s.value for s in TicketState if s.active)


class TicketQuerySet(models.QuerySet):
    def active(self) -> TicketQuerySet:
        return self.filter(state__in=ACTIVE_STATES)

    def open_first(self) -> TicketQuerySet:
        """Active tickets first (newest first within each group)."""
        return self.annotate(is_done=models.Case(
            models.When(state__in=ACTIVE_STATES, then=models.Value(0)), default=models.Value(1),
            output_field=models.IntegerField())).order_by("is_done", "-opened_at", "-pk")


class Ticket(ChangeLoggedModel):
    line = models.ForeignKey("inventory.Line", verbose_name=_("line"), on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="tickets")
    carrier = models.ForeignKey("inventory.Carrier", verbose_name=_("carrier"), on_delete=models.SET_NULL,
                                null=True, blank=True, related_name="tickets", help_text=_("the line's carrier"))
    site = models.ForeignKey("inventory.Site", verbose_name=_("site"), on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="tickets")
    kind = models.CharField(_("type"), max_length=32, choices=fault_choices(FaultKind))
    location = models.CharField(_("location"), max_length=200, blank=True,
                                help_text=_("where the fault is: building, floor, room"))
    affected_service = models.CharField(_("affected service"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reporter"), on_delete=models.SET_NULL,
                                 null=True, blank=True, related_name="reported_tickets",
                                 help_text=_("empty: opened by an alert"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("assignee"), on_delete=models.SET_NULL,
                                 null=True, blank=True, related_name="assigned_tickets")
    state = FSMField(_("state"), max_length=32, choices=fault_choices(TicketState), default=TicketState.OPEN)
    opened_at = models.DateTimeField(_("opened at"), default=timezone.now, db_index=True,
                                     help_text=_("the alert's start when opened by an alert"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True,
                                       help_text=_("the alert's resolution time when the alert resolved it"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    cause = models.CharField(_("cause"), max_length=32, choices=fault_choices(FaultCause), blank=True)
    review_note = models.TextField(_("post-incident review"), blank=True)
    outage = models.BooleanField(_("outage"), default=False, help_text=_("the service was down"))
    alert_rule = models.CharField(_("alert rule"), max_length=128, blank=True)
    alert_key = models.CharField(_("alert"), max_length=300, blank=True,
                                 help_text=_("the alert that opened the ticket (rule/subject)"))
    alert_group_key = models.CharField(_("alert group"), max_length=300, blank=True)
    carrier_ticket_ref = models.CharField(_("carrier ticket number"), max_length=128, blank=True)
    carrier_notified_at = models.DateTimeField(_("carrier notified at"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(
        _("escalation level"), default=0, help_text=_("0: carrier not yet mailed; 1: its NOC; 2 on: escalations"))
    last_activity_at = models.DateTimeField(_("last update"), default=timezone.now,
                                            help_text=_("the escalation clock starts again here"))

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ("-opened_at", "-pk")
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        permissions = (("close_ticket", "Can close a resolved ticket after its review"),)
        constraints = (
            # One ticket per incident: an alert (rule/subject) fired at one moment opens one ticket.
            models.UniqueConstraint(fields=("alert_key", "opened_at"), condition=~models.Q(alert_key=""),
                                    name="ticket_one_per_alert_incident"),
        )

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} {self.line or self.location}".strip()

    def get_absolute_url(self) -> str:
        return reverse("faults:ticket_detail", args=[self.pk])

    @property
    def active(self) -> bool:
        return TicketState(self.state).active

    @property
    def duration_s(self) -> int | None:
        """Time to repair in whole seconds (opened to resolved), None while unresolved."""
        if self.resolved_at is None:
            return None
        return int((self.resolved_at - self.opened_at).total_seconds())

    def clean(self) -> None:
        errors: dict[str, list[Any]] = {}
        if self.resolved_at is not None and self.resolved_at < self.opened_at:
            errors["resolved_at"] = [_("the resolution cannot be before the ticket was opened")]
        if self.state == TicketState.CLOSED and not self.cause:
            errors["cause"] = [_("give the cause before closing the ticket")]
        if not self.line_id and not self.location:
            errors["location"] = [_("give the line or the location")]
        if errors:
            raise ValidationError(errors)

    # -- the state machine (who may call each: web/faults/services.py TRANSITION_PERMISSIONS) ----------------------

    @transition(field=state, source=TicketState.OPEN, target=TicketState.CARRIER_NOTIFIED)
    def notify_carrier(self) -> None:
        """Mail the carrier's NOC (the mail itself is enqueued by the service)."""

    @transition(field=state, source=(TicketState.OPEN, TicketState.CARRIER_NOTIFIED), target=TicketState.IN_PROGRESS)
    def start_work(self) -> None:
        """Someone (or the carrier) works on it."""

    @transition(field=state, source=ACTIVE_STATES, target=TicketState.RESOLVED)
    def resolve(self, *, cause: str, resolved_at: Any) -> None:
        self.cause = cause
        self.resolved_at = resolved_at

    @transition(field=state, source=TicketState.RESOLVED, target=TicketState.CLOSED)
    def close(self, *, closed_at: Any) -> None:
        self.closed_at = closed_at

    @transition(field=state, source=(TicketState.RESOLVED, TicketState.CLOSED), target=TicketState.IN_PROGRESS)
    def reopen(self) -> None:
        self.resolved_at = None
        self.closed_at = None


class TicketEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise ValidationError("ticket events are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ValidationError("ticket events are append-only")


class TicketEvent(ChangeLoggedModel):
    """One entry of a ticket's timeline; written once, never changed (the queryset and save refuse)."""

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="events")
    time = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    kind = models.CharField(_("event"), max_length=32, choices=fault_choices(TicketEventKind))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.SET_NULL,
                             null=True, blank=True, related_name="+")
    user_name = models.CharField(_("by"), max_length=150, blank=True, help_text=_("empty: the alert evaluator"))
    text = models.TextField(_("text"), blank=True)
    from_state = models.CharField(_("from"), max_length=32, blank=True)
    to_state = models.CharField(_("to"), max_length=32, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)

    objects = TicketEventQuerySet.as_manager()

    class Meta:
        ordering = ("time", "pk")
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.time:%Y-%m-%d %H:%M:%S}"

    def state_label(self, value: str) -> Any:
        """A stored state (``from_state``/``to_state``) as the user's language shows it."""
        try:
            return label(TicketState, value)
        except ValueError:
            return value

    @property
    def from_state_label(self) -> Any:
        return self.state_label(self.from_state)

    @property
    def to_state_label(self) -> Any:
        return self.state_label(self.to_state)

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValidationError("ticket events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValidationError("ticket events are append-only")


class AlertReceipt(ChangeLoggedModel):
    """One POST to /api/faults/alerts/ by its ``Idempotency-Key``: a repeat is answered from here, not applied."""

    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    group_key = models.CharField(_("alert group"), max_length=300, blank=True)
    tickets = models.ManyToManyField(Ticket, verbose_name=_("tickets"), blank=True, related_name="receipts")
    result = models.JSONField(_("result"), default=dict, blank=True)

    class Meta:
        ordering = ("-received_at",)
        verbose_name = _("alert receipt")
        verbose_name_plural = _("alert receipts")

    def __str__(self) -> str:
        return self.idempotency_key
