"""Pages of the voice app: the trunks (``/voice/``), the calls (``/voice/calls/``, CSV/XLSX), the extension
directory (``/voice/extensions/``: add, edit, delete, CSV import and export), the rate plans (``/voice/rate-plans/``,
read-only from voice.yaml) and the cost per department (``/voice/departments/?period=YYYY-MM``)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import CreateView, DeleteView, ListView, TemplateView, UpdateView, View

from linewatch.voice.directory import COLUMNS, department_costs
from web.accounts.permissions import ModelPermissionRequiredMixin, is_permitted
from web.inventory.models import Line
from web.voice import config, trunks
from web.voice.calls import CallFilter, day_bounds, read_calls, records
from web.voice.directory import ExtensionImportError, app_directory, import_extensions
from web.voice.export import calls_csv, calls_xlsx, directory_csv_response
from web.voice.forms import CallFilterForm, ExtensionForm, ExtensionImportForm, voice_lines
from web.voice.models import CallRecord, Extension

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def currency_of(line: Line) -> str:
    """The currency of a voice line's call costs: its rate plan's (voice.yaml), "" without one."""
    plan = next((p for p in config.rate_plans() if p.name == line.rate_plan), None)
    return str(getattr(plan, "currency", "") or "")


class TrunkListView(ModelPermissionRequiredMixin, TemplateView):
    """Every voice line: channels, busy now, today's calls, blocked calls and cost, yesterday's busy hour with the
    Erlang B blocking at the contracted channels and the channels needed at the target grade of service."""

    model = Line
    template_name = "voice/trunk_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        lines = list(voice_lines())
        now = trunks.local_now()
        day_start_s, _month_start_s = trunks.local_starts(now)
        gos = config.target_gos()
        figures = trunks.trunk_figures({line.name: line.channels for line in lines}, now_s=now.timestamp(),
                                       day_start_s=day_start_s, gos=gos, currencies={line.name: currency_of(line) for line in lines})
        rows = [(line, figures.trunks.get(line.name)) for line in lines]
        context.update(rows=rows, error=figures.error, gos_pct=gos * 100, now=now)
        return context


def call_filter_of(form: CallFilterForm, tz: dt.tzinfo) -> tuple[CallFilter, dt.date]:
    data = form.cleaned_data if form.is_valid() else {}
    day = data.get("day") or timezone.localdate()
    start_s, end_s = day_bounds(day, tz)
    line = data.get("line")
    names = [line.name] if line is not None else [v.name for v in voice_lines()]
    return CallFilter(start_s=start_s, end_s=end_s, lines=names, direction=data.get("direction", ""),
                      dest_class=data.get("dest_class", ""), outcome=data.get("outcome", ""),
                      number=data.get("number", "")), day


class CallListView(ModelPermissionRequiredMixin, TemplateView):
    """One day's calls (newest first, 50 per page), filtered by line, direction, class, outcome and number."""

    model = CallRecord
    template_name = "voice/call_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        tz = timezone.get_current_timezone()
        form = CallFilterForm(self.request.GET or None)
        call_filter, day = call_filter_of(form, tz)
        calls = read_calls(call_filter, directory=app_directory())
        paginator = Paginator(range(len(calls.frame)), settings.PAGINATE_BY)
        page = paginator.get_page(self.request.GET.get("page"))
        frame = calls.frame.iloc[page.start_index() - 1:page.end_index()] if len(calls.frame) else calls.frame
        query = self.request.GET.copy()
        query.pop("page", None)
        context.update(form=form, day=day, error=calls.error, note=calls.note, calls=records(frame, tz), paginator=paginator,
                       page_obj=page, query=query.urlencode())
        return context


class CallExportView(ModelPermissionRequiredMixin, View):
    """The filtered calls of the day (every page) as CSV or XLSX."""

    model = CallRecord
    file_format = "csv"

    def get(self, request: HttpRequest) -> HttpResponse:
        call_filter, day = call_filter_of(CallFilterForm(request.GET or None), timezone.get_current_timezone())
        calls = read_calls(call_filter, directory=app_directory())
        stem = f"calls-{day.isoformat()}"
        return calls_csv(calls.frame, stem) if self.file_format == "csv" else calls_xlsx(calls.frame, stem)


class ExtensionListView(ModelPermissionRequiredMixin, ListView):
    """The directory: search ``q`` over number, name, department and cost centre; 50 per page."""

    model = Extension
    paginate_by = settings.PAGINATE_BY
    template_name = "voice/extension_list.html"

    def get_queryset(self) -> Any:
        queryset = super().get_queryset().select_related("department", "cost_centre")
        q = self.request.GET.get("q", "").strip()
        if q:
            queryset = queryset.filter(Q(number__icontains=q) | Q(name__icontains=q) | Q(department__name__icontains=q)
                                       | Q(cost_centre__code__icontains=q) | Q(description__icontains=q))
        return queryset

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        user = self.request.user
        context.update(q=self.request.GET.get("q", ""), query=query.urlencode(),
                       may_add=is_permitted(user, Extension, "add"), may_change=is_permitted(user, Extension, "change"),
                       may_delete=is_permitted(user, Extension, "delete"))
        return context


