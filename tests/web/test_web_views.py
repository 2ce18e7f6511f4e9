"""Pages: login required, the line list's search, filters, sorting and paging, detail pages, Korean."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PAGES = ["/inventory/lines/", "/inventory/lines/{line}/", "/inventory/carriers/{carrier}/",
         "/inventory/sites/{site}/", "/admin/"]


@pytest.fixture
def inv(make_inventory):
    return make_inventory(12)


def _url(template: str, inv) -> str:
    return template.format(line=inv["lines"][0].pk, carrier=inv["carriers"][0].pk, site=inv["sites"][0].pk)


@pytest.mark.parametrize("page", PAGES)
def test_anonymous_user_is_sent_to_login(client: Client, inv, page):
    response = client.get(_url(page, inv))
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert response["X-Request-ID"]


def test_login_page_is_open_and_logs_in(client: Client, django_user_model):
    django_user_model.objects.create_user("kim", password="correct horse battery")
    assert client.get("/login/").status_code == 200
    response = client.post("/login/", {"username": "kim", "password": "correct horse battery"})
    assert response.status_code == 302


def test_wrong_password_is_refused(client: Client, django_user_model):
    django_user_model.objects.create_user("kim", password="correct horse battery")
    response = client.post("/login/", {"username": "kim", "password": "wrong"})
    assert response.status_code == 200 and b"did not match" in response.content


def test_user_without_a_role_may_not_see_lines(client: Client, inv, user_with_role):
    client.force_login(user_with_role(None))
    assert client.get("/inventory/lines/").status_code == 403


@pytest.fixture
def viewer(client: Client, user_with_role) -> Client:
    client.force_login(user_with_role("viewer"))
    return client


def _names(response) -> list[str]:
    return [line.name for line in response.context["page_obj"]]


FILTER_CASES = [
    pytest.param(lambda inv: {"carrier": inv["carriers"][1].pk}, lambda line: line.carrier.name == "Colt",
                 id="carrier"),
    pytest.param(lambda inv: {"site": inv["sites"][0].pk}, lambda line: line.site.name == "Frankfurt", id="site"),
    pytest.param(lambda inv: {"department": inv["departments"][1].pk}, lambda line: line.department.name == "Sales",
                 id="department"),
    pytest.param(lambda inv: {"status": "active"}, lambda line: line.status == "active", id="status"),
    pytest.param(lambda inv: {"status": ["active", "offline"]}, lambda line: line.status in ("active", "offline"),
                 id="two-statuses"),
    pytest.param(lambda inv: {"type": "mpls"}, lambda line: line.type == "mpls", id="type"),
    pytest.param(lambda inv: {"q": "CID-00003"}, lambda line: line.circuit_id == "CID-00003", id="search-circuit"),
    pytest.param(lambda inv: {"q": "ge-0/0/11"}, lambda line: line.name == "LINE-011", id="search-interface"),
    pytest.param(lambda inv: {"carrier": inv["carriers"][0].pk, "site": inv["sites"][1].pk},
                 lambda line: False, id="carrier-and-site-disjoint"),
]


@pytest.mark.parametrize(("params", "expected"), FILTER_CASES)
def test_line_list_filters(viewer: Client, inv, params, expected):
    response = viewer.get("/inventory/lines/", params(inv))
    assert response.status_code == 200
    want = sorted(line.name for line in inv["lines"] if expected(line))
    assert _names(response) == want


def test_line_list_sorts_by_capacity_descending(viewer: Client, inv):
    response = viewer.get("/inventory/lines/", {"sort": "-capacity_bps"})
    assert _names(response) == [line.name for line in sorted(inv["lines"], key=lambda x: -x.capacity_bps)]


def test_line_list_paginates_and_keeps_the_filter(viewer: Client, inv, settings, monkeypatch):
    from web.inventory.views import LineListView

    monkeypatch.setattr(LineListView, "paginate_by", 5)
    first = viewer.get("/inventory/lines/", {"carrier": inv["carriers"][0].pk})
    assert len(_names(first)) == 5 and first.context["paginator"].count == 6
    assert f"carrier={inv['carriers'][0].pk}&amp;page=2".encode() in first.content
    second = viewer.get("/inventory/lines/", {"carrier": inv["carriers"][0].pk, "page": 2})
    assert _names(second) == ["LINE-010"]


def test_line_list_htmx_request_gets_only_the_table(viewer: Client, inv):
    response = viewer.get("/inventory/lines/", {"status": "active"}, HTTP_HX_REQUEST="true")
    assert b"<table>" in response.content and b"<html" not in response.content


def test_line_detail_shows_members_and_contract(viewer: Client, inv):
    from decimal import Decimal

    from web.inventory.models import Contract

    line = inv["lines"][0]
    Contract.objects.create(line=line, mrc=Decimal("1800.00"))
    body = viewer.get(f"/inventory/lines/{line.pk}/").content.decode()
    assert "CID-00000" in body and "ge-0/0/0" in body and "1800" in body


def test_carrier_and_site_pages_list_their_lines(viewer: Client, inv):
    carrier = viewer.get(f"/inventory/carriers/{inv['carriers'][1].pk}/").content.decode()
    assert "LINE-001" in carrier and "LINE-000" not in carrier
    site = viewer.get(f"/inventory/sites/{inv['sites'][0].pk}/").content.decode()
    assert "LINE-000" in site and "LINE-001" not in site and "fra-edge-1" in site


def test_language_switch_to_korean_before_login(client: Client):
    response = client.post("/i18n/setlang/", {"language": "ko", "next": "/login/"})
    assert response.status_code == 302
    page = client.get("/login/").content.decode()
    assert 'lang="ko"' in page and "본문으로 건너뛰기" in page  # our catalogue, not Django's own "로그인"


def test_browser_language_is_followed(client: Client):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="ko-KR,ko;q=0.9").content.decode()
    assert "본문으로 건너뛰기" in page and "사용자 이름" in page


def test_line_list_in_korean_shows_translated_labels(viewer: Client, inv):
    viewer.post("/i18n/setlang/", {"language": "ko", "next": "/"})
    page = viewer.get("/inventory/lines/").content.decode()
    assert "회선 ID" in page and "통신사" in page and "사용 중" in page  # headings and the status label


ROLE_PAGES = [(role, page, code) for page in PAGES[:4]
              for role, code in (("viewer", 200), ("noc", 200), ("engineer", 200), ("finance", 200),
                                 ("admin", 200), (None, 403))]


@pytest.mark.parametrize(("role", "page", "status"), ROLE_PAGES,
                         ids=[f"{r or 'no-role'}-{p.split('/')[2]}-{'detail' if '{' in p else 'list'}"
                              for r, p, _ in ROLE_PAGES])
def test_every_role_may_see_the_inventory_pages(client: Client, inv, user_with_role, role, page, status):
    client.force_login(user_with_role(role))
    assert client.get(_url(page, inv)).status_code == status
