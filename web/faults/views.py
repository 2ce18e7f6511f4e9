"""Pages of the faults app: the ticket list, the fault report form, a ticket's page (timeline, steps, comments),
the recurring causes and the SLA-credit claims. Every change goes through :mod:`web.faults.services`."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import DetailView, ListView

from linewatch.choices import FaultCause
from web.accounts.permissions import ModelPermissionRequiredMixin, is_permitted, restrict
from web.faults import forms, services
from web.faults.filtersets import TicketFilterSet
from web.faults.labels import FAULT_LABELS
from web.faults.models import SlaClaim, Ticket

RECURRING_WINDOW = dt.timedelta(days=365)
RECURRING_MIN = 2  # incidents of one cause on one line within the window: highlighted (prevention, §6.3)
STEP_LABELS = {"notify_carrier": gettext_lazy("Notify the carrier"), "start_work": gettext_lazy("Start work"),
               "resolve": gettext_lazy("Resolve"), "close": gettext_lazy("Close"), "reopen": gettext_lazy("Reopen")}


def _errors_into(form: Any, exc: ValidationError) -> None:
    for field, errors in (exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}).items():
        form.add_error(field if field in form.fields else None, errors)


class TicketListView(ModelPermissionRequiredMixin, ListView):
    """Active tickets first; filters state, carrier, line, kind."""

    model = Ticket
    template_name = "faults/ticket_list.html"
    paginate_by = settings.PAGINATE_BY

    def get_queryset(self) -> QuerySet[Ticket]:
        base = restrict(Ticket.objects.select_related("line", "carrier", "site"), self.request.user)
        self.filterset = TicketFilterSet(self.request.GET or None, queryset=base)
        return (self.filterset.qs if self.filterset.is_bound else base).open_first()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        query = self.request.GET.copy()
        query.pop("page", None)
        return super().get_context_data(**kwargs) | {
            "filter": self.filterset, "query": query.urlencode(),
            "may_add": is_permitted(self.request.user, Ticket, "add")}


class TicketCreateView(ModelPermissionRequiredMixin, View):
    """The fault report form (brief §6.2), open to every role."""

    model = Ticket
    permission_action = "add"

    def get(self, request: Any) -> HttpResponse:
        initial = {"line": request.GET.get("line")} if request.GET.get("line") else {}
        return render(request, "faults/ticket_form.html", {"form": forms.TicketForm(initial=initial)})

    def post(self, request: Any) -> HttpResponse:
        form = forms.TicketForm(request.POST)
        if form.is_valid():
            try:
                ticket = services.open_ticket(acting_user=request.user, **form.cleaned_data)
            except ValidationError as exc:
                _errors_into(form, exc)
            else:
                messages.success(request, _("Ticket #%(id)s opened.") % {"id": ticket.pk})
                return HttpResponseRedirect(ticket.get_absolute_url())
        return render(request, "faults/ticket_form.html", {"form": form}, status=400)


def _messages_include() -> str:
    """web/notify's list of an object's messages, when that app provides it."""
    try:
        get_template("notify/_messages.html")
    except TemplateDoesNotExist:
        return ""
    return "notify/_messages.html"


class TicketDetailView(ModelPermissionRequiredMixin, DetailView):
    model = Ticket
    queryset = Ticket.objects.select_related("line", "carrier", "site", "reporter", "assignee")
    template_name = "faults/ticket_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        ticket: Ticket = self.object
        user = self.request.user
        possible = {t.name for t in ticket.get_available_state_transitions()}
        steps = [(name, STEP_LABELS[name], form() if form else None) for name, form in forms.STEP_FORMS.items()
                 if name in possible and services.may(user, name)]
        return super().get_context_data(**kwargs) | {
            "events": ticket.events.select_related("user"), "steps": steps,
            "comment_form": forms.CommentForm() if services.may(user, "comment") else None,
            "edit_form": forms.TicketEditForm(instance=ticket) if services.may(user, "edit") else None,
            "may_answer": services.may(user, "edit"), "messages_include": _messages_include(),
            "claims": ticket.sla_claims.all()}


class _TicketPost(ModelPermissionRequiredMixin, View):
    """A POST on one ticket: the service refuses what the role may not do (403) or the state forbids (400)."""

    model = Ticket

    def ticket(self, pk: int) -> Ticket:
        return get_object_or_404(restrict(Ticket.objects.all(), self.request.user), pk=pk)

    def done(self, ticket: Ticket, message: str) -> HttpResponse:
        messages.success(self.request, message)
        return HttpResponseRedirect(ticket.get_absolute_url())

    def refused(self, ticket: Ticket, form: Any) -> HttpResponse:
        errors = "; ".join(f"{e}" for errs in form.errors.values() for e in errs)
        messages.error(self.request, errors)
        return HttpResponseRedirect(ticket.get_absolute_url())

    def apply(self, ticket: Ticket, form: Any, fn: Any, message: str, **kwargs: Any) -> HttpResponse:
        try:
            with transaction.atomic():
                fn(ticket, acting_user=self.request.user, **kwargs)
        except PermissionDenied:
            raise
        except ValidationError as exc:
            _errors_into(form, exc)
            return self.refused(ticket, form)
        return self.done(ticket, message)


class TicketStepView(_TicketPost):
    def post(self, request: Any, pk: int, step: str) -> HttpResponse:
        if step not in forms.STEP_FORMS:
            raise Http404(step)
        if not services.may(request.user, step):
            raise PermissionDenied
        ticket = self.ticket(pk)
        form_class = forms.STEP_FORMS[step] or forms.forms.Form
        form = form_class(request.POST)
        if not form.is_valid():
            return self.refused(ticket, form)
        return self.apply(ticket, form, services.STEPS[step], _("%(step)s: done.") % {"step": STEP_LABELS[step]},
                          **form.cleaned_data)


class TicketCommentView(_TicketPost):
    def post(self, request: Any, pk: int) -> HttpResponse:
        ticket = self.ticket(pk)
        form = forms.CommentForm(request.POST)
        if not form.is_valid():
            return self.refused(ticket, form)
        return self.apply(ticket, form, services.comment, _("Comment added."), **form.cleaned_data)


class TicketEditView(_TicketPost):
    def post(self, request: Any, pk: int) -> HttpResponse:
        if not services.may(request.user, "edit"):
            raise PermissionDenied
        ticket = self.ticket(pk)
        form = forms.TicketEditForm(request.POST, instance=Ticket.objects.get(pk=ticket.pk))
        if not form.is_valid():
            return self.refused(ticket, form)
        return self.apply(ticket, form, services.edit, _("Ticket saved."), **form.cleaned_data)


def recurring_causes(tickets: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """Rows ``{subject, cause, incidents, recurring}`` from ``(subject kind, subject, cause)`` triples, most first
    (pure: the page and its test share it)."""
    counts = Counter(tickets)
    rows = [{"scope": scope, "subject": subject, "cause": cause, "incidents": n,
             "recurring": scope == "line" and n >= RECURRING_MIN}
            for (scope, subject, cause), n in counts.items()]
    return sorted(rows, key=lambda r: (r["scope"], -r["incidents"], r["subject"], r["cause"]))


class RecurringCausesView(ModelPermissionRequiredMixin, View):
    """``/faults/causes/``: causes per line and per carrier over the last 12 months."""

    model = Ticket

    def get(self, request: Any) -> HttpResponse:
        since = timezone.now() - RECURRING_WINDOW
        tickets = restrict(Ticket.objects.all(), request.user).filter(opened_at__gte=since).exclude(cause="")
        triples, line_pks = [], {}
        for line, line_pk, carrier, cause in tickets.values_list("line__name", "line_id", "carrier__name", "cause"):
            if line:
                triples.append(("line", line, cause))
                line_pks[line] = line_pk
            if carrier:
                triples.append(("carrier", carrier, cause))
        labels = FAULT_LABELS[FaultCause]
        rows = [r | {"cause_label": labels[FaultCause(r["cause"])], "line_pk": line_pks.get(r["subject"])}
                for r in recurring_causes(triples)]
        return render(request, "faults/causes.html", {
            "line_rows": [r for r in rows if r["scope"] == "line"],
            "carrier_rows": [r for r in rows if r["scope"] == "carrier"], "since": since,
            "recurring_min": RECURRING_MIN})


class SlaClaimListView(ModelPermissionRequiredMixin, ListView):
    model = SlaClaim
    template_name = "faults/claim_list.html"
    paginate_by = settings.PAGINATE_BY

    def get_queryset(self) -> QuerySet[SlaClaim]:
        return super().get_queryset().select_related("line", "line__carrier").annotate(n_tickets=Count("tickets")).order_by("-period", "line__name")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        may_change = is_permitted(self.request.user, SlaClaim, "change")
        return super().get_context_data(**kwargs) | {"state_form": forms.ClaimStateForm() if may_change else None}


class SlaClaimStateView(ModelPermissionRequiredMixin, View):
    model = SlaClaim
    permission_action = "change"

    def post(self, request: Any, pk: int) -> HttpResponse:
        claim = get_object_or_404(restrict(SlaClaim.objects.all(), request.user, "change"), pk=pk)
        form = forms.ClaimStateForm(request.POST)
        if form.is_valid():
            claim.state = form.cleaned_data["state"]
            if form.cleaned_data["note"]:
                claim.note = form.cleaned_data["note"]
            claim.save()
            messages.success(request, _("Claim saved."))
        else:
            messages.error(request, "; ".join(e for errs in form.errors.values() for e in errs))
        return HttpResponseRedirect(claim.get_absolute_url())
