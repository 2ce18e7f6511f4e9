"""Model forms and the inline formsets of the add/edit pages. Secrets (SNMP community and keys) are write-only:
never rendered, kept when left empty.

An :class:`Inline` names the child rows edited with their parent (a line's member interfaces, a carrier's billing
accounts and contacts, a contract's discounts and SLA tiers); :func:`inline_formset` builds its formset for a user:
none unless the role may change those rows, rows added only if it may add them, deleted only if it may delete them
(the permissions of the API's endpoints for the same rows, by the same function).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.forms.models import BaseInlineFormSet, construct_instance, inlineformset_factory
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from web.accounts.permissions import is_permitted
from web.inventory import models
from web.inventory.models import Device


class SecretInput(forms.PasswordInput):
    """A password input that never renders the stored value (``render_value=False``)."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"autocomplete": "new-password", **(attrs or {})}, render_value=False)


class DeviceForm(forms.ModelForm):
    class Meta:
        model = Device
        fields = ("name", "address", "port", "site", "snmp_version", "snmp_community", "snmp_user",
                  "security_level", "auth_protocol", "auth_key", "priv_protocol", "priv_key", "timeout_s",
                  "retries")
        widgets: ClassVar[dict[str, forms.Widget]] = {name: SecretInput() for name in Device.secret_fields}

    clear_secrets = forms.MultipleChoiceField(
        label=_("Clear stored secrets"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[(name, Device._meta.get_field(name).verbose_name) for name in Device.secret_fields])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in Device.secret_fields:
            stored = bool(self.instance.pk and getattr(self.instance, name))
            self.fields[name].help_text = _("stored: leave empty to keep it") if stored else ""
            self.initial.pop(name, None)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        cleared = set(data.get("clear_secrets") or ())
        for name in Device.secret_fields:
            if not data.get(name) and name not in cleared and self.instance.pk:
                data[name] = getattr(self.instance, name)  # empty means "keep": the value is never sent back
                setattr(self.instance, name, data[name])
        return data


class DateInput(forms.DateInput):
    """The browser's date picker (values in ISO form, whatever the language)."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _dates(*names: str) -> dict[str, forms.Widget]:
    return {name: DateInput() for name in names}


class DateTimeInput(forms.DateTimeInput):
    """The browser's date and time picker: the moment in the user's (the active) time zone."""

    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def _moments(*names: str) -> dict[str, forms.Widget]:
    return {name: DateTimeInput() for name in names}


class CarrierForm(forms.ModelForm):
    class Meta:
        model = models.Carrier
        fields = ("name", "currency", "vendor_number", "late_fee_pct", "portal_url", "description")


class SiteForm(forms.ModelForm):
    class Meta:
        model = models.Site
        fields = ("name", "code", "address", "description")


LINE_FORM_FIELDS = ("name", "carrier", "circuit_id", "billing_account", "type", "status", "site", "department",
                    "cost_centre", "capacity_bps", "channels", "rate_plan", "install_date", "termination_date", "description")


def check_rate_plan(value: str, stored: str) -> str:
    """A voice line's ``rate_plan`` as typed, refused unless voice.yaml has the plan (a value left as it was
    stored is not checked again: a line keeps its plan while voice.yaml is edited). The form's and the API's rule."""
    from web.voice.config import rate_plan_problem

    value = (value or "").strip()
    if value and value != stored:
        problem = rate_plan_problem(value)
        if problem is not None:
            raise ValidationError(problem)
    return value


class LineForm(forms.ModelForm):
    """The line's own fields (the view picks those the role may change); ``rate_plan`` must be a voice.yaml plan."""

    def clean_rate_plan(self) -> str:
        return check_rate_plan(self.cleaned_data.get("rate_plan", ""), self.instance.rate_plan if self.instance.pk
                               else "")


