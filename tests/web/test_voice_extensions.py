"""The extension directory in the application: the model's rule is the core's (errors on their field), the CSV
import is all or nothing with each problem's row, the export reads back, every change is change-logged, and the
API applies the same rule and permissions."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from linewatch.voice.directory import Extension as Entry
from linewatch.voice.directory import parse_directory_csv
from web.audit.context import change_context
from web.audit.models import ObjectChange
from web.voice.directory import ExtensionImportError, app_directory, import_extensions
from web.voice.models import Extension

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(make_inventory):
    inv = make_inventory(1)
    return {"sales": inv["departments"][1], "engineering": inv["departments"][0], "cc": inv["cost_centre"]}


BAD = [("letters", "31a", "number"), ("star-inside", "3*1", "number"), ("empty", "", "number")]


@pytest.mark.parametrize(("number", "field"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_a_bad_extension_number_is_refused_on_its_field(org, number, field):
    with pytest.raises(ValidationError) as exc:
        Extension(number=number, department=org["sales"]).full_clean()
    assert field in exc.value.message_dict


def test_an_extension_number_is_unique(org):
    Extension.objects.create(number="3101", department=org["sales"])
    with pytest.raises(ValidationError) as exc:
        Extension(number="3101", department=org["engineering"]).full_clean()
    assert "number" in exc.value.message_dict


def test_the_app_directory_is_the_rows_as_core_entries(org):
    Extension.objects.create(number="31*", department=org["sales"], cost_centre=org["cc"])
    Extension.objects.create(number="3150", department=org["engineering"], name="Lab")
    assert app_directory().entries == (Entry("31*", "Sales", "", "CC-4100"), Entry("3150", "Engineering", "Lab"))


CSV = b"number,department,name,cost_centre\n3101,Sales,Kim,CC-4100\n315*,Engineering,,\n"


def test_the_import_creates_and_updates_and_is_change_logged(org):
    Extension.objects.create(number="3101", department=org["engineering"])
    with change_context(user_name="import"):
        result = import_extensions(CSV)
    assert (result.created, result.updated, result.deleted) == (1, 1, 0)
    row = Extension.objects.get(number="3101")
    assert (row.department, row.name, row.cost_centre) == (org["sales"], "Kim", org["cc"])
    assert ObjectChange.objects.filter(user_name="import").count() == 2


def test_importing_the_same_file_again_changes_nothing(org):
    import_extensions(CSV)
    before = ObjectChange.objects.count()
    result = import_extensions(CSV)
    assert (result.created, result.updated) == (0, 0)
    assert ObjectChange.objects.count() == before


def test_one_bad_row_saves_nothing_and_every_problem_names_its_row(org):
    data = CSV + b"3102,Marketing,,\n3103,Sales,,CC-9\nx,Sales,,\n"
    with pytest.raises(ExtensionImportError) as exc:
        import_extensions(data, file="dir.csv")
    assert [str(p) for p in exc.value.problems] == [
        "dir.csv:4: department: no department named Marketing", "dir.csv:5: cost_centre: no cost centre CC-9",
        "dir.csv:6: number: x is not an extension: digits (a leading + allowed), * at the end for a range "
        "(e.g. 3101, 31*)"]
    assert not Extension.objects.exists()


def test_replace_removes_the_extensions_the_file_does_not_list(org):
    Extension.objects.create(number="4100", department=org["sales"])
    result = import_extensions(CSV, replace=True)
    assert result.deleted == 1
    assert set(Extension.objects.values_list("number", flat=True)) == {"3101", "315*"}


def test_the_export_reads_back_and_neutralises_formulas(client, user_with_role, org):
    Extension.objects.create(number="3101", department=org["sales"], name="=HYPERLINK(\"x\")")
    Extension.objects.create(number="+4969123450", department=org["engineering"])
    client.force_login(user_with_role("viewer"))
    response = client.get("/voice/extensions/export.csv")
    text = response.content.decode("utf-8-sig")
    entries, problems = parse_directory_csv(text, file="export.csv")
    assert problems == []
    assert entries == [Entry("+4969123450", "Engineering"), Entry("3101", "Sales", "'=HYPERLINK(\"x\")")]


def test_the_import_page_shows_each_problem_and_keeps_nothing(client, user_with_role, org):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(user_with_role("finance"))
    response = client.post("/voice/extensions/import/",
                           {"file": SimpleUploadedFile("d.csv", b"number,department\n3101,Nobody\n")})
    assert response.status_code == 200
    assert "d.csv:2: department: no department named Nobody" in response.content.decode()
    response = client.post("/voice/extensions/import/", {"file": SimpleUploadedFile("d.csv", CSV)})
    assert response.status_code == 302
    assert Extension.objects.count() == 2


def test_replacing_on_import_needs_the_delete_permission(client, user_with_role, org, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from linewatch.choices import Role
    from web.accounts.roles import ROLE_PERMISSIONS

    assert ("voice", "delete_extension") in ROLE_PERMISSIONS[Role.FINANCE]
    client.force_login(user_with_role("finance"))
    response = client.post("/voice/extensions/import/",
                           {"file": SimpleUploadedFile("d.csv", CSV), "replace": "on"})
    assert response.status_code == 302


def test_the_api_refuses_a_bad_number_naming_the_field_and_creates_a_good_one(client, user_with_role, org):
    client.force_login(user_with_role("engineer"))
    bad = client.post("/api/voice/extensions/", {"number": "31x", "department": org["sales"].pk},
                      content_type="application/json")
    assert bad.status_code == 400 and "number" in bad.json()
    good = client.post("/api/voice/extensions/", {"number": "31*", "department": org["sales"].pk, "name": "Sales"},
                       content_type="application/json")
    assert good.status_code == 201, good.content
    assert ObjectChange.objects.filter(changed_object_id=good.json()["id"], action="create").exists()


def test_the_noc_reads_the_directory_but_may_not_change_it(client, user_with_role, org):
    client.force_login(user_with_role("noc"))
    assert client.get("/api/voice/extensions/").status_code == 200
    assert client.post("/api/voice/extensions/", {"number": "3101", "department": org["sales"].pk},
                       content_type="application/json").status_code == 403


def test_the_demo_directory_is_imported_once_with_its_departments(tmp_path, settings):
    from pathlib import Path

    from voice_support import voice_setup

    from web.inventory.models import Department
    from web.voice import demo

    voice_setup(tmp_path, settings)
    source = Path(__file__).resolve().parents[2] / "config" / "extensions.csv"
    (tmp_path / "extensions.csv").write_bytes(source.read_bytes())
    Department.objects.create(name="Sales")
    result = demo.seed()
    assert result is not None and result.created == Extension.objects.count() > 10
    assert set(Department.objects.values_list("name", flat=True)) == {"Sales", "Engineering", "Operations",
                                                                      "Finance"}
    assert demo.seed() is None  # a later start keeps what was changed in the application
