"""Server-rendered pages (login required: middleware): the line list, the line, carrier, site, device and contract
pages, the carrier, site and device lists, and the add/edit forms (with their inline rows).

Permissions: :mod:`web.accounts.permissions`, the check the API uses too."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from html import escape as escape_html
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Case, Count, F, Model, ProtectedError, Q, QuerySet, Sum, When
from django.forms import BaseForm, ModelForm, modelform_factory
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.generic import CreateView, DetailView, ListView, UpdateView, View
from pydantic import ValidationError as PydanticValidationError

from billing_etl import config as billing
from linewatch.choices import ContactRole, LineStatus, LineType
from web.accounts.permissions import ModelPermissionRequiredMixin, changeable_fields, is_permitted, restrict
from web.inventory import poll
from web.inventory.filtersets import LineFilterSet
from web.inventory.forms import (
    CARRIER_INLINES,
    CONTRACT_INLINES,
    INLINES,
    LINE_FORM_FIELDS,
    LINE_INLINES,
    MAX_ROWS,
    CarrierForm,
    ContractForm,
    DeviceForm,
    Inline,
    LineForm,
    ParentFormMixin,
    SiteForm,
    inline_formset,
    new_row,
)
from web.inventory.models import Carrier, Contract, Device, Line, LineMember, Site
from web.inventory.models.lines import capacities_now
from web.labels import choices_of

_LINE_RELATED = ("carrier", "site", "department", "cost_centre")


@dataclass(frozen=True, slots=True)
class LineRow:
    """One row of the line list, read with ``values()`` (no model instances: bench ``web-lines``)."""

    pk: int
    name: str
    url: str
    carrier: str
    carrier_url: str
    circuit_id: str
    type_label: str
    status_label: str
    status_colour: str
    site: str
    site_url: str
    department: str
    capacity_mbps: int
    interfaces: str

    def html(self) -> SafeString:
        """The row's ``<tr>`` (every value escaped): one template variable per row, not a dozen (the table's
        variables were most of the page's time: bench ``web-lines``)."""
        values = (self.url, self.name, self.carrier_url, self.carrier, self.circuit_id, self.type_label,
                  self.status_colour, self.status_label, self.site_url, self.site, self.department,
                  localize(self.capacity_mbps), self.interfaces)
        return mark_safe(_ROW_HTML.format(*(escape_html(str(v)) for v in values)))


# Each value escaped by html.escape, as Django's escape() does (without its lazy-string wrapper: a third of the
# time of format_html here).
_ROW_HTML = ('<tr><td><a href="{}">{}</a></td><td><a href="{}">{}</a></td><td>{}</td><td>{}</td>'
             '<td><span class="badge badge-{}">{}</span></td><td><a href="{}">{}</a></td><td>{}</td><td>{}</td>'
             "<td>{}</td></tr>\n")

_ROW_VALUES = ("pk", "name", "circuit_id", "type", "status", "capacity_bps", "carrier_id", "carrier__name",
               "site_id", "site__name", "department__name")
_PK_SLOT = 987654321  # a key no URL pattern holds otherwise: replaced by each row's key


def _url_format(view: str) -> str:
    """``reverse(view, args=[pk])`` as a format string: one ``reverse()`` per page, not three per row."""
    return reverse(view, args=[_PK_SLOT]).replace(str(_PK_SLOT), "{}")


