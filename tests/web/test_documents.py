"""Documents attached to carriers, contracts and lines: names sanitized, types recognised from the content, size
limited while the upload arrives, files private and removed with their row, downloads as attachments, the change
log, the page and the API (their permissions per role are in test_web_roles.py)."""

from __future__ import annotations

import io
import os
import stat
import unicodedata
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import document_samples as samples
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from linewatch.choices import ChangeAction, DocumentKind, Role, TokenScope
from linewatch.settings import DocumentSettings
from web.accounts.tokens import Token
from web.audit.models import ObjectChange
from web.inventory import documents
from web.inventory.models import Contract, Document
from web.inventory.uploads import sanitize_filename

pytestmark = pytest.mark.django_db

# -- names (pure) ------------------------------------------------------------------------------------------------

NAMES = [
    ("path-traversal", "../../etc/passwd", "passwd"),
    ("path-in-name", "../../contracts/계약서.pdf", "계약서.pdf"),
    ("windows-path", "C:\\Users\\kim\\Desktop\\quote.pdf", "quote.pdf"),
    ("reserved-device-name", "CON.pdf", "CON_.pdf"),
    ("reserved-lower-case", "lpt1.txt", "lpt1_.txt"),
    ("nul-byte", "inv\x00oice.pdf", "invoice.pdf"),
    ("control-characters", "a\x1b[31mb\x7f.pdf", "a[31mb.pdf"),
    ("bidi-override", "report\u202efdp.exe", "reportfdp.exe"),
    ("leading-dots", "..htaccess", "htaccess"),
    ("hidden-file", ".profile.txt", "profile.txt"),
    ("trailing-dots-and-spaces", "report.pdf. . ", "report.pdf"),
    ("windows-forbidden-characters", 'a:b*c?"d<e>|.pdf', "a_b_c__d_e__.pdf"),
    ("korean-kept", "계약서_2026.pdf", "계약서_2026.pdf"),
    ("korean-decomposed-macos", unicodedata.normalize("NFD", "검수보고서.pdf"), "검수보고서.pdf"),
    ("tabs-and-spaces", "a\t b   c.pdf", "a b c.pdf"),
    ("nothing-left", "...", "document"),
]


@pytest.mark.parametrize(("raw", "expected"), [(r, e) for _, r, e in NAMES], ids=[i for i, _, _ in NAMES])
def test_upload_name_is_sanitized(raw, expected):
    assert sanitize_filename(raw) == expected


LONG = [("ascii-300", "a" * 300 + ".pdf"), ("korean-300", "계" * 300 + ".pdf")]


@pytest.mark.parametrize("raw", [r for _, r in LONG], ids=[i for i, _ in LONG])
def test_long_name_is_capped_at_255_bytes_keeping_its_extension(raw):
    name = sanitize_filename(raw)
    assert len(name.encode()) <= 255 and name.endswith(".pdf") and name[0] == raw[0]
    name.encode().decode()  # no character cut in half


# -- fixtures ----------------------------------------------------------------------------------------------------


@pytest.fixture
def parents(make_inventory: Any) -> dict[str, Any]:
    inv = make_inventory(1)
    line = inv["lines"][0]
    return {"line": line, "carrier": inv["carriers"][0],
            "contract": Contract.objects.create(line=line, mrc=Decimal(1200))}


@pytest.fixture
def engineer(user_with_role: Any) -> Client:
    client = Client()
    client.force_login(user_with_role(Role.ENGINEER.value))
    return client


@pytest.fixture
def admin_api(user_with_role: Any) -> Client:
    _, key = Token.create(user=user_with_role(Role.ADMIN.value), name="documents", scope=TokenScope.WRITE)
    return Client(HTTP_AUTHORIZATION=f"Bearer {key}")


def stored_files() -> set[str]:
    root = documents.store().root
    return {p.name for p in root.iterdir()} if root.exists() else set()


def upload(client: Client, parent_field: str, parent: Any, name: str, content: bytes, *, htmx: bool = False,
           meta: dict[str, str] | None = None, **extra: Any) -> Any:
    data = {parent_field: parent.pk, "kind": DocumentKind.CONTRACT.value, "title": "", **extra,
            "file": SimpleUploadedFile(name, content, content_type="application/pdf")}
    headers = ({"HTTP_HX_REQUEST": "true"} if htmx else {}) | (meta or {})
    return client.post("/inventory/documents/add/", data, **headers)


