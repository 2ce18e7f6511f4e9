"""``web.inventory_read_only``: the files are the inventory's source. No role (admin included) adds, changes or
deletes an inventory object on the pages or the API (one check: web/accounts/permissions.py); a banner says why;
``linewatch inventory import DIR`` still writes, with its change log; normal mode is unaffected."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from linewatch.cli import main as linewatch_main

pytestmark = pytest.mark.django_db

CONFIG = Path(__file__).resolve().parents[2] / "config"
MESSAGE = "The inventory is managed in files: change config/lines.yaml and run `linewatch inventory import`."
WRITE_ROLES = ["noc", "engineer", "finance", "admin"]


@pytest.fixture
def read_only(settings):
    settings.LINEWATCH_INVENTORY_READ_ONLY = True


def _objects(inv: dict[str, Any]) -> dict[str, int]:
    from web.inventory.models import Contract

    contract = Contract.objects.create(line=inv["lines"][0], mrc=Decimal(10))
    return {"line": inv["lines"][0].pk, "carrier": inv["carriers"][0].pk, "site": inv["sites"][0].pk,
            "device": inv["device"].pk, "contract": contract.pk, "member": inv["lines"][0].members.get().pk}


PAGES = ["/inventory/lines/add/", "/inventory/lines/{line}/edit/", "/inventory/carriers/add/",
         "/inventory/carriers/{carrier}/edit/", "/inventory/sites/add/", "/inventory/sites/{site}/edit/",
         "/inventory/devices/add/", "/inventory/devices/{device}/edit/", "/inventory/contracts/add/",
         "/inventory/contracts/{contract}/edit/", "/inventory/rows/members/?members-TOTAL_FORMS=1"]


@pytest.mark.parametrize("url", PAGES)
def test_read_only_inventory_refuses_every_roles_edit_pages_with_the_files_message(
        client, read_only, make_inventory, user_with_role, url):
    page = url.format(**_objects(make_inventory(1)))
    answers = {}
    for role in WRITE_ROLES:
        client.force_login(user_with_role(role))
        response = client.get(page, HTTP_ACCEPT_LANGUAGE="en")
        answers[role] = response.status_code
        if response.status_code == 403 and "rows/" not in url:
            assert MESSAGE in response.content.decode()
    assert answers == dict.fromkeys(WRITE_ROLES, 403)


# (method, url, body): a create, an update and a delete per model
API_WRITES = [
    ("post", "lines/", {"name": "NEW"}), ("patch", "lines/{line}/", {"status": "offline"}),
    ("delete", "lines/{line}/", None),
    ("post", "carriers/", {"name": "NEW"}), ("patch", "carriers/{carrier}/", {"name": "X"}),
    ("delete", "carriers/{carrier}/", None),
    ("post", "sites/", {"name": "NEW"}), ("patch", "sites/{site}/", {"name": "X"}), ("delete", "sites/{site}/", None),
    ("post", "devices/", {"name": "NEW"}), ("patch", "devices/{device}/", {"name": "X"}),
    ("delete", "devices/{device}/", None),
    ("post", "line-members/", {"line": 1}), ("patch", "line-members/{member}/", {"interface": "x"}),
    ("delete", "line-members/{member}/", None),
    ("post", "contracts/", {"line": 1}), ("patch", "contracts/{contract}/", {"mrc": "1"}),
    ("delete", "contracts/{contract}/", None),
]


@pytest.mark.parametrize(("method", "url", "body"), API_WRITES, ids=[f"{m}-{u}" for m, u, _ in API_WRITES])
def test_read_only_inventory_api_writes_answer_403_with_the_files_message_for_every_role(
        client, read_only, make_inventory, user_with_role, method, url, body):
    from web.inventory.models import Carrier, Contract, Device, Line, LineMember, Site

    objects = _objects(make_inventory(1))
    before = [m.objects.count() for m in (Carrier, Contract, Device, Line, LineMember, Site)]
    for role in WRITE_ROLES:
        client.force_login(user_with_role(role))
        response = getattr(client, method)(f"/api/inventory/{url.format(**objects)}", body,
                                           content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
        assert (role, response.status_code, response.json()) == (role, 403, {"detail": MESSAGE})
    assert [m.objects.count() for m in (Carrier, Contract, Device, Line, LineMember, Site)] == before


def test_read_only_inventory_api_still_answers_the_anonymous_401(client, read_only):
    assert client.post("/api/inventory/lines/", {}, content_type="application/json").status_code == 401


def test_read_only_inventory_reads_still_work_for_every_role(client, read_only, make_inventory, user_with_role):
    objects = _objects(make_inventory(1))
    for role in ["viewer", *WRITE_ROLES]:
        client.force_login(user_with_role(role))
        assert client.get(f"/inventory/lines/{objects['line']}/").status_code == 200
        assert client.get(f"/api/inventory/lines/{objects['line']}/").status_code == 200


@pytest.mark.parametrize(("language", "banner"), [
    ("en", MESSAGE),
    ("ko", "자산 목록은 파일로 관리됩니다: config/lines.yaml을 수정한 뒤 `linewatch inventory import`를 실행하십시오."),
], ids=["en", "ko"])
def test_read_only_inventory_banner_in_the_users_language_and_no_add_or_edit_buttons(
        client, read_only, make_inventory, user_with_role, language, banner):
    objects = _objects(make_inventory(1))
    client.force_login(user_with_role("admin"))
    for page in ("/inventory/lines/", f"/inventory/lines/{objects['line']}/", "/inventory/carriers/"):
        html = client.get(page, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert banner.replace("`", "&#x60;") in html or banner in html, page
        assert "/inventory/lines/add/" not in html and f"/inventory/lines/{objects['line']}/edit/" not in html
        assert "/inventory/carriers/add/" not in html


def test_normal_mode_has_no_banner_and_keeps_the_admins_buttons_and_writes(client, make_inventory, user_with_role):
    objects = _objects(make_inventory(1))
    client.force_login(user_with_role("admin"))
    html = client.get("/inventory/lines/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert MESSAGE not in html and "/inventory/lines/add/" in html
    assert client.get(f"/inventory/lines/{objects['line']}/edit/").status_code == 200
    response = client.patch(f"/api/inventory/lines/{objects['line']}/", {"status": "offline"},
                            content_type="application/json")
    assert response.status_code == 200


def test_read_only_inventory_import_cli_still_writes_with_its_change_log(read_only, monkeypatch):
    from web.audit.models import ObjectChange
    from web.inventory.models import Line

    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "web.settings")  # removed again after the test
    assert linewatch_main(["inventory", "import", str(CONFIG), "--user", "files"]) == 0
    assert Line.objects.exists()
    assert set(ObjectChange.objects.values_list("user_name", flat=True)) == {"files"}


def test_read_only_inventory_setting_is_parsed_strictly():
    from pydantic import ValidationError

    from linewatch.settings import WebSettings

    assert WebSettings(inventory_read_only=True).inventory_read_only is True
    assert WebSettings().inventory_read_only is False
    with pytest.raises(ValidationError, match="inventory_read_only"):
        WebSettings(inventory_read_only="maybe")
    with pytest.raises(ValidationError, match="inventory_readonly"):
        WebSettings(inventory_readonly=True)


def test_read_only_message_is_translated():
    from web.accounts.permissions import read_only_message

    with translation.override("ko"):
        assert read_only_message().startswith("자산 목록은 파일로 관리됩니다")


def test_read_only_inventory_document_upload_and_delete_answer_403_with_the_files_message(
        client, read_only, make_inventory, user_with_role):
    from django.core.files.uploadedfile import SimpleUploadedFile

    objects = _objects(make_inventory(1))
    client.force_login(user_with_role("admin"))
    upload = client.post("/api/inventory/documents/", {"line": objects["line"],
                                                      "file": SimpleUploadedFile("a.txt", b"text")},
                         HTTP_ACCEPT_LANGUAGE="en")
    assert (upload.status_code, upload.json()) == (403, {"detail": MESSAGE})
    page = client.get(f"/inventory/documents/add/?line={objects['line']}", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 403
