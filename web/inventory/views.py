"""Server-rendered pages: the line list and the line, carrier and site pages (login required: middleware).

Permissions: :mod:`web.accounts.permissions`, the check the API uses too."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.forms import ModelForm, modelform_factory
from django.views.generic import CreateView, DetailView, ListView, UpdateView

from web.accounts.permissions import ModelPermissionRequiredMixin, is_permitted, restrict
from web.inventory.filtersets import LineFilterSet
from web.inventory.models import Carrier, Line, Site

_LINE_RELATED = ("carrier", "site", "department", "cost_centre")


class LineListView(ModelPermissionRequiredMixin, ListView):
    model = Line
    template_name = "inventory/line_list.html"
    paginate_by = settings.PAGINATE_BY

    def get_queryset(self) -> QuerySet[Line]:
        base = restrict(Line.objects.select_related(*_LINE_RELATED).prefetch_related("members__device"),
                        self.request.user)
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


class LineDetailView(ModelPermissionRequiredMixin, DetailView):
    model = Line
    queryset = Line.objects.select_related(*_LINE_RELATED, "billing_account")
    template_name = "inventory/line_detail.html"


LINE_FORM_FIELDS = ("name", "carrier", "circuit_id", "billing_account", "type", "status", "site", "department",
                    "cost_centre", "capacity_bps", "install_date", "termination_date", "description")


def line_form_fields(user: Any) -> tuple[str, ...]:
    """Who may add lines (engineer, admin) edits every field; the NOC (change only) edits the status alone."""
    return LINE_FORM_FIELDS if is_permitted(user, Line, "add") else ("status",)


class LineCreateView(ModelPermissionRequiredMixin, CreateView):
    """A new line; the model's ``clean()`` (the YAML's rules) names the offending field. Its interfaces follow."""

    model = Line
    permission_action = "add"
    fields = LINE_FORM_FIELDS
    template_name = "inventory/line_form.html"


class LineUpdateView(ModelPermissionRequiredMixin, UpdateView):
    model = Line
    permission_action = "change"
    queryset = Line.objects.select_related(*_LINE_RELATED)
    template_name = "inventory/line_form.html"

    def get_form_class(self) -> type[ModelForm]:
        return modelform_factory(Line, fields=line_form_fields(self.request.user))


class CarrierDetailView(ModelPermissionRequiredMixin, DetailView):
    model = Carrier
    template_name = "inventory/carrier_detail.html"


class SiteDetailView(ModelPermissionRequiredMixin, DetailView):
    model = Site
    template_name = "inventory/site_detail.html"
