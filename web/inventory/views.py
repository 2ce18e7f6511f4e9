"""Server-rendered pages: the line list and the line, carrier and site pages (login required: middleware)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.db.models import QuerySet
from django.views.generic import DetailView, ListView

from web.inventory.filtersets import LineFilterSet
from web.inventory.models import Carrier, Line, Site

_LINE_RELATED = ("carrier", "site", "department", "cost_centre")


class LineListView(PermissionRequiredMixin, ListView):
    permission_required = "inventory.view_line"
    model = Line
    template_name = "inventory/line_list.html"
    paginate_by = settings.PAGINATE_BY

    def get_queryset(self) -> QuerySet[Line]:
        base = Line.objects.select_related(*_LINE_RELATED).prefetch_related("members__device")
        self.filterset = LineFilterSet(self.request.GET or None, queryset=base, request=self.request)
        return self.filterset.qs if self.filterset.is_bound else base

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        context |= {"filter": self.filterset, "query": query.urlencode()}
        return context

    def get_template_names(self) -> list[str]:
        if self.request.htmx:  # type: ignore[attr-defined]
            return ["inventory/_line_table.html"]
        return [self.template_name]


class LineDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "inventory.view_line"
    model = Line
    queryset = Line.objects.select_related(*_LINE_RELATED, "billing_account")
    template_name = "inventory/line_detail.html"


class CarrierDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "inventory.view_carrier"
    model = Carrier
    template_name = "inventory/carrier_detail.html"


class SiteDetailView(PermissionRequiredMixin, DetailView):
    permission_required = "inventory.view_site"
    model = Site
    template_name = "inventory/site_detail.html"