@pytest.fixture
def small_limit(settings: Any) -> int:
    """``web.documents.max_size_bytes`` of 4 KiB for this test."""
    limit = 4096
    web = settings.LINEWATCH.web.model_copy(update={"documents": DocumentSettings(max_size_bytes=limit)})
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"web": web})
    return limit


# -- types -------------------------------------------------------------------------------------------------------

ALLOWED = [
    ("pdf", "contract.pdf", samples.pdf, "application/pdf"),
    ("png", "scan.png", samples.png, "image/png"),
    ("jpeg-jpg", "photo.jpg", samples.jpeg, "image/jpeg"),
    ("jpeg-jpeg", "photo.JPEG", samples.jpeg, "image/jpeg"),
    ("xlsx", "quote.xlsx", samples.xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("docx", "order.docx", samples.docx,
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("csv", "usage.csv", samples.csv, "text/csv; charset=utf-8"),
    ("csv-euc-kr", "요금.csv", samples.csv_euc_kr, "text/csv; charset=euc-kr"),
    ("txt", "검수.txt", samples.txt, "text/plain; charset=utf-8"),
    ("eml", "invoice-mail.eml", samples.eml, "message/rfc822"),
    ("msg", "invoice-mail.msg", samples.msg, "application/vnd.ms-outlook"),
]


@pytest.mark.parametrize(("name", "make", "content_type"), [a[1:] for a in ALLOWED], ids=[a[0] for a in ALLOWED])
def test_each_allowed_type_is_accepted_with_the_type_of_its_content(engineer, parents, name, make, content_type):
    content = make()
    response = upload(engineer, "line", parents["line"], name, content)
    assert response.status_code == 302, response.context["document_form"].errors if response.context else response
    document = Document.objects.get(line=parents["line"])
    assert (document.file_name, document.content_type, document.size_bytes) == (name, content_type, len(content))
    path = documents.store().path(document.storage_name)
    assert path.read_bytes() == content
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700


REFUSED = [
    ("pdf-that-is-html", "contract.pdf", samples.html, "text/html"),
    ("pdf-that-is-an-exe", "contract.pdf", samples.exe, "application/x-msdownload"),
    ("xlsx-with-macros", "quote.xlsx", samples.xlsm, "macros"),
    ("docx-that-is-a-zip", "order.docx", samples.zip_archive, "application/zip"),
    ("png-that-is-a-jpeg", "scan.png", samples.jpeg, "image/jpeg"),
    ("txt-that-is-an-exe", "notes.txt", samples.exe, "application/x-msdownload"),
    ("csv-that-is-html", "usage.csv", samples.html, "text/html"),
    ("msg-that-is-not-outlook", "mail.msg", lambda: samples.msg(outlook=False), "application/x-ole-storage"),
    ("html-extension", "page.html", samples.html, ".html files are not accepted"),
    ("exe-extension", "setup.exe", samples.exe, ".exe files are not accepted"),
    ("no-extension", "../../etc/passwd", samples.txt, "passwd has no file name extension"),
    ("empty-file", "empty.pdf", lambda: b"", "empty.pdf is empty"),
]


@pytest.mark.parametrize(("name", "make", "reason"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_upload_whose_content_or_extension_is_not_allowed_is_refused_with_a_field_error(engineer, parents, name,
                                                                                       make, reason):
    before = stored_files()
    response = upload(engineer, "line", parents["line"], name, make())
    assert response.status_code == 200
    errors = response.context["document_form"].errors
    assert list(errors) == ["file"] and reason in " ".join(errors["file"]), errors
    assert not Document.objects.exists() and stored_files() == before


def test_only_the_configured_types_are_accepted(engineer, parents, settings):
    web = settings.LINEWATCH.web.model_copy(update={"documents": DocumentSettings(allowed_types=["pdf"])})
    settings.LINEWATCH = settings.LINEWATCH.model_copy(update={"web": web})
    response = upload(engineer, "line", parents["line"], "scan.png", samples.png())
    assert ".png files are not accepted: give one of .pdf" in " ".join(response.context["document_form"].errors["file"])


# -- size --------------------------------------------------------------------------------------------------------


def test_oversized_upload_is_refused_with_a_field_error_not_stored(engineer, parents, small_limit):
    before = stored_files()
    response = upload(engineer, "line", parents["line"], "big.pdf", samples.pdf() + b"0" * (small_limit * 3))
    assert response.status_code == 200
    message = " ".join(response.context["document_form"].errors["file"])
    assert "big.pdf is too large" in message and "web.documents.max_size_bytes" in message, message
    assert not Document.objects.exists() and stored_files() == before


def test_oversized_upload_through_the_api_is_a_400_naming_the_file_field(admin_api, parents, small_limit):
    response = admin_api.post("/api/inventory/documents/", {
        "line": parents["line"].pk, "file": SimpleUploadedFile("big.pdf", samples.pdf() + b"0" * small_limit * 3)})
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"file"} and "too large" in response.json()["file"][0]


OVERSIZE_ROUTES = [("page", "/inventory/documents/add/", "engineer"), ("api", "/api/inventory/documents/", "admin")]


@pytest.mark.parametrize(("url", "role"), [r[1:] for r in OVERSIZE_ROUTES], ids=[r[0] for r in OVERSIZE_ROUTES])
def test_oversized_upload_never_reaches_memory_or_a_temporary_file(user_with_role, parents, small_limit, monkeypatch,
                                                                 url, role):
    """The page and the API put the size limit first: Django's memory and temporary-file handlers get at most the
    limit and one chunk of a 1 MiB upload, not the whole of it."""
    from django.core.files import uploadhandler

    received = []
    for handler in (uploadhandler.MemoryFileUploadHandler, uploadhandler.TemporaryFileUploadHandler):
        original = handler.receive_data_chunk

        def counting(self: Any, raw_data: bytes, start: int, _original: Any = original) -> Any:
            received.append(len(raw_data))
            return _original(self, raw_data, start)

        monkeypatch.setattr(handler, "receive_data_chunk", counting)
    client = Client()
    client.force_login(user_with_role(role))
    size = 1024 * 1024
    response = client.post(url, {"line": parents["line"].pk,
                                 "file": SimpleUploadedFile("big.pdf", samples.pdf() + b"0" * size)})
    assert response.status_code in (200, 400) and not Document.objects.exists()
    assert sum(received) <= small_limit + uploadhandler.FileUploadHandler.chunk_size < size


def test_size_limit_handler_drops_the_rest_of_an_oversized_file_as_it_arrives(rf, small_limit):
    """Django's own multipart parser with our handler first: the handlers after it (memory, temporary file) never
    receive more than the limit plus one chunk, and the form gets a stand-in that says how much arrived."""
    from django.core.files.uploadhandler import FileUploadHandler
    from django.http.multipartparser import MultiPartParser

    from web.inventory.uploads import OversizedUpload, SizeLimitUploadHandler

    class Recorder(FileUploadHandler):
        chunk_size = 1024
        received = 0

        def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
            Recorder.received += len(raw_data)
            return raw_data

        def file_complete(self, file_size: int) -> None:
            return None

    size = small_limit * 50
    request = rf.post("/", {"file": SimpleUploadedFile("big.pdf", b"x" * size)})
    handlers = [SizeLimitUploadHandler(request, limit_bytes=small_limit), Recorder(request)]
    SizeLimitUploadHandler.chunk_size = 1024
    try:
        _, files = MultiPartParser(request.META, io.BytesIO(request.body), handlers).parse()
    finally:
        del SizeLimitUploadHandler.chunk_size
    got = files["file"]
    assert isinstance(got, OversizedUpload) and got.received_bytes == size
    assert Recorder.received <= small_limit + 1024


# -- storage, deletion, transactions -----------------------------------------------------------------------------


def test_failed_save_leaves_neither_a_row_nor_an_orphan_file(engineer, parents, monkeypatch):
    """The change-log row is written in the document's transaction: when it fails, the row is rolled back and the
    file already written is removed."""
    before = stored_files()

    def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(ObjectChange.objects, "create", fail)
    document = documents.prepare_document(line=parents["line"], kind="contract", title="",
                                          upload=SimpleUploadedFile("c.pdf", samples.pdf()))
    with pytest.raises(RuntimeError, match="disk full"):
        documents.add_document(document, user=None)
    assert not Document.objects.exists() and stored_files() == before


def test_deleting_a_document_removes_its_file_after_the_commit(engineer, parents,
                                                              django_capture_on_commit_callbacks):
    upload(engineer, "line", parents["line"], "c.pdf", samples.pdf())
    document = Document.objects.get()
    path = documents.store().path(document.storage_name)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = engineer.post(f"/inventory/documents/{document.pk}/delete/")
    assert response.status_code == 302 and response["Location"].endswith(f"/inventory/lines/{parents['line'].pk}/#documents")
    assert not Document.objects.exists()
    assert path.exists()  # not before the commit: a rolled-back deletion keeps its file
    for callback in callbacks:
        callback()
    assert not path.exists()


def test_deleting_the_parent_removes_its_documents_files(engineer, parents, django_capture_on_commit_callbacks):
    upload(engineer, "line", parents["line"], "c.pdf", samples.pdf())
    path = documents.store().path(Document.objects.get().storage_name)
    with django_capture_on_commit_callbacks(execute=True):
        parents["line"].delete()  # cascades to the contract and every document of both
    assert not Document.objects.exists() and not path.exists()


def test_same_file_twice_on_one_parent_is_refused(engineer, parents):
    assert upload(engineer, "line", parents["line"], "a.pdf", samples.pdf()).status_code == 302
    again = upload(engineer, "line", parents["line"], "b.pdf", samples.pdf())
    assert "already attached here as a.pdf" in " ".join(again.context["document_form"].errors["file"])
    assert upload(engineer, "carrier", parents["carrier"], "b.pdf", samples.pdf()).status_code == 403  # engineer


def test_a_document_has_exactly_one_parent_in_the_database(parents):
    from django.db import IntegrityError, transaction

    fields = {"file_name": "a.pdf", "size_bytes": 1, "sha256": "0" * 64, "content_type": "application/pdf"}
    for n, parent_fields in enumerate([{}, {"line": parents["line"], "carrier": parents["carrier"]}]):
        with pytest.raises(IntegrityError), transaction.atomic():
            Document.objects.create(storage_name=f"{n:032x}", **parent_fields, **fields)


def test_upload_without_a_parent_or_with_two_is_refused(engineer, parents):
    data = {"kind": "contract", "file": SimpleUploadedFile("a.pdf", samples.pdf())}
    assert engineer.post("/inventory/documents/add/", data).status_code == 404
    data = {"line": parents["line"].pk, "carrier": parents["carrier"].pk,
            "file": SimpleUploadedFile("a.pdf", samples.pdf())}
    assert engineer.post("/inventory/documents/add/", data).status_code == 404


# -- downloads ---------------------------------------------------------------------------------------------------


def test_download_is_an_attachment_with_the_korean_name_in_filename_star_and_the_detected_type(engineer, parents):
    name = "계약서_2026.pdf"
    upload(engineer, "line", parents["line"], name, samples.pdf())
    document = Document.objects.get()
    response = engineer.get(f"/inventory/documents/{document.pk}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == samples.pdf()
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f"attachment; filename=\"_2026.pdf\"; filename*=UTF-8''{quote(name)}"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


def test_text_is_downloaded_with_its_charset(engineer, parents):
    upload(engineer, "line", parents["line"], "요금.csv", samples.csv_euc_kr())
    response = engineer.get(f"/inventory/documents/{Document.objects.get().pk}/download/")
    assert response["Content-Type"] == "text/csv; charset=euc-kr"


def test_documents_folder_is_not_served(engineer, parents):
    upload(engineer, "line", parents["line"], "c.pdf", samples.pdf())
    name = Document.objects.get().storage_name
    for url in (f"/static/{name}", f"/media/{name}", f"/documents/{name}", f"/static/documents/{name}"):
        assert engineer.get(url).status_code == 404


# -- change log --------------------------------------------------------------------------------------------------


def test_upload_and_delete_are_change_logged_with_name_size_and_sha256_never_the_content(engineer, parents):
    content = samples.txt()
    upload(engineer, "line", parents["line"], "검수.txt", content, meta={"REMOTE_ADDR": "192.0.2.9"})
    document = Document.objects.get()
    engineer.post(f"/inventory/documents/{document.pk}/delete/", REMOTE_ADDR="192.0.2.9")
    rows = ObjectChange.objects.filter(changed_object_id=document.pk,
                                       changed_object_type__model="document").order_by("pk")
    assert [r.action for r in rows] == [ChangeAction.CREATE, ChangeAction.DELETE]
    for row, data in zip(rows, (rows[0].postchange_data, rows[1].prechange_data), strict=True):
        assert row.user_name.endswith("-engineer") and row.remote_addr == "192.0.2.9"
        assert (data["file_name"], data["size_bytes"], data["sha256"]) == (
            "검수.txt", len(content), document.sha256)
        assert content.decode() not in str(row.prechange_data) + str(row.postchange_data)


# -- the section in the pages ------------------------------------------------------------------------------------


def test_htmx_upload_answers_the_documents_section_with_the_new_document(engineer, parents):
    response = upload(engineer, "line", parents["line"], "계약서.pdf", samples.pdf(), htmx=True, title="Main contract")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="documents"') and "Main contract" in html and "계약서.pdf" in html
    assert "<html" not in html


def test_htmx_upload_error_keeps_the_title_typed(engineer, parents):
    response = upload(engineer, "line", parents["line"], "c.pdf", samples.html(), htmx=True, title="Signed copy")
    html = response.content.decode()
    assert 'value="Signed copy"' in html and "text/html" in html


@pytest.mark.parametrize("page", ["line", "carrier", "contract"])
def test_parent_page_shows_its_documents_section(user_with_role, parents, page):
    admin = Client()
    admin.force_login(user_with_role(Role.ADMIN.value))
    upload(admin, page, parents[page], f"{page}.pdf", samples.pdf())
    html = admin.get(parents[page].get_absolute_url()).content.decode()
    assert 'id="documents"' in html and f"{page}.pdf" in html and 'action="/inventory/documents/add/"' in html


def test_contract_documents_have_an_upload_page(user_with_role, parents):
    finance = Client()
    finance.force_login(user_with_role(Role.FINANCE.value))
    page = finance.get("/inventory/documents/add/", {"contract": parents["contract"].pk})
    assert page.status_code == 200 and f'name="contract" value="{parents["contract"].pk}"' in page.content.decode()
    response = upload(finance, "contract", parents["contract"], "signed.pdf", samples.pdf())
    assert response.status_code == 302 and response["Location"].endswith("#documents")


def test_viewer_sees_documents_without_upload_form_or_delete_link(user_with_role, parents):
    admin, viewer = Client(), Client()
    admin.force_login(user_with_role(Role.ADMIN.value))
    viewer.force_login(user_with_role(Role.VIEWER.value))
    upload(admin, "line", parents["line"], "c.pdf", samples.pdf())
    html = viewer.get(parents["line"].get_absolute_url()).content.decode()
    assert "c.pdf" in html and "/inventory/documents/add/" not in html and "/delete/" not in html


# -- API ---------------------------------------------------------------------------------------------------------


def test_api_upload_list_filter_download_and_delete(admin_api, parents, django_capture_on_commit_callbacks):
    content = samples.xlsx()  # openpyxl writes the time into the file: one copy
    created = admin_api.post("/api/inventory/documents/", {
        "contract": parents["contract"].pk, "kind": "quote", "title": "Renewal quote",
        "file": SimpleUploadedFile("견적서.xlsx", content)})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["file_name"], body["kind"], body["contract"], body["size_bytes"]) == (
        "견적서.xlsx", "quote", parents["contract"].pk, len(content))
    assert "file" not in body and "storage_name" not in body
    admin_api.post("/api/inventory/documents/", {"line": parents["line"].pk,
                                                 "file": SimpleUploadedFile("a.pdf", samples.pdf())})
    listed = admin_api.get("/api/inventory/documents/", {"contract": parents["contract"].pk}).json()
    assert [d["id"] for d in listed["results"]] == [body["id"]]
    download = admin_api.get(body["download_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == content
    assert download["Content-Disposition"].startswith("attachment;")
    with django_capture_on_commit_callbacks(execute=True):
        assert admin_api.delete(f"/api/inventory/documents/{body['id']}/").status_code == 204
    assert admin_api.get(f"/api/inventory/documents/{body['id']}/").status_code == 404


API_REFUSED = [
    ("impostor", {"file": ("c.pdf", samples.html())}, "file"),
    ("no-parent", {"parent": None, "file": ("c.pdf", samples.pdf())}, "non_field_errors"),
    ("no-file", {}, "file"),
    ("bad-kind", {"kind": "love-letter", "file": ("c.pdf", samples.pdf())}, "kind"),
]


@pytest.mark.parametrize(("data", "field"), [c[1:] for c in API_REFUSED], ids=[c[0] for c in API_REFUSED])
def test_api_upload_errors_name_the_field(admin_api, parents, data, field):
    payload: dict[str, Any] = {} if data.get("parent", 1) is None else {"line": parents["line"].pk}
    payload |= {k: (SimpleUploadedFile(*v) if k == "file" else v) for k, v in data.items() if k != "parent"}
    response = admin_api.post("/api/inventory/documents/", payload)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Document.objects.exists()


def test_settings_refuse_an_unknown_document_type(tmp_path: Path):
    from linewatch.errors import ConfigError
    from linewatch.settings import load_settings

    config = tmp_path / "linewatch.yaml"
    config.write_text("web:\n  documents:\n    allowed_types: [pdf, exe]\n")
    with pytest.raises(ConfigError) as exc:
        load_settings(config)
    assert "web.documents.allowed_types" in str(exc.value) and "linewatch.yaml" in str(exc.value)


def test_documents_folder_default_is_under_the_state_dir(settings):
    assert documents.store().root == Path(settings.STATE_DIR) / "documents"
    assert os.fspath(documents.store().root).startswith(os.fspath(settings.STATE_DIR))


def test_documents_section_and_errors_are_in_korean(engineer, parents):
    response = upload(engineer, "line", parents["line"], "계약서.pdf", samples.html(), htmx=True,
                      meta={"HTTP_ACCEPT_LANGUAGE": "ko"})
    html = response.content.decode()
    assert "문서 업로드" in html and "확장자 .pdf와(과) 맞지 않습니다" in html and "계약서" in html


def test_documents_check_finds_orphan_files_and_rows_without_their_file(parents):
    """A crash between writing a file and committing its row leaves an orphan; a restored folder may lack a file.
    The check lists both; --delete-orphans removes orphans old enough not to be an upload in flight."""
    from django.core.management import CommandError, call_command

    def add(name: str, content: bytes) -> Document:
        return documents.add_document(documents.prepare_document(
            line=parents["line"], kind="other", title="", upload=SimpleUploadedFile(name, content)), user=None)

    kept, lost = add("kept.pdf", samples.pdf()), add("lost.txt", samples.txt())
    root = documents.store().root
    documents.store().path(lost.storage_name).unlink()
    old, young = root / ("a" * 32), root / ("b" * 32 + ".part")
    old.write_bytes(b"x")
    young.write_bytes(b"y")
    os.utime(old, (0, 0))
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("documents_check", stdout=out)
    report = out.getvalue()
    assert f"orphan file {old}" in report and str(young) not in report
    assert f"document {lost.pk} (lost.txt" in report and kept.file_name not in report
    with pytest.raises(CommandError):  # the missing file is still missing
        call_command("documents_check", "--delete-orphans", stdout=io.StringIO())
    assert not old.exists() and young.exists() and documents.store().path(kept.storage_name).exists()
    young.unlink()


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_document_changes_are_visible_in_the_change_log_to_every_role(user_with_role, parents, role):
    """Documents had no view permission, so the change log's rule (view permission of the changed model) hid their
    history from every role but superusers."""
    from web.audit.permissions import visible_changes

    document = documents.add_document(documents.prepare_document(
        line=parents["line"], kind="contract", title="", upload=SimpleUploadedFile("c.pdf", samples.pdf())), user=None)
    visible = visible_changes(user_with_role(role)).filter(changed_object_type__model="document")
    assert list(visible.values_list("changed_object_id", flat=True)) == [document.pk]
