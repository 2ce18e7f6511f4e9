"""Planned maintenance pages: the list (active, upcoming, past), the detail page, the add/edit form and the
lines of a carrier for the form's multi-select (htmx). Permissions: :mod:`web.accounts.permissions`, as the API's
``/api/inventory/maintenance/``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.generic import CreateView, DetailView, UpdateView, View

from web.accounts.permissions import ModelPermissionRequiredMixin, is_permitted, restrict
from web.inventory.forms import PlannedMaintenanceForm, lines_of
from web.inventory.models import PlannedMaintenance
from web.inventory.views import SearchListView

#: The list's filters (``?when=``): each a queryset method of ``PlannedMaintenance.objects``.
WHEN = {"current": _("Active and upcoming"), "active": _("Active"), "upcoming": _("Upcoming"), "past": _("Past"),
        "all": _("All")}
_WHEN_QUERIES = {"current": "current_or_upcoming", "active": "active", "upcoming": "upcoming", "past": "past"}


class MaintenanceListView(SearchListView):
    model = PlannedMaintenance
    search_fields = ("carrier_reference", "description", "carrier__name", "lines__name")
    table_template = "inventory/_maintenance_table.html"
    template_name = "inventory/maintenance_list.html"

    def get_queryset(self) -> QuerySet[PlannedMaintenance]:
        self.when = self.request.GET.get("when") if self.request.GET.get("when") in WHEN else "current"
        queryset = super().get_queryset().select_related("carrier").prefetch_related("lines")
        method = _WHEN_QUERIES.get(self.when)
        if method is not None:
            queryset = getattr(queryset, method)(timezone.now())
        return queryset.order_by("starts", "pk") if self.when != "past" else queryset.order_by("-starts", "-pk")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context |= {"when": self.when, "when_choices": list(WHEN.items()), "now": timezone.now(),
                    "add_url": "inventory:maintenance_add"}
        return context


class MaintenanceDetailView(ModelPermissionRequiredMixin, DetailView):
    model = PlannedMaintenance
    queryset = PlannedMaintenance.objects.select_related("carrier")
    template_name = "inventory/maintenance_detail.html"
    context_object_name = "window"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context |= {"lines": restrict(self.object.lines.select_related("carrier", "site"), self.request.user),
                    "now": timezone.now()}
        return context


class _MaintenanceFormMixin:
    model = PlannedMaintenance
    form_class = PlannedMaintenanceForm
    template_name = "inventory/maintenance_form.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        obj = getattr(self, "object", None)
        context |= {"verbose_name": PlannedMaintenance._meta.verbose_name,
                    "cancel_url": obj.get_absolute_url() if obj else "/inventory/maintenance/"}
        return context


class MaintenanceCreateView(ModelPermissionRequiredMixin, _MaintenanceFormMixin, CreateView):
    permission_action = "add"

    def get_initial(self) -> dict[str, Any]:
        initial: dict[str, Any] = {k: v for k, v in self.request.GET.items() if k == "carrier"}
        if "line" in self.request.GET:
            initial["lines"] = self.request.GET.getlist("line")
        return initial


class MaintenanceUpdateView(ModelPermissionRequiredMixin, _MaintenanceFormMixin, UpdateView):
    permission_action = "change"


class MaintenanceLinesView(View):
    """``GET /inventory/maintenance/lines/?carrier=N`` (htmx, the form's carrier select): the ``<option>`` of each
    line of that carrier (every line without one), for a role that may add or change windows."""

    def get(self, request: Any) -> HttpResponse:
        if not any(is_permitted(request.user, PlannedMaintenance, action) for action in ("add", "change")):
            raise PermissionDenied
        lines = restrict(lines_of(request.GET.get("carrier")), request.user)
        selected = set(request.GET.getlist("lines"))
        return TemplateResponse(request, "inventory/_maintenance_line_options.html",
                                {"lines": lines, "selected": selected})
