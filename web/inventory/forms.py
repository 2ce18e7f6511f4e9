"""Model forms. Secrets (SNMP community and keys) are write-only: never rendered, kept when left empty."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.utils.translation import gettext_lazy as _

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