def line_rows(values: list[dict[str, Any]]) -> list[LineRow]:
    """The rows of ``values`` (dicts of :data:`_ROW_VALUES`) with their interfaces: one query for all members."""
    interfaces: dict[int, list[str]] = {}
    members = (LineMember.objects.filter(line_id__in=[v["pk"] for v in values])
               .order_by("role", "device__name", "interface", "if_index")  # the model's order, without its join
               .values_list("line_id", "device__name", "interface", "if_index"))
    for line_id, device, interface, if_index in members:
        interfaces.setdefault(line_id, []).append(f"{device} {interface or f'ifIndex:{if_index}'}")
    capacity_now = capacities_now([v["pk"] for v in values])
    types = {key: str(label) for key, label in choices_of(LineType)}
    statuses = {key: str(label) for key, label in choices_of(LineStatus)}
    line_url, carrier_url, site_url = (_url_format(f"inventory:{view}_detail") for view in ("line", "carrier", "site"))
    return [LineRow(pk=v["pk"], name=v["name"], url=line_url.format(v["pk"]), carrier=v["carrier__name"],
                    carrier_url=carrier_url.format(v["carrier_id"]), circuit_id=v["circuit_id"],
                    type_label=types.get(v["type"], v["type"]), status_label=statuses.get(v["status"], v["status"]),
                    status_colour=LineStatus(v["status"]).colour, site=v["site__name"],
                    site_url=site_url.format(v["site_id"]), department=v["department__name"],
                    capacity_mbps=round(capacity_now.get(v["pk"], v["capacity_bps"]) / 1_000_000),
                    interfaces=", ".join(interfaces.get(v["pk"], ())))
            for v in values]


class LineListView(ModelPermissionRequiredMixin, ListView):
    """The filtered, sorted list, 50 a page. The page's lines come from one ``values()`` query with their joins
    and their members from one more (a constant number of queries, no model instances)."""

    model = Line
    template_name = "inventory/line_list.html"
    paginate_by = settings.PAGINATE_BY

    def get_queryset(self) -> QuerySet[Line]:
        base = restrict(Line.objects.all(), self.request.user)
        self.filterset = LineFilterSet(self.request.GET or None, queryset=base, request=self.request)
        return self.filterset.qs if self.filterset.is_bound else base  # the count joins only what filters need

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        page = context["page_obj"]
        if page is not None:
            page.object_list = context["object_list"] = line_rows(list(page.object_list.values(*_ROW_VALUES)))
        query = self.request.GET.copy()
        query.pop("page", None)
        context |= {"filter": self.filterset, "query": query.urlencode()}
        return context

    def get_template_names(self) -> list[str]:
        if self.request.htmx:  # type: ignore[attr-defined]
            return ["inventory/_line_list_htmx.html"]  # the table, and the export links out of band
        return [self.template_name]


