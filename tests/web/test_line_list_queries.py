"""The line list runs a constant number of queries whatever the number of lines (no N+1: one query for the
page's lines with their joins, one for their members), filtered, searched or sorted."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from linewatch.choices import LineStatus

pytestmark = pytest.mark.django_db


def _add_lines(inv: dict[str, Any], start: int, stop: int) -> None:
    from web.inventory.models import Device, Line, LineMember

    spare = Device.objects.create(name=f"spare-{start}", address="127.0.0.2", snmp_version="2c",
                                  snmp_community="c", site=inv["sites"][1])
    for i in range(start, stop):
        line = Line.objects.create(name=f"LINE-{i:03d}", carrier=inv["carriers"][i % 2], circuit_id=f"CID-{i:05d}",
                                   type="internet", status="active", site=inv["sites"][i % 2],
                                   department=inv["departments"][0], capacity_bps=10_000_000)
        LineMember.objects.create(line=line, device=inv["device"], interface=f"ge-0/0/{i}")
        LineMember.objects.create(line=line, device=spare, interface=f"xe-0/0/{i}", role="backup")


def _queries(client: Client, params: dict[str, Any], **headers: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/inventory/lines/", params, **headers)
    assert response.status_code == 200
    return len(ctx.captured_queries)


CASES = [
    pytest.param({}, {}, id="first-page"),
    pytest.param({"q": "LINE"}, {}, id="search"),
    pytest.param({"carrier": "__carrier__", "status": ["active", "planned"]}, {}, id="filters"),
    pytest.param({"sort": "-carrier"}, {}, id="sorted-by-carrier"),
    pytest.param({}, {"HTTP_HX_REQUEST": "true"}, id="htmx-table"),
]


@pytest.mark.parametrize(("params", "headers"), CASES)
def test_line_list_query_count_is_constant_in_the_number_of_lines(client: Client, make_inventory, user_with_role,
                                                                  params, headers):
    inv = make_inventory(5)
    params = {k: inv["carriers"][0].pk if v == "__carrier__" else v for k, v in params.items()}
    client.force_login(user_with_role("viewer"))
    _queries(client, params, **headers)  # warm: the session's first renewal, content types
    few = _queries(client, params, **headers)
    _add_lines(inv, 5, 50)
    many = _queries(client, params, **headers)
    assert many == few, f"{few} queries with 5 lines, {many} with 50"


def test_line_list_rows_show_every_member_and_the_labels(client: Client, make_inventory, user_with_role):
    inv = make_inventory(1)
    _add_lines(inv, 1, 2)
    client.force_login(user_with_role("viewer"))
    body = client.get("/inventory/lines/").content.decode()
    line = inv["lines"][0]
    assert f'<a href="/inventory/lines/{line.pk}/">LINE-000</a>' in body
    assert f'<a href="/inventory/carriers/{line.carrier.pk}/">Telia</a>' in body
    assert "spare-1 xe-0/0/1, fra-edge-1 ge-0/0/1" in body  # two members, the model's order (role, device)
    planned = LineStatus(line.status)
    assert f'<span class="badge badge-{planned.colour}">Planned</span>' in body


def test_line_list_row_escapes_every_value(client: Client, make_inventory, user_with_role):
    """The rows are formatted in Python (LineRow.html), not by the template: every value is still escaped."""
    from web.inventory.models import Line

    inv = make_inventory(1)
    Line.objects.filter(pk=inv["lines"][0].pk).update(name="<b>x</b>", circuit_id='"&')
    inv["carriers"][0].name = "<i>Telia</i>"
    inv["carriers"][0].save()
    client.force_login(user_with_role("viewer"))
    body = client.get("/inventory/lines/").content.decode()
    assert "&lt;b&gt;x&lt;/b&gt;</a>" in body and "&amp;</td>" in body and '<td>"&' not in body
    assert "&lt;i&gt;Telia&lt;/i&gt;</a>" in body and "<b>x" not in body and "<i>Telia" not in body
