"""Pages of the inspections: the due list, the plans (list, detail, form), an inspection and its perform form.

Permissions: :mod:`web.accounts.permissions` (the API's check): every role reads; the NOC and engineers perform
(change an inspection); engineers and admins plan."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.views.generic import CreateView, DetailView, ListView, UpdateView, View

from linewatch.choices import InspectionState
from web.accounts.permissions import ModelPermissionRequiredMixin, is_permitted, restrict
from web.inspections import services
from web.inspections.forms import PerformForm, PlanForm
from web.inspections.models import Inspection, InspectionPlan


class DueListView(ModelPermissionRequiredMixin, ListView):
    """Inspections not performed yet, the earliest due first (overdue ones on top)."""

    model = Inspection
    template_name = "inspections/due_list.html"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[Inspection]:
        return super().get_queryset().open().select_related("plan__site", "plan__assignee").order_by("due", "pk")


class PlanListView(ModelPermissionRequiredMixin, ListView):
    model = InspectionPlan
    template_name = "inspections/plan_list.html"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[InspectionPlan]:
        return super().get_queryset().select_related("site", "assignee").prefetch_related("lines")


class PlanDetailView(ModelPermissionRequiredMixin, DetailView):
    model = InspectionPlan
    template_name = "inspections/plan_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["inspections"] = self.object.inspections.select_related("performed_by").order_by("-due")[:50]
        return context


class _PlanFormMixin(ModelPermissionRequiredMixin):
    model = InspectionPlan
    form_class = PlanForm
    template_name = "inspections/plan_form.html"

    def form_valid(self, form: PlanForm) -> HttpResponse:
        response = super().form_valid(form)  # type: ignore[misc]
        services.schedule(self.object)  # type: ignore[attr-defined]
        return response


class PlanCreateView(_PlanFormMixin, CreateView):
    permission_action = "add"


class PlanUpdateView(_PlanFormMixin, UpdateView):
    permission_action = "change"


class InspectionDetailView(ModelPermissionRequiredMixin, DetailView):
    model = Inspection
    template_name = "inspections/inspection_detail.html"

    def get_queryset(self) -> QuerySet[Inspection]:
        return super().get_queryset().select_related("plan__site", "performed_by").prefetch_related(
            "results__ticket")


class PerformView(ModelPermissionRequiredMixin, View):
    """The checklist of one open inspection: every item's outcome (OK / not OK / n/a), a note, a fault ticket
    for a failed item; saved by :func:`web.inspections.services.perform`."""

    model = Inspection
    permission_action = "change"

    def _form(self, request: Any, inspection: Inspection) -> PerformForm:
        from web.faults.models import Ticket

        return PerformForm(request.POST or None, inspection=inspection,
                           may_open_tickets=is_permitted(request.user, Ticket, "add"))

    def _inspection(self, pk: int) -> Inspection:
        return get_object_or_404(restrict(Inspection.objects.select_related("plan"), self.request.user, "change"),
                                 pk=pk)

    def _page(self, request: Any, inspection: Inspection, form: PerformForm) -> TemplateResponse:
        return TemplateResponse(request, "inspections/perform_form.html", {"inspection": inspection, "form": form})

    def get(self, request: Any, pk: int) -> HttpResponse:
        inspection = self._inspection(pk)
        if inspection.state == InspectionState.DONE:
            return HttpResponseRedirect(inspection.get_absolute_url())
        return self._page(request, inspection, self._form(request, inspection))

    def post(self, request: Any, pk: int) -> HttpResponse:
        inspection = self._inspection(pk)
        form = self._form(request, inspection)
        if not form.is_valid():
            return self._page(request, inspection, form)
        try:
            services.perform(inspection, user=request.user, results=form.results(),
                             follow_up=form.cleaned_data["follow_up"])
        except ValidationError as exc:
            for messages_ in exc.message_dict.values():
                for message in messages_:
                    form.add_error(None, message)
            return self._page(request, inspection, form)
        return HttpResponseRedirect(inspection.get_absolute_url())