class LineExportView(ModelPermissionRequiredMixin, View):
    """``lines/export.csv`` and ``lines/export.xlsx``: every line the list's query string selects (filters,
    search, sort; not only the page), restricted like the list (:mod:`web.inventory.export`)."""

    model = Line
    file_format = "csv"

    def get(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        from web.inventory import export

        base = restrict(Line.objects.all(), request.user)
        filterset = LineFilterSet(request.GET or None, queryset=base, request=request)
        if filterset.is_bound and not filterset.is_valid():
            return HttpResponseBadRequest("; ".join(f"{field}: {' '.join(errors)}"
                                                    for field, errors in filterset.errors.items()))
        lines = filterset.qs if filterset.is_bound else base
        table = export.rows(lines)
        return export.xlsx_response(table) if self.file_format == "xlsx" else export.csv_response(table)


class LineDetailView(ModelPermissionRequiredMixin, DetailView):
    model = Line
    queryset = Line.objects.select_related(*_LINE_RELATED, "billing_account").prefetch_related("capacity_changes")
    template_name = "inventory/line_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        line, user, now = self.object, self.request.user, timezone.now()
        context |= {"capacity_now_bps": line.capacity_at(now),
                    "capacity_history": capacity_history(line, restrict(line.capacity_changes.all(), user)),
                    "maintenance_windows": restrict(line.maintenance_windows.current_or_upcoming(now), user)
                    .select_related("carrier").order_by("starts"),
                    "now": now}
        return context


@dataclass(frozen=True, slots=True)
class CapacityVersion:
    """One row of a line's capacity history: from when, the capacity, and who recorded it when (change log)."""

    effective: dt.datetime | dt.date | None
    capacity_bps: int
    recorded_by: str
    recorded_at: dt.datetime | None
    installed: bool = False


def capacity_history(line: Line, changes: QuerySet[Any]) -> list[CapacityVersion]:
    """The capacity as installed, then each change (by ``effective``), with the change log's last author of each."""
    from web.audit.models import ObjectChange

    changes = sorted(changes, key=lambda c: c.effective)
    authors: dict[int, tuple[str, dt.datetime]] = {}
    if changes:
        log = ObjectChange.objects.filter(
            changed_object_type=ContentType.objects.get_for_model(changes[0]),
            changed_object_id__in=[c.pk for c in changes]).order_by("time", "pk")
        for object_id, user_name, time in log.values_list("changed_object_id", "user_name", "time"):
            authors[object_id] = (user_name, time)
    rows = [CapacityVersion(effective=line.install_date, capacity_bps=line.capacity_bps, recorded_by="",
                            recorded_at=None, installed=True)]
    rows += [CapacityVersion(effective=c.effective, capacity_bps=c.capacity_bps,
                             recorded_by=authors.get(c.pk, ("", None))[0], recorded_at=authors.get(c.pk, ("", None))[1])
             for c in changes]
    return rows


def line_form_fields(user: Any) -> tuple[str, ...]:
    """The line form's fields for ``user``: those :func:`changeable_fields` allows, the rule the API applies
    (engineer, admin: every field; the NOC, who may change but not add lines: the status alone)."""
    allowed = changeable_fields(user, Line)
    return LINE_FORM_FIELDS if allowed is None else tuple(f for f in LINE_FORM_FIELDS if f in allowed)


class _Rollback(Exception):
    """A row failed its model's validation inside the save transaction: nothing of the form is kept."""


def _attach(form: BaseForm, exc: ValidationError) -> None:
    """``exc``'s errors on ``form``: on their field when the form shows it, else on the form, naming the field."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.error_dict.items():
        if name in form.fields:
            form.add_error(name, errors)
        else:
            label = form.instance._meta.get_field(name).verbose_name if name != NON_FIELD_ERRORS else None
            form.add_error(None, [f"{label}: {m}" if label else m for e in errors for m in e.messages])


class InlineEditMixin:
    """An add or edit page for a model with its :class:`~web.inventory.forms.Inline` rows (a line's interfaces,
    a carrier's accounts and contacts, a contract's discounts and tiers), saved in one transaction.

    Each row is validated by its model's ``full_clean()`` once its parent is saved (a new line's members need
    the line), then the parent once more with its rows; any error rolls everything back and the page comes back
    with the error on the row and field it concerns, keeping what the user typed. Every save is change-logged.
    """

    inlines: tuple[Inline, ...] = ()
    request: Any
    model: type[Model]
    object: Any

    def get_form_class(self) -> type[ModelForm]:
        base = super().get_form_class()  # type: ignore[misc]
        return type(base.__name__, (ParentFormMixin, base), {})

    def get_formsets(self, instance: Model, data: Any = None) -> list[BaseInlineFormSet]:
        """The inline tables the role may change; on a post, those it sent (a post without a table's management
        form, e.g. a script's written before the table existed, leaves those rows as they are)."""
        inlines = [inline for inline in self.inlines if data is None or f"{inline.prefix}-TOTAL_FORMS" in data]
        formsets = (inline_formset(inline, self.model, user=self.request.user, instance=instance, data=data)
                    for inline in inlines)
        return [fs for fs in formsets if fs is not None]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)  # type: ignore[misc]
        if "formsets" not in context:
            context["formsets"] = self.get_formsets(context["form"].instance)
        meta = self.model._meta
        try:
            cancel_url = self.object.get_absolute_url() if self.object else reverse(f"inventory:{meta.model_name}_list")
        except NoReverseMatch:  # no list page (contracts): the line list
            cancel_url = reverse("inventory:line_list")
        context |= {"verbose_name": meta.verbose_name, "cancel_url": cancel_url}
        return context

    def post(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        self.object = self.get_object() if isinstance(self, UpdateView) else None
        form = self.get_form()  # type: ignore[attr-defined]
        formsets = self.get_formsets(form.instance, request.POST)
        valid = form.is_valid()  # first: the rows are checked against the parent's new values
        rows_valid = [fs.is_valid() for fs in formsets]  # every formset, so each shows its errors
        valid = all(rows_valid) and valid
        if valid and self.save_all(form, formsets):
            return HttpResponseRedirect(self.object.get_absolute_url())
        return self.render_to_response(  # type: ignore[attr-defined]
            self.get_context_data(form=form, formsets=formsets))

    def save_all(self, form: ModelForm, formsets: list[BaseInlineFormSet]) -> bool:
        """Save the parent and its rows in one transaction; False (nothing saved, errors on the forms) if any
        model refuses."""
        adding = form.instance._state.adding
        created: list[Model] = []
        deleted: list[tuple[Model, Any]] = []
        try:
            with transaction.atomic():
                ok = True
                parent = form.save()
                for fs in formsets:  # deletions first: a port moved from one row to another is free again
                    for row in fs.deleted_forms:
                        if row.instance.pk is None:
                            continue
                        pk = row.instance.pk
                        try:
                            row.instance.delete()
                        except ProtectedError as exc:  # raised before anything is deleted (as the API's 409)
                            used_by = ", ".join(sorted({str(o) for o in exc.protected_objects})[:10])
                            row.add_error(None, _("%(row)s is still used by %(used_by)s") % {
                                "row": row.instance, "used_by": used_by})
                            ok = False
                        else:
                            deleted.append((row.instance, pk))
                for fs in formsets:
                    gone = {id(row) for row in fs.deleted_forms}
                    for row in fs.forms:
                        if id(row) in gone or not row.has_changed():
                            continue
                        obj = row.instance
                        setattr(obj, fs.fk.name, parent)
                        if obj._state.adding:
                            created.append(obj)
                        try:
                            obj.full_clean()
                            obj.save()
                        except ValidationError as exc:
                            _attach(row, exc)
                            ok = False
                try:
                    parent.full_clean()  # the parent's rules over its rows (a contract's SLA tiers)
                except ValidationError as exc:
                    _attach(form, exc)
                    ok = False
                if not ok:
                    raise _Rollback
        except _Rollback:
            for obj in [form.instance, *created] if adding else created:
                obj.pk = None
                obj._state.adding = True
            for obj, pk in deleted:
                obj.pk = pk
            return False
        self.object = parent
        return True


class LineCreateView(ModelPermissionRequiredMixin, InlineEditMixin, CreateView):
    """A new line and its interfaces; the model's ``clean()`` (the YAML's rules) names the offending field."""

    model = Line
    permission_action = "add"
    form_class = modelform_factory(Line, form=LineForm, fields=LINE_FORM_FIELDS)
    inlines = LINE_INLINES
    template_name = "inventory/line_form.html"

    def get_initial(self) -> dict[str, Any]:
        return {k: v for k, v in self.request.GET.items() if k in ("carrier", "site")}


class LineUpdateView(ModelPermissionRequiredMixin, InlineEditMixin, UpdateView):
    model = Line
    permission_action = "change"
    queryset = Line.objects.select_related(*_LINE_RELATED)
    inlines = LINE_INLINES
    template_name = "inventory/line_form.html"

    def get_form_class(self) -> type[ModelForm]:
        return modelform_factory(Line, form=type("LineForm", (ParentFormMixin, LineForm), {}),
                                 fields=line_form_fields(self.request.user))


def _line_table(request: Any, lines: QuerySet[Line]) -> dict[str, Any]:
    """The line list's table (``inventory/_line_table.html``, its rows: :func:`line_rows`) for ``lines``, paged
    like the list (``?page=N`` of the page showing it)."""
    paginator = Paginator(restrict(lines, request.user).values(*_ROW_VALUES), settings.PAGINATE_BY)
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = line_rows(list(page.object_list))
    query = request.GET.copy()
    query.pop("page", None)
    return {"paginator": paginator, "page_obj": page, "query": query.urlencode()}


class SearchListView(ModelPermissionRequiredMixin, ListView):
    """A list page with a search box (``q``: any of ``search_fields``, any case) and pages of 50."""

    paginate_by = settings.PAGINATE_BY
    search_fields: tuple[str, ...] = ()
    template_name = "inventory/object_list.html"
    table_template = ""

    def get_queryset(self) -> QuerySet[Any]:
        queryset = super().get_queryset()
        q = self.request.GET.get("q", "").strip()
        if q:
            match = Q()
            for name in self.search_fields:
                match |= Q(**{f"{name}__icontains": q})
            queryset = queryset.filter(match).distinct()
        return queryset

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        query = self.request.GET.copy()
        query.pop("page", None)
        meta = self.model._meta
        context |= {"q": self.request.GET.get("q", ""), "query": query.urlencode(), "table": self.table_template,
                    "title": meta.verbose_name_plural, "add_url": f"inventory:{meta.model_name}_add",
                    "may_add": is_permitted(self.request.user, self.model, "add")}
        return context


class CarrierListView(SearchListView):
    model = Carrier
    queryset = Carrier.objects.annotate(line_count=Count("lines", distinct=True)).order_by("name")
    search_fields = ("name", "description", "billing_accounts__number", "contacts__name")
    table_template = "inventory/_carrier_table.html"


class SiteListView(SearchListView):
    model = Site
    queryset = Site.objects.annotate(line_count=Count("lines", distinct=True),
                                     device_count=Count("devices", distinct=True)).order_by("name")
    search_fields = ("name", "code", "address", "description")
    table_template = "inventory/_site_table.html"


class DeviceListView(SearchListView):
    model = Device
    queryset = Device.objects.select_related("site").annotate(
        member_count=Count("line_members", distinct=True)).order_by("name")
    search_fields = ("name", "address", "site__name")  # never the secrets (encrypted: not searchable)
    table_template = "inventory/_device_table.html"


class CarrierDetailView(ModelPermissionRequiredMixin, DetailView):
    model = Carrier
    template_name = "inventory/carrier_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        carrier, user = self.object, self.request.user
        contacts = list(restrict(carrier.contacts.all(), user))
        statuses = dict(restrict(carrier.lines.all(), user).values_list("status").annotate(n=Count("id")))
        contracts = restrict(Contract.objects.filter(line__carrier=carrier).select_related("line"), user)
        currency = Case(When(currency="", then=F("line__carrier__currency")), default=F("currency"))
        totals = (contracts.exclude(line__status=LineStatus.DECOMMISSIONED).annotate(cur=currency)
                  .values("cur").annotate(total=Sum("mrc"), n=Count("id")).order_by("cur"))
        context |= {
            "accounts": restrict(carrier.billing_accounts.all(), user),
            "contact_groups": [(label, [c for c in contacts if c.role == role])
                               for role, label in choices_of(ContactRole)],
            "status_counts": [(status, label, statuses.get(status, 0)) for status, label in choices_of(LineStatus)],
            "contracts": contracts.order_by("line__name"),
            "mrc_totals": totals,
            "add_line_query": urlencode({"carrier": carrier.pk}),
        } | _line_table(self.request, carrier.lines.all())
        return context


class SiteDetailView(ModelPermissionRequiredMixin, DetailView):
    model = Site
    template_name = "inventory/site_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        devices = self.object.devices.annotate(member_count=Count("line_members")).order_by("name")
        context |= {"devices": restrict(devices, self.request.user)} | _line_table(self.request,
                                                                                   self.object.lines.all())
        return context


class DeviceDetailView(ModelPermissionRequiredMixin, DetailView):
    """Everything about a device but its secrets (only whether each is stored), its interfaces and their lines,
    and its last poll from InfluxDB (``collector_poll``; "no data" when InfluxDB does not answer)."""

    model = Device
    queryset = Device.objects.select_related("site")
    template_name = "inventory/device_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        device = self.object
        members = restrict(device.line_members.select_related("line__carrier"), self.request.user)
        context |= {
            "members": members.order_by("line__name", "interface", "if_index"),
            "stored_secrets": [Device._meta.get_field(n).verbose_name for n in Device.secret_fields
                               if getattr(device, n)],
            "polls": poll.last_polls(settings.LINEWATCH.influx, device.name),
        }
        return context


class ContractDetailView(ModelPermissionRequiredMixin, DetailView):
    model = Contract
    queryset = Contract.objects.select_related("line__carrier")
    template_name = "inventory/contract_detail.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        contract, user = self.object, self.request.user
        context |= {"currency": contract.currency or contract.line.carrier.currency,
                    "discounts": restrict(contract.discounts.all(), user),
                    "tiers": restrict(contract.credit_tiers.all(), user),
                    "changes": restrict(contract.changes.all(), user)}
        try:  # the ETL's own reading of the terms: today's MRC after discounts, the current term's end
            terms = billing.Contract.model_validate(contract.as_config())
        except PydanticValidationError:
            return context  # saved before a rule was tightened: the page still shows every stored term
        today = timezone.localdate()
        context["mrc_today"] = terms.mrc_on(today)
        if terms.term is not None:
            end = terms.term.end(on_or_after=today)
            context |= {"term_end": end, "notice_by": end - dt.timedelta(days=terms.term.notice_days)}
        return context


class CarrierCreateView(ModelPermissionRequiredMixin, InlineEditMixin, CreateView):
    model = Carrier
    permission_action = "add"
    form_class = CarrierForm
    inlines = CARRIER_INLINES
    template_name = "inventory/object_form.html"


class CarrierUpdateView(ModelPermissionRequiredMixin, InlineEditMixin, UpdateView):
    model = Carrier
    permission_action = "change"
    form_class = CarrierForm
    inlines = CARRIER_INLINES
    template_name = "inventory/object_form.html"


class SiteCreateView(ModelPermissionRequiredMixin, InlineEditMixin, CreateView):
    model = Site
    permission_action = "add"
    form_class = SiteForm
    template_name = "inventory/object_form.html"


class SiteUpdateView(ModelPermissionRequiredMixin, InlineEditMixin, UpdateView):
    model = Site
    permission_action = "change"
    form_class = SiteForm
    template_name = "inventory/object_form.html"


class DeviceCreateView(ModelPermissionRequiredMixin, InlineEditMixin, CreateView):
    model = Device
    permission_action = "add"
    form_class = DeviceForm
    template_name = "inventory/object_form.html"

    def get_initial(self) -> dict[str, Any]:
        return {k: v for k, v in self.request.GET.items() if k == "site"}


class DeviceUpdateView(ModelPermissionRequiredMixin, InlineEditMixin, UpdateView):
    model = Device
    permission_action = "change"
    form_class = DeviceForm
    template_name = "inventory/object_form.html"


class ContractCreateView(ModelPermissionRequiredMixin, InlineEditMixin, CreateView):
    model = Contract
    permission_action = "add"
    form_class = ContractForm
    inlines = CONTRACT_INLINES
    template_name = "inventory/object_form.html"

    def get_initial(self) -> dict[str, Any]:
        return {k: v for k, v in self.request.GET.items() if k == "line"}


class ContractUpdateView(ModelPermissionRequiredMixin, InlineEditMixin, UpdateView):
    model = Contract
    permission_action = "change"
    queryset = Contract.objects.select_related("line__carrier")
    form_class = ContractForm
    inlines = CONTRACT_INLINES
    template_name = "inventory/object_form.html"


class InlineRowView(View):
    """``GET /inventory/rows/PREFIX/?PREFIX-TOTAL_FORMS=N`` (htmx, the forms' *Add a row*): row N of that inline
    table, empty, and the management form's ``TOTAL_FORMS`` raised to N + 1 (an out-of-band swap). Only for a
    role that may add such rows (the permission the save checks)."""

    def get(self, request: Any, prefix: str) -> HttpResponse:
        if prefix not in INLINES:
            raise Http404(prefix)
        parent, inline = INLINES[prefix]
        if not (is_permitted(request.user, inline.model, "add") and is_permitted(request.user, parent, "view")):
            raise PermissionDenied
        try:
            index = int(request.GET.get(f"{prefix}-TOTAL_FORMS", ""))
        except ValueError:
            return HttpResponseBadRequest(f"{prefix}-TOTAL_FORMS: a number of rows is needed")
        if not 0 <= index < MAX_ROWS:
            return HttpResponseBadRequest(f"{prefix}-TOTAL_FORMS: at most {MAX_ROWS} rows")
        formset = inline_formset(inline, parent, user=request.user, instance=parent())
        if formset is None:  # may add but not change such rows: no role is so (web/accounts/roles.py)
            raise PermissionDenied
        return TemplateResponse(request, "inventory/_formset_new_row.html",
                                {"formset": formset, "row": new_row(formset, index), "total": index + 1})
