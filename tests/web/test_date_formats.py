"""Pages show ISO 8601 days and 24-hour times in both languages (web/formats/): Django's defaults gave
``12/02/2026 3:20 a.m.`` in English and ``2021-6-1`` in Korean, and the apps' pages disagreed with each other."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.utils import translation

DAY = dt.date(2021, 6, 1)
MOMENT = dt.datetime(2026, 12, 2, 15, 20, 7, tzinfo=dt.UTC)
CASES = [
    ("DATE_FORMAT", DAY, "2021-06-01"), ("SHORT_DATE_FORMAT", DAY, "2021-06-01"),
    ("SHORT_DATETIME_FORMAT", MOMENT, "2026-12-02 15:20"), ("DATETIME_FORMAT", MOMENT, "2026-12-02 15:20:07"),
]


@pytest.mark.parametrize("language", ["en", "ko"])
@pytest.mark.parametrize(("name", "value", "shown"), CASES, ids=[c[0] for c in CASES])
def test_regression_korean_and_english_dates_are_iso(language, name, value, shown):
    with translation.override(language):
        assert Template(f'{{{{ v|date:"{name}" }}}}').render(Context({"v": value})) == shown


@pytest.mark.parametrize("language", ["en", "ko"])
def test_a_date_typed_in_iso_is_read_in_both_languages(language):
    from django import forms

    with translation.override(language):
        field = forms.DateField()
        assert field.clean("2021-06-01") == DAY
