"""The collectors' inventory document (``inventory_data``, ``/api/inventory.json``) read with ``values()``: the
same entries the models' ``as_config()`` give, in a constant number of queries whatever the number of lines."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from pydantic import SecretStr

from web.inventory.io import inventory_data
from web.inventory.models import Line, LineMember

pytestmark = pytest.mark.django_db
URL = "/api/inventory.json"
TOKEN = "document-token-" + "y" * 32


@pytest.fixture
def collector(client: Client, settings) -> Client:
    lw = settings.LINEWATCH
    settings.LINEWATCH = lw.model_copy(update={"web": lw.web.model_copy(update={"inventory_token": SecretStr(TOKEN)})})
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return client


def _add_lines(inv: dict[str, Any], start: int, stop: int) -> None:
    for i in range(start, stop):
        line = Line.objects.create(name=f"LINE-{i:03d}", carrier=inv["carriers"][i % 2], circuit_id=f"CID-{i:05d}",
                                   type="internet", status="active", site=inv["sites"][i % 2],
                                   department=inv["departments"][0], capacity_bps=10_000_000)
        LineMember.objects.create(line=line, device=inv["device"], interface=f"ge-0/0/{i}")


def _expected_lines() -> list[dict[str, Any]]:
    """What the models say each line is (``Line.as_config``), members in creation order; unpolled lines without
    members listed, others without members left out."""
    out = []
    for line in Line.objects.order_by("pk"):
        members = [m.port() | {"role": m.role} for m in line.members.order_by("pk")]
        if members or line.status in ("planned", "decommissioned"):
            out.append(line.as_config({"members": members}))
    return out


def test_inventory_document_lines_equal_the_models_as_config(make_inventory):
    inv = make_inventory(6)
    full = inv["lines"][0]
    full.install_date, full.termination_date, full.description = dt.date(2024, 1, 1), dt.date(2027, 1, 1), "β"
    full.save()
    Line.objects.filter(pk=inv["lines"][1].pk).update(cost_centre=None)
    LineMember.objects.create(line=inv["lines"][2], device=inv["device"], if_index=42, role="backup")
    LineMember.objects.filter(line=inv["lines"][3]).delete()  # lines.yaml cannot list it unless unpolled
    notes: list[str] = []
    data = inventory_data(secrets="clear", notes=notes)
    assert data["lines"] == _expected_lines()
    assert data["devices"] == [inv["device"].as_config()]
    status = inv["lines"][3].status
    assert (notes == []) if status in ("planned", "decommissioned") else notes == [
        f"line {inv['lines'][3].name}: no interface carries it; lines.yaml cannot list it"]


def test_inventory_endpoint_body_is_the_document_with_iso_dates(collector: Client, make_inventory):
    inv = make_inventory(2)
    inv["lines"][0].install_date = dt.date(2024, 1, 31)
    inv["lines"][0].save()
    response = collector.get(URL)
    assert response.status_code == 200
    body = orjson.loads(response.content)
    assert body["lines"][0]["install_date"] == "2024-01-31"
    assert body == orjson.loads(orjson.dumps(inventory_data(secrets="clear")))


def _queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(URL).status_code == 200
    return len(ctx.captured_queries)


def test_inventory_endpoint_query_count_is_constant_in_the_number_of_lines(collector: Client, make_inventory):
    inv = make_inventory(5)
    few = _queries(collector)
    _add_lines(inv, 5, 50)
    many = _queries(collector)
    assert many == few, f"{few} queries with 5 lines, {many} with 50"
