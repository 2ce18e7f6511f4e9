"""Pages of the reports: the report list with its preview form (any report, any period, language, department:
HTML in the page, PDF as a download), the schedules (list, detail with their deliveries, add, edit, delete), the
sent reports with their files, and the capacity outlook.

Permissions are :mod:`web.accounts.permissions`' (the API's check too): previewing and the sent reports need
``reports.view_reportdelivery`` (the NOC, engineers, finance, admins), the schedules ``reports.*_reportschedule``
(engineers, finance and admins keep them), the outlook ``inventory.view_line`` (every role)."""

from __future__ import annotations

import logging
from typing import Any

from csp.decorators import csp_replace
from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import urlencode
from django.views import View
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.generic import CreateView, DeleteView, DetailView, ListView, TemplateView, UpdateView

from linewatch.choices import ReportFormat
from linewatch.errors import LinewatchError
from web.accounts.permissions import ModelPermissionRequiredMixin, restrict
from web.inventory.documents import content_disposition
from web.inventory.models import Department, Line
from web.reports import archive, engine
from web.reports.forms import PreviewForm, ScheduleForm
from web.reports.models import ReportDelivery, ReportSchedule
from web.reports.recipients import describe

log = logging.getLogger(__name__)


class ReportListView(ModelPermissionRequiredMixin, TemplateView):
    """Every report (built-in and the users' folder, whose invalid files are listed with their reasons) and the
    preview form; a submitted form shows the report below it (an iframe of :class:`RenderView`)."""

    model = ReportDelivery
    template_name = "reports/report_list.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = PreviewForm(self.request.GET or None)
        context = super().get_context_data(**kwargs)
        context |= {"definitions": engine.definitions(), "problems": engine.folder_problems(), "form": form}
        if form.is_bound and form.is_valid():
            query = {k: v for k, v in self.request.GET.items() if k in form.fields and k != "format" and v}
            context["preview_url"] = reverse("reports:render") + "?" + urlencode(query | {"format": "html"})
            context["pdf_url"] = reverse("reports:render") + "?" + urlencode(query | {"format": "pdf"})
        return context


# The preview is the report's own HTML document, shown in an iframe of the report list: framed by this site only,
# and sandboxed (no scripts, forms or navigation: a user's template renders only what the Jinja2 sandbox allows).
_FRAMED = [xframe_options_sameorigin, csp_replace({"frame-ancestors": ["'self'"], "sandbox": ["allow-same-origin"]})]


@method_decorator(_FRAMED, name="dispatch")
class RenderView(ModelPermissionRequiredMixin, View):
    """``GET ?report=&period=&language=&department=&format=html|pdf``: the report rendered now (PDF: a download)."""

    model = ReportDelivery

    def get(self, request: HttpRequest) -> HttpResponse:
        form = PreviewForm(request.GET)
        if not form.is_valid():
            errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
            return HttpResponseBadRequest(errors, content_type="text/plain; charset=utf-8")
        name, fmt = form.cleaned_data["report"], ReportFormat(form.cleaned_data["format"])
        kwargs = form.render_kwargs()
        try:
            if fmt == ReportFormat.PDF:
                rendered = engine.render(name, fmt=fmt, **kwargs)
                response = HttpResponse(rendered.content, content_type=rendered.media_type)
                response["Content-Disposition"] = content_disposition(rendered.filename)
            else:
                html = engine.render_html(name, css_href=static("reports/report.css"), **kwargs)
                response = HttpResponse(html, content_type="text/html; charset=utf-8")
        except LinewatchError as exc:  # ReportError and what providers raise (InfluxDB down): said, not a 500
            log.warning("report %s: preview failed: %s", name, exc)
            return TemplateResponse(request, "reports/render_error.html", {"error": str(exc), "report": name},
                                    status=400 if isinstance(exc, engine.ReportRequestError) else 503)
        response["Cache-Control"] = "private, no-store"
        return response


class ScheduleListView(ModelPermissionRequiredMixin, ListView):
    model = ReportSchedule
    template_name = "reports/schedule_list.html"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[ReportSchedule]:
        return super().get_queryset().select_related("department")


class ScheduleDetailView(ModelPermissionRequiredMixin, DetailView):
    model = ReportSchedule
    template_name = "reports/schedule_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        deliveries = restrict(self.object.deliveries.select_related("message"), self.request.user)
        return context | {"recipients": describe(self.object.recipients), "deliveries": deliveries[:50]}


