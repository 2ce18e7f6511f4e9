"""Pages of the finance overview: the KPIs (``/finance/``), the budgets with their actual, variance and
projection (``/finance/budgets/``, add, edit, CSV import) and the chargeback per department
(``/finance/chargeback/`` and its CSV/XLSX). Every role reads; finance keeps the budgets."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import CreateView, TemplateView, UpdateView, View

from web.accounts.permissions import ModelPermissionRequiredMixin
from web.finance import figures
from web.finance.chargeback import chargeback, periods_with_costs
from web.finance.export import chargeback_csv, chargeback_xlsx
from web.finance.forms import BudgetForm, BudgetImportForm
from web.finance.imports import COLUMNS, BudgetImportError, import_budgets
from web.finance.kpis import dispute_kpis, totals_by_currency
from web.finance.models import Budget, CostActual

_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _year(request: HttpRequest) -> int:
    """``?year=`` (2000–2100), else this year."""
    text = request.GET.get("year", "")
    if text.isdigit() and 2000 <= int(text) <= 2100:
        return int(text)
    return timezone.localdate().year


def _years(year: int) -> list[int]:
    return sorted({year, timezone.localdate().year, *figures.years_with_budgets()}, reverse=True)


class OverviewView(ModelPermissionRequiredMixin, TemplateView):
    """The KPIs: disputes per carrier and month (claimed, recovered, pending, ageing), payments (on time, late,
    overdue, late fees avoided), and this year's budgets against actual."""

    model = Budget
    template_name = "finance/overview.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        year = _year(self.request)
        disputes = dispute_kpis(figures.dispute_facts(), today=today)
        context.update(today=today, year=year, years=_years(year), disputes=disputes,
                       dispute_totals=list(totals_by_currency(disputes).values()),
                       payments=figures.payment_kpis(today=today),
                       budgets=figures.budget_statuses(year))
        return context


class BudgetListView(ModelPermissionRequiredMixin, TemplateView):
    """A year's budgets: per target the budget, actual to date, variance, projection; and month by month."""

    model = Budget
    template_name = "finance/budget_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        year = _year(self.request)
        context.update(year=year, years=_years(year), statuses=figures.budget_statuses(year), months=range(1, 13),
                       budgets=Budget.objects.filter(year=year).select_related("department", "cost_centre"))
        return context


class _BudgetFormMixin(ModelPermissionRequiredMixin):
    model = Budget
    form_class = BudgetForm
    template_name = "finance/budget_form.html"

    def get_success_url(self) -> str:
        return f"{reverse('finance:budget_list')}?year={self.object.year}"  # type: ignore[attr-defined]


class BudgetCreateView(_BudgetFormMixin, CreateView):
    permission_action = "add"


class BudgetUpdateView(_BudgetFormMixin, UpdateView):
    permission_action = "change"


class BudgetImportView(ModelPermissionRequiredMixin, View):
    """Budgets from a CSV file (:mod:`web.finance.imports`): all rows or none, every error with its row."""

    model = Budget
    permission_action = "add"
    success_url = reverse_lazy("finance:budget_list")

    def _page(self, request: HttpRequest, form: BudgetImportForm, errors: list[Any] = ()) -> TemplateResponse:
        return TemplateResponse(request, "finance/budget_import.html",
                                {"form": form, "errors": errors, "columns": COLUMNS})

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._page(request, BudgetImportForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = BudgetImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._page(request, form)
        try:
            result = import_budgets(form.cleaned_data["file"].read())
        except BudgetImportError as exc:
            return self._page(request, form, exc.errors)
        messages.success(request, _("%(created)d budgets added, %(updated)d changed.") % {
            "created": result.created, "updated": result.updated})
        return HttpResponseRedirect(self.success_url)


def _period(request: HttpRequest, periods: list[str]) -> str:
    """``?period=YYYY-MM`` (404 when malformed), else the latest with costs (or last month)."""
    text = request.GET.get("period", "")
    if text:
        if not _PERIOD.match(text):
            raise Http404(_("period must be YYYY-MM"))
        return text
    if periods:
        return periods[0]
    first = timezone.localdate().replace(day=1)
    return f"{first.year - (first.month == 1):04d}-{(first.month - 2) % 12 + 1:02d}"


class ChargebackView(ModelPermissionRequiredMixin, TemplateView):
    """What each department's lines cost in one period (the audit's actual costs)."""

    model = CostActual
    template_name = "finance/chargeback.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        periods = periods_with_costs()
        period = _period(self.request, periods)
        context.update(period=period, periods=periods,
                       groups=chargeback(CostActual.objects.filter(period=period).select_related("line")))
        return context


class ChargebackExportView(ModelPermissionRequiredMixin, View):
    model = CostActual
    kind = "csv"

    def get(self, request: HttpRequest) -> HttpResponse:
        period = _period(request, periods_with_costs())
        groups = chargeback(CostActual.objects.filter(period=period))
        return chargeback_csv(period, groups) if self.kind == "csv" else chargeback_xlsx(period, groups)
