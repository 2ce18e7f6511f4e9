"""Pages of the outbox (admin) and the message templates (admin; engineers and the NOC for a carrier's)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import CreateView, ListView, UpdateView

from linewatch.choices import DeliveryStatus, MessageKind, Role
from web.accounts.permissions import ModelPermissionRequiredMixin
from web.notify.labels import STATUS_CHOICES, kind_label
from web.notify.models import MessageTemplate, OutboxMessage
from web.notify.outbox import retry, with_attachment_names
from web.notify.templates import builtin, check_template


def _is_admin(user: Any) -> bool:
    return user.is_superuser or user.groups.filter(name=Role.ADMIN.value).exists()


class OutboxListView(ModelPermissionRequiredMixin, ListView):
    model = OutboxMessage
    template_name = "notify/outbox_list.html"
    paginate_by = 50

    def get_queryset(self) -> QuerySet[OutboxMessage]:
        qs = with_attachment_names(super().get_queryset().select_related("about_type"))
        status = self.request.GET.get("status")
        return qs.filter(status=status) if status in set(DeliveryStatus) else qs

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(**kwargs) | {"statuses": STATUS_CHOICES,
                                                     "status": self.request.GET.get("status", "")}


class OutboxRetryView(ModelPermissionRequiredMixin, View):
    """POST: queue an expired message again (change-logged)."""

    model = OutboxMessage
    permission_action = "change"

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        msg = get_object_or_404(OutboxMessage, pk=pk, status=DeliveryStatus.EXPIRED)
        retry(msg)
        return HttpResponseRedirect(reverse("notify:outbox") + "?status=pending")


class TemplateForm(forms.ModelForm):
    kind = forms.ChoiceField(label=_("kind"), choices=[])

    class Meta:
        model = MessageTemplate
        fields = ("kind", "carrier", "language", "subject", "body")
        widgets = {"body": forms.Textarea(attrs={"rows": 14})}  # noqa: RUF012  (Django reads it)

    def __init__(self, *args: Any, admin: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.admin = admin
        self.fields["kind"].choices = [(k.value, kind_label(k.value)) for k in MessageKind]

    def clean_carrier(self) -> Any:
        carrier = self.cleaned_data.get("carrier")
        if carrier is None and not self.admin:
            raise ValidationError(_("Only administrators edit the templates for every carrier: choose a carrier."))
        return carrier


class _TemplateEdit(ModelPermissionRequiredMixin):
    model = MessageTemplate
    form_class = TemplateForm
    template_name = "notify/template_form.html"

    def get_queryset(self) -> QuerySet[MessageTemplate]:
        qs = super().get_queryset()  # type: ignore[misc]
        return qs if _is_admin(self.request.user) else qs.filter(carrier__isnull=False)  # type: ignore[attr-defined]

    def get_form_kwargs(self) -> dict[str, Any]:
        kwargs = super().get_form_kwargs()  # type: ignore[misc]
        kwargs["admin"] = _is_admin(self.request.user)  # type: ignore[attr-defined]
        if self.request.method == "GET" and "kind" in self.request.GET:  # type: ignore[attr-defined]
            kind, language = self.request.GET["kind"], self.request.GET.get("language", "en")  # type: ignore[attr-defined]
            try:
                src = builtin(kind, language)
                kwargs["initial"] = {"kind": kind, "language": language, "subject": src.subject, "body": src.body}
            except LookupError:
                pass
        return kwargs

    def form_valid(self, form: TemplateForm) -> HttpResponse:
        if "preview" in self.request.POST:  # type: ignore[attr-defined]
            data = form.cleaned_data
            try:
                preview = check_template(data["kind"], subject=data["subject"], body=data["body"])
            except ValidationError as exc:
                form.add_error(None, exc)
                return self.form_invalid(form)  # type: ignore[attr-defined]
            return self.render_to_response(self.get_context_data(form=form, preview=preview))  # type: ignore[attr-defined]
        return super().form_valid(form)  # type: ignore[misc]

    def get_success_url(self) -> str:
        return reverse("notify:templates")


class TemplateCreateView(_TemplateEdit, CreateView):
    permission_action = "add"


class TemplateUpdateView(_TemplateEdit, UpdateView):
    permission_action = "change"


class TemplateListView(ModelPermissionRequiredMixin, ListView):
    model = MessageTemplate
    template_name = "notify/template_list.html"

    def get_queryset(self) -> QuerySet[MessageTemplate]:
        return super().get_queryset().select_related("carrier")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        kinds = [(k.value, kind_label(k.value)) for k in MessageKind]
        return super().get_context_data(**kwargs) | {"kinds": kinds, "admin": _is_admin(self.request.user)}