class ContractForm(forms.ModelForm):
    class Meta:
        model = models.Contract
        fields = ("line", "currency", "mrc", "commit_bps", "billing_model", "direction", "price_per_mbps",
                  "included_gb", "price_per_gb", "gb_unit", "proration", "price_per_channel", "sla_target_pct",
                  "sla_cap_pct",
                  "term_start", "term_months", "auto_renew", "renewal_months", "notice_days",
                  "early_termination_pct")
        widgets: ClassVar[dict[str, forms.Widget]] = _dates("term_start")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["early_termination_pct"].required = False  # empty: the default, every remaining month

    def clean_early_termination_pct(self) -> Any:
        value = self.cleaned_data.get("early_termination_pct")
        return models.Contract._meta.get_field("early_termination_pct").default if value is None else value


class ParentFormMixin:
    """For a form saved with its inline rows: the fields, constraints and uniqueness are checked as usual, but
    the model's ``clean()`` — rules that may concern the rows too (a contract's SLA target needs its tiers) — is
    left to the save transaction, which runs ``full_clean()`` once the rows are saved (web/inventory/views.py
    ``InlineEditMixin``)."""

    def _post_clean(self) -> None:
        opts = self._meta  # type: ignore[attr-defined]
        exclude = self._get_validation_exclusions()  # type: ignore[attr-defined]
        try:
            self.instance = construct_instance(self, self.instance, opts.fields, opts.exclude)  # type: ignore
        except ValidationError as exc:
            self._update_errors(exc)  # type: ignore[attr-defined]
        for check in (self.instance.clean_fields, self.instance.validate_constraints):
            try:
                check(exclude=exclude)
            except ValidationError as exc:
                self._update_errors(exc)  # type: ignore[attr-defined]
        self.validate_unique()  # type: ignore[attr-defined]


class InlineFormSet(BaseInlineFormSet):
    """An inline formset whose rows may be added only when ``can_add`` (the role's add permission)."""

    can_add = True

    def clean(self) -> None:
        super().clean()
        if not self.can_add and any(form.has_changed() for form in self.extra_forms):
            raise forms.ValidationError(_("your role may not add %(rows)s") % {
                "rows": self.model._meta.verbose_name_plural})


class LineMemberFormSet(InlineFormSet):
    """A line's interfaces, checked together with the line's new values by the core's rules over a line's
    members (a polled line needs one, no duplicate, one primary with backups only): the error goes on the row
    and field that breaks the rule, before anything is saved."""

    def clean(self) -> None:
        super().clean()
        rows = []
        for row in self.forms:
            if self.can_delete and self._should_delete_form(row):
                continue
            if row.errors:
                return  # the row's own errors first
            if row.instance.pk is None and not row.has_changed():
                continue  # an empty extra row
            data = row.cleaned_data
            member = models.LineMember(device=data.get("device"), interface=data.get("interface") or "",
                                       if_index=data.get("if_index"), role=data.get("role") or "")
            rows.append((row, member.member()))
        problem = self.instance.members_problem([m for _, m in rows])
        if problem is None:
            return
        if problem.row is None:
            raise forms.ValidationError(problem.message)
        row = rows[problem.row][0]
        row.add_error(problem.field if problem.field in row.fields else None, problem.message)


@dataclass(frozen=True)
class Inline:
    """Child rows edited on their parent's form, in one transaction with it."""

    model: type[Model]
    fields: tuple[str, ...]
    prefix: str
    title: str | Promise
    widgets: dict[str, forms.Widget] | None = None
    formset: type[InlineFormSet] = InlineFormSet


LINE_INLINES = (Inline(models.LineMember, ("device", "interface", "if_index", "role"), "members", _("Interfaces"),
                       formset=LineMemberFormSet),
                Inline(models.CapacityChange, ("effective", "capacity_bps"), "capacity_changes",
                       _("Capacity changes"), widgets=_moments("effective")))
