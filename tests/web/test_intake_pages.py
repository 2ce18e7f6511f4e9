"""The intake's pages: the outcomes with their reasons and quarantined rows, the upload by hand (finance: the same
path as the folder's), the retry (admins only), in the user's language and time zone."""

from __future__ import annotations

import datetime as dt
from typing import Any

import intake_support
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from intake_support import invoice_csv

from linewatch.choices import IntakeOutcome, IntakeSourceKind
from web.intake import collect
from web.intake.models import IntakeFile

pytestmark = pytest.mark.django_db
intake_env = intake_support.intake_env
ROLES = ["viewer", "noc", "engineer", "finance", "admin"]


def _login(client: Any, user_with_role: Any, role: str) -> Any:
    user = user_with_role(role)
    client.force_login(user)
    return user


def test_finance_uploads_a_file_and_sees_its_outcome_with_the_quarantined_row(client, user_with_role, intake_env):
    user = _login(client, user_with_role, "finance")
    upload = SimpleUploadedFile("acme-2026-11.csv", invoice_csv("ACME-4001", bad_amount="zwölf"), "text/csv")
    response = client.post("/intake/upload/", {"file": upload})
    assert response.status_code == 302
    row = IntakeFile.objects.get()
    assert response["Location"] == row.get_absolute_url()
    assert (row.source, row.outcome, row.uploaded_by) == (IntakeSourceKind.UPLOAD, IntakeOutcome.QUARANTINED, user)
    page = client.get(row.get_absolute_url()).content.decode()
    assert "ACME-4001" in page and "Rows quarantined" in page
    assert '<tr class="quarantined"><td>4</td><td>Amount</td>' in page and "is not a number" in page
    assert "'zwölf'" in page or "&#x27;zwölf&#x27;" in page


def test_the_list_shows_each_outcome_and_its_reason_and_filters_by_outcome(client, user_with_role, intake_env):
    (intake_env["folder"] / "acme-2026-11.csv").write_bytes(invoice_csv("ACME-4002"))
    (intake_env["folder"] / "mystery.csv").write_bytes(b"a,b\n1,2\n")
    collect.collect_folder(settle_s=0)
    _login(client, user_with_role, "finance")
    page = client.get("/intake/").content.decode()
    assert "acme-2026-11.csv" in page and "mystery.csv" in page and "no carrier&#x27;s file pattern matches" in page
    rejected = client.get("/intake/?outcome=rejected").content.decode()
    assert "mystery.csv" in rejected and "acme-2026-11.csv" not in rejected


def test_an_empty_upload_is_refused_naming_the_field(client, user_with_role, intake_env):
    _login(client, user_with_role, "finance")
    response = client.post("/intake/upload/", {"file": SimpleUploadedFile("acme-1.csv", b"", "text/csv")})
    assert response.status_code == 400 and IntakeFile.objects.count() == 0
    assert "The submitted file is empty." in response.content.decode() or "the file is empty" in response.content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_only_admins_retry_a_rejected_file(client, user_with_role, intake_env, role):
    (intake_env["folder"] / "mystery.csv").write_bytes(invoice_csv("ACME-4003"))
    [row] = collect.collect_folder(settle_s=0)
    _login(client, user_with_role, role)
    response = client.post(f"/intake/files/{row.pk}/retry/")
    assert response.status_code == (302 if role == "admin" else 403)
    row.refresh_from_db()
    assert row.attempts == (2 if role == "admin" else 1)
    page = client.get(row.get_absolute_url())
    if role in ("finance", "admin"):
        assert (f'action="/intake/files/{row.pk}/retry/"' in page.content.decode()) is (role == "admin")


def test_an_anonymous_retry_goes_to_the_login_page(client, intake_env):
    (intake_env["folder"] / "mystery.csv").write_bytes(invoice_csv("ACME-4004"))
    [row] = collect.collect_folder(settle_s=0)
    assert client.post(f"/intake/files/{row.pk}/retry/").status_code == 302
    row.refresh_from_db()
    assert row.attempts == 1


def test_times_are_shown_in_the_users_time_zone(client, user_with_role, intake_env, settings):
    settings.TIME_ZONE = "Asia/Seoul"
    IntakeFile.objects.create(sha256="1" * 64, filename="acme-x.csv", source="folder", outcome="rejected",
                              collected_at=dt.datetime(2026, 12, 1, 23, 30, tzinfo=dt.UTC))
    _login(client, user_with_role, "finance")
    assert "2026-12-02 08:30" in client.get("/intake/").content.decode()


def test_the_korean_page_is_translated(client, user_with_role, intake_env):
    (intake_env["folder"] / "mystery.csv").write_bytes(b"a,b\n1,2\n")
    collect.collect_folder(settle_s=0)
    _login(client, user_with_role, "finance")
    page = client.get("/intake/", HTTP_ACCEPT_LANGUAGE="ko").content.decode()
    assert "청구서 수집" in page and "거부됨" in page


def test_the_api_lists_files_with_their_quarantine_read_only(client, user_with_role, intake_env):
    (intake_env["folder"] / "acme-2026-11.csv").write_bytes(invoice_csv("ACME-4005", bad_amount="x"))
    [row] = collect.collect_folder(settle_s=0)
    _login(client, user_with_role, "finance")
    data = client.get("/api/intake/files/").json()
    [item] = data["results"] if isinstance(data, dict) else data
    assert item["id"] == row.pk and item["outcome"] == "quarantined" and item["quarantine"][0]["row"] == 4
    assert client.post("/api/intake/files/", {}, content_type="application/json").status_code in (403, 405)
