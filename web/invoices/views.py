"""The invoices' pages: the list (filters), the detail page (rows, findings, the moves the user may make, history),
the payments calendar, and the accounts-payable export. Every move goes through :mod:`web.invoices.services`, as the
API's do: a refused move is 403 naming the roles, a wrong state 409, a bad field 400 naming it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from billing_etl.model import Period
from linewatch.choices import InvoiceState
from web.accounts.permissions import is_permitted, restrict
from web.invoices import export, services
from web.invoices.payments_calendar import month_weeks
from web.invoices.filtersets import InvoiceFilterSet
from web.invoices.labels import LABELS, MOVE_LABELS
from web.invoices.models import Invoice

PAGE_SIZE = 50
TO_PAY = (InvoiceState.APPROVED.value, InvoiceState.SCHEDULED.value)  # the AP export without a state filter


class _Date(forms.DateInput):
    input_type = "date"


class ApproveForm(forms.Form):
    withhold_disputed = forms.BooleanField(label=gettext_lazy("Withhold the disputed amounts"), required=False)
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=500)


class ScheduleForm(forms.Form):
    payment_date = forms.DateField(label=gettext_lazy("Payment date"), widget=_Date())
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=500)


class PaidForm(forms.Form):
    paid_on = forms.DateField(label=gettext_lazy("Paid on"), widget=_Date())
    reference = forms.CharField(label=gettext_lazy("Payment reference"), max_length=128)
    note = forms.CharField(label=gettext_lazy("Note"), required=False, max_length=500)


MOVE_FORMS: dict[str, type[forms.Form]] = {"approve": ApproveForm, "schedule": ScheduleForm, "mark_paid": PaidForm}


def _call(name: str, invoice: Invoice, user: Any, data: dict[str, Any]) -> Invoice:
    note = data.get("note", "")
    if name == "approve":
        return services.approve(invoice, user, withhold_disputed=bool(data.get("withhold_disputed")), note=note)
    if name == "schedule":
        return services.schedule(invoice, user, payment_date=data.get("payment_date"), note=note)
    return services.mark_paid(invoice, user, paid_on=data.get("paid_on"), reference=data.get("reference", ""),
                              note=note)


def _visible(request: HttpRequest) -> QuerySet[Invoice]:
    if not is_permitted(request.user, Invoice, "view"):
        raise PermissionDenied
    return restrict(Invoice.objects.all(), request.user)


def _filtered(request: HttpRequest) -> InvoiceFilterSet:
    return InvoiceFilterSet(request.GET, queryset=_visible(request).select_related("carrier"), request=request)


class InvoiceListView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        filterset = _filtered(request)
        page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
        return TemplateResponse(request, "invoices/invoice_list.html", {
            "filter": filterset, "page": page, "query": request.GET.urlencode()})


def _findings(invoice: Invoice) -> list[Any]:
    try:
        from web.findings.models import Finding
    except ImportError:
        return []
    return list(Finding.objects.filter(invoice=invoice).order_by("pk"))


def render_detail(request: HttpRequest, invoice: Invoice, *, failed: dict[str, forms.Form] | None = None,
                  error: str = "", status: int = 200) -> HttpResponse:
    failed = failed or {}
    moves = []
    for move in services.available_moves(invoice, request.user):
        form = failed.get(move.name) or MOVE_FORMS[move.name](prefix=move.name, initial=_initial(invoice, move.name))
        moves.append({"name": move.name, "label": MOVE_LABELS[move.name], "form": form})
    rows = list(invoice.rows.select_related("line"))
    return TemplateResponse(request, "invoices/invoice_detail.html", {
        "invoice": invoice, "state_label": LABELS[InvoiceState][invoice.state_enum], "rows": rows,
        "events": invoice.events.select_related("actor"), "moves": moves, "error": error,
        "findings": _findings(invoice), "disputed": services.disputed_amount(invoice),
        "move_labels": MOVE_LABELS, "stages": _stages(invoice)}, status=status)


def _initial(invoice: Invoice, name: str) -> dict[str, Any]:
    if name == "schedule":
        return {"payment_date": invoice.payment_date or invoice.due_date}
    if name == "mark_paid":
        return {"paid_on": timezone.localdate()}
    return {}


def _stages(invoice: Invoice) -> list[dict[str, Any]]:
    path = list(InvoiceState)
    reached = path.index(invoice.state_enum)
    return [{"label": LABELS[InvoiceState][s], "done": i < reached, "current": i == reached}
            for i, s in enumerate(path)]


class InvoiceDetailView(View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return render_detail(request, get_object_or_404(_visible(request).select_related("carrier"), pk=pk))


class InvoiceMoveView(View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        invoice = get_object_or_404(_visible(request).select_related("carrier"), pk=pk)
        name = request.POST.get("move", "")
        if name not in MOVE_FORMS:
            return render_detail(request, invoice, error=_("unknown action %(move)s") % {"move": name}, status=400)
        form = MOVE_FORMS[name](request.POST, prefix=name)
        if not form.is_valid():
            return render_detail(request, invoice, failed={name: form}, status=400)
        try:
            _call(name, invoice, request.user, form.cleaned_data)
        except services.NotPermitted as exc:
            raise PermissionDenied(str(exc)) from None
        except services.NotAvailable as exc:
            return render_detail(request, invoice, error=str(exc), status=409)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    form.add_error(field if field in form.fields else None, message)
            return render_detail(request, invoice, failed={name: form}, status=400)
        return HttpResponseRedirect(invoice.get_absolute_url())


def _month(text: str | None) -> Period:
    try:
        return Period.parse(text) if text else Period.containing(timezone.localdate())
    except ValueError:
        return Period.containing(timezone.localdate())


class CalendarView(View):
    """The payments calendar: due, scheduled and paid per day of a month (``?month=YYYY-MM``)."""

    def get(self, request: HttpRequest) -> HttpResponse:
        period = _month(request.GET.get("month"))
        first, last = period.first_day, period.last_day
        invoices = _visible(request).select_related("carrier").filter(
            _in_month("due_date", first, last) | _in_month("payment_date", first, last)
            | _in_month("paid_on", first, last)).order_by("carrier__name", "number")
        today = timezone.localdate()
        weeks = month_weeks(period, invoices, today=today)
        totals = _totals(invoices, first, last)
        return TemplateResponse(request, "invoices/calendar.html", {
            "period": period, "month_start": first, "weeks": weeks, "today": today,
            "previous": str(period.previous()), "next": str(period.next()), "totals": totals,
            "weekdays": [dt.date(2026, 11, 30) + dt.timedelta(days=i) for i in range(7)]})  # a Monday


def _in_month(name: str, first: dt.date, last: dt.date) -> Any:
    from django.db.models import Q

    return Q(**{f"{name}__gte": first, f"{name}__lte": last})


def _totals(invoices: QuerySet[Invoice], first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """Per currency: what is still to pay of the invoices due in the month, and what was paid in the month (each
    invoice's amount to pay: its total less what was withheld)."""
    due = invoices.exclude(state=InvoiceState.PAID.value).filter(due_date__gte=first, due_date__lte=last)
    paid = invoices.filter(state=InvoiceState.PAID.value, paid_on__gte=first, paid_on__lte=last)
    out: dict[str, dict[str, Any]] = {}
    for label, qs in (("due", due), ("paid", paid)):
        for invoice in qs:
            t = out.setdefault(invoice.currency, {"currency": invoice.currency, "due": Decimal(0), "paid": Decimal(0)})
            t[label] += invoice.payable_amount
    return sorted(out.values(), key=lambda t: t["currency"])


class ExportView(View):
    """The AP export of the invoices the list's filters select (approved and scheduled ones without a state
    filter): ``?format=csv|xlsx`` through the URL's suffix."""

    fmt = "csv"

    def get(self, request: HttpRequest) -> HttpResponse:
        filterset = _filtered(request)
        invoices = filterset.qs
        if not request.GET.get("state"):
            invoices = invoices.filter(state__in=TO_PAY)
        table = export.rows(invoices.order_by("due_date", "carrier__name", "number"))
        return export.csv_response(table) if self.fmt == "csv" else export.xlsx_response(table)

