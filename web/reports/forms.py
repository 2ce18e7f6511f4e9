"""The reports' forms: the preview (any report, any period, language, department) and a schedule (its recipients
as users, alerts.yaml receivers and addresses, stored as one list: :func:`web.reports.models.recipient_entries`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from linewatch.choices import Language, ReportFormat
from web.inventory.models import Department
from web.reports import engine
from web.reports.labels import LANGUAGE_CHOICES
from web.reports.models import ReportSchedule
from web.reports.period import PeriodError, parse_period
from web.reports.recipients import report_receivers


def report_choices() -> list[tuple[str, str]]:
    """Every report (built-in and the users' folder), titled in the active language."""
    from django.utils.translation import get_language

    language = get_language() or Language.EN.value
    lang = Language.KO.value if language.startswith(Language.KO.value) else Language.EN.value
    return [(d.name, f"{d.title_in(lang)} ({d.name})") for d in engine.definitions()]


class PreviewForm(forms.Form):
    """A report to render now. The period: ``2026-11`` or ``2026-W47`` as the report's kind, empty for the last
    complete one."""

    report = forms.ChoiceField(label=_("Report"), choices=())
    period = forms.CharField(label=_("Period"), required=False, max_length=16,
                             help_text=_("2026-11 (a month) or 2026-W47 (a week); empty: the last complete one"))
    language = forms.ChoiceField(label=_("Language"), choices=LANGUAGE_CHOICES, initial=Language.EN.value)
    department = forms.ModelChoiceField(label=_("Department"), queryset=Department.objects.all(), required=False,
                                        empty_label=_("every department"), to_field_name="name")
    # Not shown: the page previews HTML and links the PDF; the render view takes either.
    format = forms.ChoiceField(label=_("format"), choices=[(f.value, f.value.upper()) for f in ReportFormat],
                               initial=ReportFormat.HTML.value, required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["report"].choices = report_choices()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        name, period = data.get("report"), (data.get("period") or "").strip()
        if name and period:
            defn = engine.get(name)
            try:
                data["period"] = parse_period(period, kind=defn.period_kind).key
            except PeriodError as exc:
                self.add_error("period", str(exc))
        data["format"] = data.get("format") or ReportFormat.HTML.value
        return data

    def render_kwargs(self) -> dict[str, Any]:
        """The engine's keyword arguments for the valid form."""
        data = self.cleaned_data
        department = data.get("department")
        return {"period": data.get("period") or None, "language": data["language"],
                "department": department.name if department else None}


class ScheduleForm(forms.ModelForm):
    report = forms.ChoiceField(label=_("Report"), choices=())
    users = forms.ModelMultipleChoiceField(label=_("Users"), required=False,
                                           queryset=get_user_model().objects.none(),
                                           help_text=_("each in their own language's mail; only users with an email "
                                                       "address are listed"))
    receivers = forms.MultipleChoiceField(label=_("Receivers"), required=False, choices=(),
                                          help_text=_("email or Slack receivers of alerts.yaml"))
    addresses = forms.CharField(label=_("Email addresses"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                help_text=_("one per line"))

    class Meta:
        model = ReportSchedule
        fields = ("name", "report", "language", "department", "send_hour", "enabled")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["report"].choices = report_choices()
        self.fields["department"].empty_label = _("every department")
        self.fields["users"].queryset = get_user_model().objects.filter(is_active=True).exclude(
            email="").order_by("username")
        names = report_receivers()
        current = [e["receiver"] for e in self.instance.recipients if "receiver" in e]
        self.fields["receivers"].choices = [(n, n) for n in sorted({*names, *current})]
        if self.instance.pk:
            entries = self.instance.recipients
            self.initial.setdefault("users", [e["user"] for e in entries if "user" in e])
            self.initial.setdefault("receivers", current)
            self.initial.setdefault("addresses", "\n".join(e["email"] for e in entries if "email" in e))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        entries: list[dict[str, Any]] = [{"user": u.pk} for u in data.get("users") or ()]
        entries += [{"receiver": name} for name in data.get("receivers") or ()]
        entries += [{"email": line.strip()} for line in (data.get("addresses") or "").splitlines() if line.strip()]
        self.instance.recipients = entries
        name = data.get("report")
        defn = next((d for d in engine.definitions() if d.name == name), None)
        if defn is not None:
            self.instance.period_kind = defn.period_kind.value  # a schedule follows its report's period
        return data

    def _update_errors(self, errors: ValidationError) -> None:
        """The model's errors on fields the form shows differently land on the form's fields (recipients: the
        addresses field; period kind: the report)."""
        if hasattr(errors, "error_dict"):
            moved: dict[str, list[Any]] = {}
            for field, messages in errors.error_dict.items():
                target = {"recipients": "addresses", "period_kind": "report"}.get(field, field)
                moved.setdefault(target, []).extend(messages)
            errors = ValidationError(moved)
        super()._update_errors(errors)