class _ExtensionFormMixin(ModelPermissionRequiredMixin):
    model = Extension
    form_class = ExtensionForm
    template_name = "voice/extension_form.html"
    success_url = reverse_lazy("voice:extension_list")


class ExtensionCreateView(_ExtensionFormMixin, CreateView):
    permission_action = "add"


class ExtensionUpdateView(_ExtensionFormMixin, UpdateView):
    permission_action = "change"


class ExtensionDeleteView(ModelPermissionRequiredMixin, DeleteView):
    model = Extension
    permission_action = "delete"
    template_name = "voice/extension_confirm_delete.html"
    success_url = reverse_lazy("voice:extension_list")


class ExtensionImportView(ModelPermissionRequiredMixin, View):
    """The directory from a CSV file (:func:`web.voice.directory.import_extensions`): all rows or none."""

    model = Extension
    permission_action = "add"

    def _page(self, request: HttpRequest, form: ExtensionImportForm, problems: Any = ()) -> TemplateResponse:
        return TemplateResponse(request, "voice/extension_import.html",
                                {"form": form, "problems": problems, "columns": COLUMNS})

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._page(request, ExtensionImportForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = ExtensionImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._page(request, form)
        replace = form.cleaned_data["replace"]
        if replace and not is_permitted(request.user, Extension, "delete"):
            form.add_error("replace", _("your role may not delete extensions"))
            return self._page(request, form)
        upload = form.cleaned_data["file"]
        try:
            result = import_extensions(upload.read(), file=upload.name, replace=replace)
        except ExtensionImportError as exc:
            return self._page(request, form, exc.problems)
        messages.success(request, _("%(created)d extensions added, %(updated)d changed, %(deleted)d removed.") % {
            "created": result.created, "updated": result.updated, "deleted": result.deleted})
        return HttpResponseRedirect(reverse("voice:extension_list"))


class ExtensionExportView(ModelPermissionRequiredMixin, View):
    model = Extension

    def get(self, request: HttpRequest) -> HttpResponse:
        return directory_csv_response(app_directory())


class RatePlanListView(ModelPermissionRequiredMixin, TemplateView):
    """voice.yaml's rate plans, read-only, with the voice lines rated by each."""

    model = Line
    template_name = "voice/rate_plans.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        loaded = config.voice()
        used: dict[str, list[Line]] = {}
        for line in voice_lines():
            used.setdefault(line.rate_plan, []).append(line)
        plans = [{"plan": p, "lines": used.get(p.name, []),
                  "tables": [(title, [r.model_dump(mode="json") for r in getattr(p, name, ())])
                             for name, title in (("rates", _("Rates")), ("bands", _("Time bands")),
                                                 ("bundles", _("Included-minute bundles")))]}
                 for p in (loaded.config.rate_plans if loaded.config else ())]
        context.update(plans=plans, error=loaded.error, path=loaded.path,
                       unknown=[line for name, lines in used.items() if name and name not in
                                {p["plan"].name for p in plans} for line in lines])
        return context


def _month(request: HttpRequest) -> str:
    """``?period=YYYY-MM`` (404 when malformed), else this month."""
    text = request.GET.get("period", "")
    if text:
        if not _PERIOD.match(text):
            raise Http404(_("period must be YYYY-MM"))
        return text
    return timezone.localdate().strftime("%Y-%m")


def month_bounds(period: str, tz: dt.tzinfo) -> tuple[float, float]:
    year, month = (int(p) for p in period.split("-"))
    start = dt.datetime(year, month, 1, tzinfo=tz)
    end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz)
    return start.timestamp(), end.timestamp()


class DepartmentCostView(ModelPermissionRequiredMixin, TemplateView):
    """What each department's calls cost in a month (the rated calls of the call store, by the directory)."""

    model = Extension
    template_name = "voice/departments.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        period = _month(self.request)
        start_s, end_s = month_bounds(period, timezone.get_current_timezone())
        calls = read_calls(CallFilter(start_s=start_s, end_s=end_s), newest_first=False)
        table = department_costs(calls.frame, app_directory()) if calls.error is None else None
        rows = [] if table is None else table.to_dict("records")
        year, month = (int(p) for p in period.split("-"))
        previous = f"{year - (month == 1):04d}-{(month - 2) % 12 + 1:02d}"
        following = f"{year + (month == 12):04d}-{month % 12 + 1:02d}"
        context.update(period=period, rows=rows, error=calls.error, note=calls.note, previous=previous, following=following)
        return context