CARRIER_INLINES = (
    Inline(models.BillingAccount, ("number", "name", "description"), "accounts", _("Billing accounts")),
    Inline(models.Contact, ("role", "name", "email", "phone", "escalation_level", "notes"), "contacts",
           _("Contacts")),
)
CONTRACT_INLINES = (
    Inline(models.Discount, ("name", "percent", "amount", "valid_from", "valid_to"), "discounts", _("Discounts"),
           widgets=_dates("valid_from", "valid_to")),
    Inline(models.CreditTier, ("below_pct", "credit_pct"), "tiers", _("SLA credit tiers")),
    Inline(models.ContractChange, ("effective", *models.ContractChange.TERMS), "changes", _("Term changes"),
           widgets=_dates("effective")),
)


# Each inline by its prefix, with its parent's model: the "add a row" endpoint renders one more row of it.
INLINES: dict[str, tuple[type[Model], Inline]] = {
    inline.prefix: (parent, inline)
    for parent, inlines in ((models.Line, LINE_INLINES), (models.Carrier, CARRIER_INLINES),
                            (models.Contract, CONTRACT_INLINES))
    for inline in inlines
}
MAX_ROWS = 1000  # Django's formset default (max_num): no row beyond it is rendered or accepted


def inline_formset(inline: Inline, parent_model: type[Model], *, user: Any, instance: Model,
                   data: Any = None) -> BaseInlineFormSet | None:
    """The formset of ``inline`` for ``user`` (None when the role may not change those rows)."""
    if not is_permitted(user, inline.model, "change"):
        return None
    can_add = is_permitted(user, inline.model, "add")
    formset_class = inlineformset_factory(
        parent_model, inline.model, formset=inline.formset, fields=inline.fields, widgets=inline.widgets,
        extra=1 if can_add else 0, can_delete=is_permitted(user, inline.model, "delete"))
    formset_class.can_add = can_add
    formset = formset_class(data, instance=instance, prefix=inline.prefix)
    formset.title = inline.title
    return formset


def new_row(formset: BaseInlineFormSet, index: int) -> forms.Form:
    """An empty row numbered ``index`` of ``formset`` (what its ``empty_form`` is, under a real number)."""
    row = formset.form(**formset.get_form_kwargs(None), auto_id=formset.auto_id, prefix=formset.add_prefix(index),
                       empty_permitted=True, use_required_attribute=False, renderer=formset.renderer)
    formset.add_fields(row, None)
    return row


class PlannedMaintenanceForm(forms.ModelForm):
    """A window: its carrier, the lines of that carrier (the list follows the carrier chosen), its start and end
    in the user's time zone. The lines are checked by ``PlannedMaintenance.lines_problem`` (as the API)."""

    class Meta:
        model = models.PlannedMaintenance
        fields = ("carrier", "lines", "starts", "ends", "carrier_reference", "description")
        widgets: ClassVar[dict[str, forms.Widget]] = {"lines": forms.SelectMultiple(attrs={"size": 8}),
                                                      **_moments("starts", "ends")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lines"].queryset = lines_of(self["carrier"].value())
        # htmx: choosing a carrier replaces the lines' options with that carrier's (the chosen ones kept).
        self.fields["carrier"].widget.attrs |= {"hx-get": reverse("inventory:maintenance_lines"),
                                                "hx-target": "#id_lines", "hx-include": "#id_lines",
                                                "hx-trigger": "change"}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if "lines" in data:
            window = models.PlannedMaintenance(carrier=data.get("carrier"))  # the instance is filled after clean()
            problem = window.lines_problem(data["lines"])
            if problem is not None:
                self.add_error(None, problem)
        return data


def lines_of(carrier: Any) -> Any:
    """The lines a window of ``carrier`` (a pk, or empty: every carrier) may name, by name."""
    lines = models.Line.objects.select_related("carrier").order_by("name")
    try:
        return lines.filter(carrier_id=int(carrier)) if carrier else lines
    except (TypeError, ValueError):
        return lines
