"""Filters whose values are checked against the database column's range before any query is made.

A primary key beyond the backend's integer range (``?carrier=100000000000000000000``) made SQLite raise
``OverflowError`` inside ``pk__in`` (a 500); the range comes from the model field's own validators
(``connection.ops.integer_field_range``), so it is right on SQLite and PostgreSQL alike, and such a value is
answered like any other unknown choice: a 400 naming the filter.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import ModelMultipleChoiceField


class BoundedModelMultipleChoiceField(ModelMultipleChoiceField):
    """Refuses a key its model field would refuse (out of the column's range) as ``invalid_choice``."""

    def _check_values(self, value: Iterable[Any]) -> Any:
        key = self.queryset.model._meta.get_field(self.to_field_name) if self.to_field_name \
            else self.queryset.model._meta.pk
        for item in value:
            try:
                number = key.to_python(item)
            except ValidationError:  # not a number at all: left to Django's own check (invalid_pk_value)
                continue
            try:
                key.run_validators(number)
            except ValidationError:
                raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                      params={"value": item}) from None
        return super()._check_values(value)


class BoundedModelMultipleChoiceFilter(django_filters.ModelMultipleChoiceFilter):
    """``ModelMultipleChoiceFilter`` whose keys are range-checked (see :class:`BoundedModelMultipleChoiceField`)."""

    field_class = BoundedModelMultipleChoiceField
