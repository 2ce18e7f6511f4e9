"""The change-log pages: the filtered list, its CSV export, one row, and an object's history (read-only); and the
login log's tab beside it (list and CSV export), with the same ``user``, ``address`` and date filters.

Which rows a user sees is decided in one place, :mod:`web.audit.permissions`. Secrets are masked twice: when a
row is written (:mod:`web.audit.models`) and again here, from the model's ``secret_fields``, whatever the row
holds. There are no edit views: the log is append-only.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, ListView

from billing_etl.exports import neutralise_formula
from web.accounts.logins.models import LoginEvent
from web.audit.filtersets import LoginEventFilterSet, ObjectChangeFilterSet
from web.audit.models import MASK, ObjectChange, log_spec
from web.audit.permissions import may_view_history, may_view_log, may_view_logins, visible_changes

CSV_COLUMNS = ("time", "user", "address", "request_id", "action", "object_type", "object_id", "object", "changes")
LOGIN_CSV_COLUMNS = ("time", "event", "user", "address", "request_id", "backend")
# Filters both tabs understand: switching tab keeps them (a user's logins, then what they changed).
SHARED_FILTERS = ("user", "address", "since", "until")


def _secret_fields(ct: ContentType) -> tuple[str, ...]:
    model = ct.model_class()
    spec = log_spec(model) if model is not None else None
    return spec.secret_fields if spec is not None else ()


def masked(row: ObjectChange) -> dict[str, Any]:
    """``before``, ``after`` and ``diff`` of ``row`` with every secret field masked."""
    secrets = set(_secret_fields(row.changed_object_type))

    def mask(value: Any) -> Any:
        return MASK if value not in (None, "") else value

    def data(d: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if d is None else {k: (mask(v) if k in secrets else v) for k, v in d.items()}

    changes = {k: ([mask(v) for v in pair] if k in secrets else pair) for k, pair in (row.diff or {}).items()}
    return {"before": data(row.prechange_data), "after": data(row.postchange_data), "diff": changes}


class _LogAccess:
    request: HttpRequest

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not may_view_log(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class _Filtered(_LogAccess):
    def filtered(self) -> QuerySet[ObjectChange]:
        base = visible_changes(self.request.user).select_related("changed_object_type")
        self.filterset = ObjectChangeFilterSet(self.request.GET or None, queryset=base, user=self.request.user)
        return self.filterset.qs if self.filterset.is_bound else base


def _tabs(request: HttpRequest) -> dict[str, Any]:
    """The query strings of the list (without ``page``) and of the other tab (the shared filters only)."""
    query = request.GET.copy()
    query.pop("page", None)
    shared = QueryDict(mutable=True)
    for name in SHARED_FILTERS:
        if query.get(name):
            shared[name] = query[name]
    return {"query": query.urlencode(), "shared_query": shared.urlencode(),
            "may_view_log": may_view_log(request.user), "may_view_logins": may_view_logins(request.user)}


class ChangeListView(_Filtered, ListView):
    template_name = "audit/change_list.html"
    paginate_by = settings.PAGINATE_BY
    context_object_name = "changes"

    def get_queryset(self) -> QuerySet[ObjectChange]:
        return self.filtered()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context |= _tabs(self.request) | {"filter": self.filterset,
                                          "rows": [(row, masked(row)["diff"]) for row in context["changes"]]}
        return context


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> str:
    return neutralise_formula("" if value is None else str(value))


def csv_rows(rows: QuerySet[ObjectChange]) -> Iterator[list[str]]:
    """The CSV export: a header, then one row per change; every cell neutralised (OWASP CSV injection)."""
    yield list(CSV_COLUMNS)
    for row in rows.iterator(chunk_size=500):
        ct = row.changed_object_type
        yield [_cell(v) for v in (
            row.time.isoformat(), row.user_name, row.remote_addr, row.request_id, row.action,
            f"{ct.app_label}.{ct.model}", row.changed_object_id, row.object_repr,
            json.dumps(masked(row)["diff"], ensure_ascii=False, sort_keys=True),
        )]


class ChangeExportView(_Filtered, View):
    def get(self, request: HttpRequest) -> StreamingHttpResponse:
        writer = csv.writer(_Echo())
        response = StreamingHttpResponse((writer.writerow(r) for r in csv_rows(self.filtered())),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="linewatch-changes.csv"'
        return response


class ChangeDetailView(_LogAccess, DetailView):
    template_name = "audit/change_detail.html"
    context_object_name = "change"

    def get_queryset(self) -> QuerySet[ObjectChange]:
        return visible_changes(self.request.user).select_related("changed_object_type")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        data = masked(self.object)
        fields = sorted(set(data["before"] or {}) | set(data["after"] or {}))
        context["fields"] = [(f, (data["before"] or {}).get(f), (data["after"] or {}).get(f), f in data["diff"])
                             for f in fields]
        return context


class ObjectHistoryView(_LogAccess, ListView):
    template_name = "audit/object_history.html"
    paginate_by = settings.PAGINATE_BY
    context_object_name = "changes"

    def get_queryset(self) -> QuerySet[ObjectChange]:
        try:
            self.object_type = ContentType.objects.get_by_natural_key(self.kwargs["app_label"], self.kwargs["model"])
        except ContentType.DoesNotExist:
            raise Http404(_("No such object type.")) from None
        if not may_view_history(self.request.user, self.object_type):
            raise PermissionDenied
        return visible_changes(self.request.user).filter(
            changed_object_type=self.object_type, changed_object_id=self.kwargs["object_id"]
        ).select_related("changed_object_type")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        model = self.object_type.model_class()
        current = None
        if model is not None:
            current = model._default_manager.filter(pk=self.kwargs["object_id"]).first()
        latest = self.get_queryset().first()
        context |= {
            "object_type_name": model._meta.verbose_name if model is not None else self.object_type.model,
            "current": current,
            "title": str(current) if current is not None else (latest.object_repr if latest else ""),
            "rows": [(row, masked(row)["diff"]) for row in context["changes"]],
        }
        return context


class _LoginLogAccess:
    request: HttpRequest

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not may_view_logins(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]

    def filtered(self) -> QuerySet[LoginEvent]:
        base = LoginEvent.objects.all()
        self.filterset = LoginEventFilterSet(self.request.GET or None, queryset=base)
        return self.filterset.qs if self.filterset.is_bound else base


class LoginListView(_LoginLogAccess, ListView):
    """The login log beside the change log: logins, logouts, failed logins and lockouts, newest first."""

    template_name = "audit/login_list.html"
    paginate_by = settings.PAGINATE_BY
    context_object_name = "events"

    def get_queryset(self) -> QuerySet[LoginEvent]:
        return self.filtered()

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(**kwargs) | _tabs(self.request) | {"filter": self.filterset}


def login_csv_rows(rows: QuerySet[LoginEvent]) -> Iterator[list[str]]:
    """The login log's CSV export: a header, then one row per event; every cell neutralised (never a password:
    the log holds none)."""
    yield list(LOGIN_CSV_COLUMNS)
    for row in rows.iterator(chunk_size=500):
        yield [_cell(v) for v in (row.time.isoformat(), row.kind, row.user_name, row.remote_addr, row.request_id,
                                  row.backend)]


class LoginExportView(_LoginLogAccess, View):
    def get(self, request: HttpRequest) -> StreamingHttpResponse:
        writer = csv.writer(_Echo())
        response = StreamingHttpResponse((writer.writerow(r) for r in login_csv_rows(self.filtered())),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="linewatch-logins.csv"'
        return response
