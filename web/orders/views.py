"""The orders' pages: the list (filters, "my steps"), a request form per kind, the detail page (stage bar, steps,
the moves the user may make, timeline, attachments, comments, checklist, acceptance and verification figures).
Every change goes through :mod:`web.orders.services`, as the API's do; a refused move is 403 naming the roles."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.forms import BaseForm, ModelForm, modelform_factory
from django.forms.widgets import DateInput, DateTimeInput
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views import View

from linewatch.choices import OrderKind, OrderState
from web.accounts.permissions import is_permitted, restrict
from web.orders import services, workflow
from web.orders.filtersets import OrderFilterSet
from web.orders.labels import LABELS, TRANSITION_LABELS
from web.orders.models import Order, OrderAttachment, OrderStep, RecoveryItem

PAGE_SIZE = 50


class _Date(DateInput):
    input_type = "date"


class _DateTime(DateTimeInput):
    input_type = "datetime-local"


def _form_class(fields: tuple[str, ...]) -> type[ModelForm]:
    widgets = {name: _Date() for name in ("requested_date", "notice_date", "promised_date", "carrier_confirmed_on")
               if name in fields} | ({"effective_at": _DateTime()} if "effective_at" in fields else {})
    return modelform_factory(Order, fields=fields, widgets=widgets)


def move_form(name: str, data: Any = None, *, prefix: str | None = None) -> BaseForm:
    form = _form_class(services.MOVE_FIELDS.get(name, ()))(data, prefix=prefix or name)
    for field in form.fields.values():
        field.required = False
    return form


def _visible(request: HttpRequest) -> Any:
    if not is_permitted(request.user, Order, "view"):
        raise PermissionDenied
    return restrict(Order.objects.all(), request.user)


class OrderListView(View):
    def get(self, request: HttpRequest) -> HttpResponse:
        orders = _visible(request).select_related("line", "site").prefetch_related("steps__assignee")
        filterset = OrderFilterSet(request.GET, queryset=orders, request=request)
        page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
        return TemplateResponse(request, "orders/order_list.html", {
            "filter": filterset, "page": page, "kinds": list(OrderKind),
            "may_add": is_permitted(request.user, Order, "add")})


class OrderCreateView(View):
    def _form(self, kind: OrderKind, data: Any = None) -> BaseForm:
        form = _form_class(services.REQUEST_FIELDS[kind])(data)
        for name, field in form.fields.items():
            field.required = name in services.REQUIRED[kind]
        return form

    def _kind(self, request: HttpRequest, kind: str) -> OrderKind:
        if not is_permitted(request.user, Order, "add"):
            raise PermissionDenied
        try:
            return OrderKind(kind)
        except ValueError:
            raise Http404(kind) from None

    def get(self, request: HttpRequest, kind: str) -> HttpResponse:
        k = self._kind(request, kind)
        initial = {"line": request.GET["line"]} if request.GET.get("line") else None
        form = self._form(k)
        if initial:
            form.initial.update(initial)
        return self._page(request, k, form)

    def post(self, request: HttpRequest, kind: str) -> HttpResponse:
        k = self._kind(request, kind)
        form = self._form(k, request.POST)
        if form.is_valid():
            values = {n: v for n, v in form.cleaned_data.items() if v not in (None, "")}
            items = request.POST.get("recovery_items", "").splitlines()
            try:
                order = services.create_order(kind=k, user=request.user, values=values, recovery_items=items)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                return HttpResponseRedirect(order.get_absolute_url())
        return self._page(request, k, form, status=400)

    def _page(self, request: HttpRequest, kind: OrderKind, form: BaseForm, status: int = 200) -> HttpResponse:
        return TemplateResponse(request, "orders/order_form.html", {
            "form": form, "kind": kind, "kind_label": LABELS[OrderKind][kind],
            "termination": kind is OrderKind.TERMINATION}, status=status)


def _add_errors(form: BaseForm, exc: ValidationError) -> None:
    for field, messages in (exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]):
        for message in messages:
            form.add_error(field if field in form.fields else None, message)


def _order(request: HttpRequest, pk: int) -> Order:
    return get_object_or_404(_visible(request).select_related("line", "site", "carrier", "device"), pk=pk)


class OrderDetailView(View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return render_detail(request, _order(request, pk))


def render_detail(request: HttpRequest, order: Order, *, failed: dict[str, BaseForm] | None = None,
                  error: str = "", status: int = 200) -> HttpResponse:
    from django.contrib.auth import get_user_model

    failed = failed or {}
    kind, state = order.kind_enum, order.state_enum
    path = workflow.stages(kind)
    reached = path.index(state) if state in path else -1
    moves = [{"name": m.name, "label": TRANSITION_LABELS[m.name], "form": failed.get(m.name) or move_form(m.name),
              "danger": not m.forward} for m in services.available_moves(order, request.user)]
    roles = services.user_roles(request.user)
    may_work = bool(roles & (services.STEP_ROLES | {services.Role.ADMIN}))
    return TemplateResponse(request, "orders/order_detail.html", {
        "order": order, "stages": [{"state": s, "label": LABELS[OrderState][s], "done": i < reached,
                                    "current": i == reached} for i, s in enumerate(path)],
        "off_path": state not in path, "state_label": LABELS[OrderState][state],
        "steps": order.steps.select_related("assignee"), "events": order.events.select_related("actor"),
        "moves": moves, "error": error, "may_work": may_work,
        "may_comment": bool(roles & (services.WORKING_ROLES | {services.Role.ADMIN})),
        "users": get_user_model().objects.filter(is_active=True).order_by("username") if may_work else [],
        "recovery_items": order.recovery_items.all(), "attachments": order.attachments.all(),
        "acceptance": order.acceptance, "verification": order.verification, "terms": order.terms,
    }, status=status)


class TransitionView(View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        order = _order(request, pk)
        name = request.POST.get("transition", "")
        form = move_form(name, request.POST)
        if not form.is_valid():
            return render_detail(request, order, failed={name: form}, status=400)
        values = {n: v for n, v in form.cleaned_data.items() if v not in (None, "")}
        if "fee_acknowledged" in form.fields:
            values["fee_acknowledged"] = bool(form.cleaned_data.get("fee_acknowledged"))
        try:
            services.transition(order, name, user=request.user, values=values, text=request.POST.get("comment", ""))
        except services.NotPermitted as exc:
            raise PermissionDenied(str(exc)) from None
        except services.NotAvailable as exc:
            return render_detail(request, order, error=str(exc), status=409)
        except ValidationError as exc:
            _add_errors(form, exc)
            return render_detail(request, Order.objects.get(pk=order.pk), failed={name: form}, status=400)
        return HttpResponseRedirect(order.get_absolute_url())


def _refusals(fn: Any) -> Any:
    """A service call from a page: its refusal as 403, a validation error shown on the detail page (400)."""

    def call(request: HttpRequest, order: Order, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            fn(*args, **kwargs)
        except services.NotPermitted as exc:
            raise PermissionDenied(str(exc)) from None
        except ValidationError as exc:
            return render_detail(request, order, error="; ".join(exc.messages), status=400)
        return HttpResponseRedirect(order.get_absolute_url())

    return call


class CommentView(View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        order = _order(request, pk)
        return _refusals(services.comment)(request, order, order, user=request.user,
                                           text=request.POST.get("text", ""))


class AttachView(View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        order = _order(request, pk)
        return _refusals(services.add_attachment)(request, order, order, user=request.user,
                                                  upload=request.FILES.get("file"),
                                                  title=request.POST.get("title", ""))


class AttachmentDownloadView(View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        from web.inventory.documents import download_response

        attachment = get_object_or_404(OrderAttachment.objects.filter(order__in=_visible(request)), pk=pk)
        return download_response(attachment)  # stored as the inventory's documents are: the same response


class StepAssignView(View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        from django.contrib.auth import get_user_model

        step = get_object_or_404(OrderStep.objects.filter(order__in=_visible(request)), pk=pk)
        assignee_id = request.POST.get("assignee") or None
        assignee = get_object_or_404(get_user_model(), pk=assignee_id) if assignee_id else None
        due = request.POST.get("due_date") or None
        try:
            import datetime as dt

            due_date = dt.date.fromisoformat(due) if due else None
        except ValueError:
            return render_detail(request, step.order, error=_("due date: give a date (YYYY-MM-DD)"), status=400)
        return _refusals(services.assign_step)(request, step.order, step, user=request.user, assignee=assignee,
                                               due_date=due_date)


class RecoveryItemView(View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        order = _order(request, pk)
        name = request.POST.get("name")
        if name is not None:
            return _refusals(services.add_recovery_item)(request, order, order, user=request.user, name=name)
        item = get_object_or_404(RecoveryItem.objects.filter(order=order), pk=request.POST.get("item"))
        return _refusals(services.set_recovery_item)(request, order, item, user=request.user,
                                                     done=request.POST.get("done") == "1")
