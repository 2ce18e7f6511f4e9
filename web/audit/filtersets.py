"""Change-log and login-log filters (django-filter): user, object type or event, address, date range, request id."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _

from linewatch.choices import ChangeAction, LoginEventKind
from web.accounts.logins.models import LoginEvent
from web.audit.models import ObjectChange
from web.audit.permissions import visible_types
from web.labels import choices_of


class _TypeChoice(django_filters.ModelChoiceFilter):
    """Object types labelled by their model's verbose name (``line``, not ``inventory | line``)."""

    def label_from_instance(self, ct: ContentType) -> str:
        model = ct.model_class()
        return str(model._meta.verbose_name) if model is not None else f"{ct.app_label}.{ct.model}"


class _AddressFilter(django_filters.CharFilter):
    """An IP address, validated as one (PostgreSQL's inet column would fail on anything else)."""

    field_class = forms.GenericIPAddressField


class ObjectChangeFilterSet(django_filters.FilterSet):
    user = django_filters.CharFilter(field_name="user_name", lookup_expr="iexact", label=_("User"))
    type = _TypeChoice(field_name="changed_object_type", queryset=ContentType.objects.none(),
                       label=_("Object type"))
    action = django_filters.ChoiceFilter(choices=choices_of(ChangeAction), label=_("Action"))
    address = _AddressFilter(field_name="remote_addr", label=_("Address"))
    since = django_filters.DateFilter(field_name="time", lookup_expr="date__gte", label=_("From (date)"))
    until = django_filters.DateFilter(field_name="time", lookup_expr="date__lte", label=_("Until (date)"))
    request_id = django_filters.UUIDFilter(field_name="request_id", label=_("Request id"))

    class Meta:
        model = ObjectChange
        fields = ("user", "type", "action", "address", "since", "until", "request_id")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the types the user may see are offered (and accepted): the filter cannot probe other types.
        self.filters["type"].queryset = visible_types(user).order_by("app_label", "model")
        self.form.fields["type"].queryset = self.filters["type"].queryset


class LoginEventFilterSet(django_filters.FilterSet):
    """The login log's filters; ``user``, ``address`` and ``request_id`` mean what they mean on the change log,
    so one query string finds a user's logins and their changes."""

    user = django_filters.CharFilter(field_name="user_name", lookup_expr="iexact", label=_("User"))
    kind = django_filters.ChoiceFilter(choices=choices_of(LoginEventKind), label=_("Event"))
    address = _AddressFilter(field_name="remote_addr", label=_("Address"))
    since = django_filters.DateFilter(field_name="time", lookup_expr="date__gte", label=_("From (date)"))
    until = django_filters.DateFilter(field_name="time", lookup_expr="date__lte", label=_("Until (date)"))
    request_id = django_filters.UUIDFilter(field_name="request_id", label=_("Request id"))

    class Meta:
        model = LoginEvent
        fields = ("user", "kind", "address", "since", "until", "request_id")
