"""The line list's export (lines/export.csv, lines/export.xlsx): every line the list's query selects, headers
in the user's language, formulas neutralised, typed XLSX cells, a constant number of queries."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

HEADERS = {
    "en": ["Line id", "Carrier", "Circuit id", "Type", "Status", "Site", "Department", "Capacity (bit/s)",
           "Members", "Install date", "Termination date", "Description", "Channels", "Rate plan"],
    "ko": ["회선 ID", "통신사", "회선 번호"],  # the first three: the catalogue's terms
}


def _table(response: Any, file_format: str) -> list[list[Any]]:
    if file_format == "csv":
        assert response["Content-Type"].startswith("text/csv")
        assert response.content.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM (Excel reads Korean then)"
        return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sheet = book.active
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:N{sheet.max_row}"
    return [list(row) for row in sheet.iter_rows(values_only=True)]


CASES = [pytest.param(fmt, lang, filtered, id=f"{fmt}-{lang}-{'filtered' if filtered else 'all'}")
         for fmt in ("csv", "xlsx") for lang in ("en", "ko") for filtered in (False, True)]


@pytest.mark.parametrize(("file_format", "language", "filtered"), CASES)
def test_line_export_holds_every_matching_line_with_headers_in_the_users_language(
        client, make_inventory, user_with_role, settings, file_format, language, filtered):
    settings.PAGINATE_BY = 2  # the export is not the page
    inv = make_inventory(6)
    client.force_login(user_with_role("viewer"))
    params = {"carrier": inv["carriers"][0].pk, "sort": "-name"} if filtered else {"sort": "name"}
    response = client.get(f"/inventory/lines/export.{file_format}", params, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    table = _table(response, file_format)
    expected_headers = HEADERS[language]
    assert table[0][:len(expected_headers)] == expected_headers
    names = [row[0] for row in table[1:]]
    assert names == (["LINE-004", "LINE-002", "LINE-000"] if filtered else [f"LINE-{i:03d}" for i in range(6)])


def test_line_export_xlsx_cells_are_typed_numbers_and_dates(client, make_inventory, user_with_role):
    inv = make_inventory(1)
    line = inv["lines"][0]
    line.install_date = dt.date(2025, 3, 1)
    line.save()
    client.force_login(user_with_role("viewer"))
    row = _table(client.get("/inventory/lines/export.xlsx"), "xlsx")[1]
    assert row[7] == 10_000_000 and isinstance(row[7], int)
    assert row[8] == "fra-edge-1:ge-0/0/0 (Member)"
    assert row[9] == dt.datetime(2025, 3, 1)
    assert row[10] is None
    assert row[12:] == [None, None]  # not a voice trunk: no channels, no rate plan


def test_line_export_has_a_voice_trunks_channels_and_rate_plan(client, make_inventory, user_with_role):
    line = make_inventory(1)["lines"][0]
    line.type, line.channels, line.rate_plan = "voice_trunk", 30, "dtag-sip-business"
    line.save()
    client.force_login(user_with_role("viewer"))
    row = _table(client.get("/inventory/lines/export.xlsx"), "xlsx")[1]
    assert row[12:] == [30, "dtag-sip-business"]


@pytest.mark.parametrize(("effective_days", "exported"), [(-1, 30_000_000), (+1, 10_000_000)],
                         ids=["change-in-force", "change-scheduled"])
def test_regression_line_export_capacity_is_the_capacity_in_force(client, make_inventory, user_with_role,
                                                                   effective_days, exported):
    """The export wrote the capacity as installed after an upgrade; the list showed the capacity now."""
    from django.utils import timezone

    from web.inventory.models import CapacityChange

    line = make_inventory(1)["lines"][0]
    CapacityChange.objects.create(line=line, effective=timezone.now() + dt.timedelta(days=effective_days),
                                  capacity_bps=30_000_000)
    client.force_login(user_with_role("viewer"))
    row = _table(client.get("/inventory/lines/export.xlsx"), "xlsx")[1]
    assert row[7] == exported


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_line_export_neutralises_a_hyperlink_formula_in_the_description(client, make_inventory, user_with_role,
                                                                        file_format):
    inv = make_inventory(1)
    line = inv["lines"][0]
    line.description = '=HYPERLINK("http://evil.example/","click")'
    line.save()
    client.force_login(user_with_role("viewer"))
    row = _table(client.get(f"/inventory/lines/export.{file_format}"), file_format)[1]
    assert row[11] == "'" + line.description


def test_line_export_refuses_an_unknown_filter_value_naming_the_field(client, make_inventory, user_with_role):
    make_inventory(1)
    client.force_login(user_with_role("viewer"))
    response = client.get("/inventory/lines/export.csv", {"status": "no-such-status"})
    assert response.status_code == 400
    assert b"status" in response.content


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_line_export_query_count_is_constant_in_the_number_of_lines(client, make_inventory, user_with_role,
                                                                    file_format):
    from web.inventory.models import Line, LineMember

    inv = make_inventory(2)
    client.force_login(user_with_role("viewer"))
    url = f"/inventory/lines/export.{file_format}"
    client.get(url)  # warm: session renewal, content types

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for i in range(2, 30):
        line = Line.objects.create(name=f"LINE-{i:03d}", carrier=inv["carriers"][0], circuit_id=f"C{i}",
                                   type="internet", status="active", site=inv["sites"][0],
                                   department=inv["departments"][0], capacity_bps=1_000_000)
        LineMember.objects.create(line=line, device=inv["device"], interface=f"ge-1/0/{i}")
    assert count() == few


def test_line_list_export_links_keep_the_query_string(client, make_inventory, user_with_role):
    inv = make_inventory(1)
    client.force_login(user_with_role("viewer"))
    carrier = inv["carriers"][0].pk
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):  # the page, and the htmx table swap (out of band)
        page = client.get("/inventory/lines/", {"carrier": carrier, "page": 1}, **headers).content.decode()
        assert f'href="/inventory/lines/export.csv?carrier={carrier}"' in page
        assert f'href="/inventory/lines/export.xlsx?carrier={carrier}"' in page