class _ScheduleFormMixin(ModelPermissionRequiredMixin):
    model = ReportSchedule
    form_class = ScheduleForm
    template_name = "reports/schedule_form.html"


class ScheduleCreateView(_ScheduleFormMixin, CreateView):
    permission_action = "add"


class ScheduleUpdateView(_ScheduleFormMixin, UpdateView):
    permission_action = "change"


class ScheduleDeleteView(ModelPermissionRequiredMixin, DeleteView):
    """Deleting a schedule keeps its sent reports (their schedule is emptied)."""

    model = ReportSchedule
    permission_action = "delete"
    template_name = "reports/schedule_confirm_delete.html"
    success_url = reverse_lazy("reports:schedule_list")


class DeliveryListView(ModelPermissionRequiredMixin, ListView):
    """The sent-report archive: every delivery, newest period first, with its files."""

    model = ReportDelivery
    template_name = "reports/delivery_list.html"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[ReportDelivery]:
        qs = super().get_queryset().select_related("schedule", "message")
        report = self.request.GET.get("report", "")
        return qs.filter(report=report) if report else qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        query = {k: v for k, v in self.request.GET.items() if k != "page"}
        return super().get_context_data(**kwargs) | {"query": urlencode(query),
                                                     "report": self.request.GET.get("report", "")}


def delivery_file_response(delivery: ReportDelivery, fmt: ReportFormat) -> HttpResponse:
    """A delivery's kept file (HTML or PDF) as a download; 404 when it has none or the file is gone."""
    name = delivery.pdf_file if fmt == ReportFormat.PDF else delivery.html_file
    if not name:
        raise Http404("this delivery has no such file")
    try:
        handle = archive.open_file(name)
    except (FileNotFoundError, ValueError):
        log.error("report delivery %s: its file %s is missing from %s", delivery.pk, name, archive.root())
        raise Http404("the file of this delivery is missing") from None
    from django.http import FileResponse

    media = "application/pdf" if fmt == ReportFormat.PDF else "text/html; charset=utf-8"
    response = FileResponse(handle, content_type=media)
    response["Content-Disposition"] = content_disposition(name.rsplit("/", 1)[-1])
    response["Cache-Control"] = "private, no-store"
    return response


class DeliveryDownloadView(ModelPermissionRequiredMixin, View):
    model = ReportDelivery

    def get(self, request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
        if fmt not in set(ReportFormat):
            raise Http404("no such format")
        delivery = restrict(ReportDelivery.objects.all(), request.user).filter(pk=pk).first()
        if delivery is None:
            raise Http404("no such delivery")
        return delivery_file_response(delivery, ReportFormat(fmt))


class OutlookView(ModelPermissionRequiredMixin, TemplateView):
    """The capacity outlook: every line's forecast (days until 80 % and 95 % of its capacity, with the interval),
    busy hour, growth per month and, for burstable and quota lines, the projected bill; soonest first."""

    model = Line
    template_name = "reports/outlook.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        department = self.request.GET.get("department", "")
        rows, error = outlook_for(self.request.user, department=department)
        return context | {"rows": rows, "error": error, "department": department,
                          "departments": Department.objects.values_list("name", flat=True),
                          "run_at": max((r.run_at for r in rows if r.run_at), default=None)}


def outlook_for(user: Any, *, department: str = "", token: Any = None) -> tuple[list[Any], str]:
    """The outlook rows of the lines ``user`` sees (of ``department``, if given), soonest first, and the name of
    the InfluxDB error when it did not answer ("" otherwise): the page's and the API's one source."""
    from linewatch.errors import InfluxError
    from linewatch.influx import InfluxClient
    from linewatch.trends.outlook import read_outlook
    from web.reports.outlook_rows import outlook_rows

    lines = {line.name: line for line in restrict(Line.objects.select_related("department", "carrier"), user,
                                                  token=token)}
    influx = settings.LINEWATCH.influx_settings()
    influx = influx.model_copy(update={"timeout_s": min(influx.timeout_s, 10.0)})
    try:
        with InfluxClient(influx) as client:
            rows = outlook_rows(read_outlook(client), lines)
    except InfluxError as exc:
        log.warning("outlook: nothing from InfluxDB: %s", exc)
        return [], type(exc).__name__
    rows = [r for r in rows if r.line in lines]  # the lines this user sees (and still in the inventory)
    if department:
        rows = [r for r in rows if r.department == department]
    return rows, ""
