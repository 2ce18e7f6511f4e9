"""Documents: the one validation the upload form and the API share, the private file store, adding and deleting
(atomic, no orphan file, no row without its file) and the download response. docs/web.md "Documents".

Files live in ``web.documents.path`` (default ``state_dir/documents``, mode 0700, files 0600) under random names;
nothing serves that folder: downloads go through the permission-checked views, as attachments.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.http import FileResponse, Http404
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from linewatch.choices import DocumentFileType, DocumentKind
from linewatch.fileperms import ensure_private_dir, open_private
from linewatch.settings import DocumentSettings
from web.inventory.models import Document
from web.inventory.uploads import (
    TEXT_TYPES,
    OversizedUpload,
    ascii_filename,
    detect,
    sanitize_filename,
    sha256_and_size,
    split_extension,
    type_for_extension,
)

log = logging.getLogger(__name__)

_STORAGE_NAME = re.compile(r"[0-9a-f]{32}")


def limits() -> DocumentSettings:
    return settings.LINEWATCH.web.documents


def allowed_extensions(allowed: list[DocumentFileType] | None = None) -> list[str]:
    return [ext for t in (allowed or limits().allowed_types) for ext in t.extensions]


# -- the private store -------------------------------------------------------------------------------------------


class DocumentStore:
    """Files under random names in a private folder; a file being written is ``NAME.part`` until complete."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str) -> Path:
        if not _STORAGE_NAME.fullmatch(name):
            raise ValueError(f"not a document storage name: {name!r}")
        return self.root / name

    def save(self, upload: Any) -> str:
        ensure_private_dir(self.root)
        name = secrets.token_hex(16)
        final = self.path(name)
        partial = final.with_name(name + ".part")
        with os.fdopen(open_private(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL), "wb") as out:
            upload.seek(0)
            for chunk in upload.chunks():
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, final)
        return name

    def open(self, name: str) -> IO[bytes]:
        return self.path(name).open("rb")

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)


def store() -> DocumentStore:
    configured = limits().path
    root = settings.LINEWATCH.resolve(configured) if configured else Path(settings.STATE_DIR) / "documents"
    return DocumentStore(root)


# -- the one validation ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedFile:
    file_name: str
    file_type: DocumentFileType
    content_type: str
    size_bytes: int
    sha256: str


def _size_limit_error(name: str, size_bytes: int, limit_bytes: int) -> ValidationError:
    return ValidationError({"file": [_(
        "%(name)s is too large: %(size)s, the limit is %(limit)s (%(limit_bytes)s bytes, "
        "web.documents.max_size_bytes)") % {
        "name": name, "size": filesizeformat(size_bytes), "limit": filesizeformat(limit_bytes),
        "limit_bytes": limit_bytes}]})


def check_file(upload: Any, *, rules: DocumentSettings | None = None) -> CheckedFile:
    """The uploaded file's sanitized name, type (from the content, agreeing with the extension), size and SHA-256;
    ``ValidationError`` on ``file`` saying why it is refused."""
    rules = rules or limits()
    if upload is None:
        raise ValidationError({"file": [_("choose a file to upload")]})
    name = sanitize_filename(upload.name)
    if isinstance(upload, OversizedUpload):
        raise _size_limit_error(name, upload.received_bytes, upload.limit_bytes)
    if upload.size > rules.max_size_bytes:
        raise _size_limit_error(name, upload.size, rules.max_size_bytes)
    if not upload.size:
        raise ValidationError({"file": [_("%(name)s is empty") % {"name": name}]})
    ext = split_extension(name)[1].lower()
    wanted = type_for_extension(ext, rules.allowed_types)
    if not wanted:
        reason = (_("%(name)s has no file name extension") % {"name": name} if not ext
                  else _("%(ext)s files are not accepted") % {"ext": ext})
        raise ValidationError({"file": [_("%(reason)s: give one of %(allowed)s") % {
            "reason": reason, "allowed": ", ".join(allowed_extensions(rules.allowed_types))}]})
    detected = detect(upload)
    expected = wanted[0]
    if detected.file_type is expected:
        content_type = detected.content_type
    elif expected in TEXT_TYPES and detected.charset is not None:
        content_type = f"{expected.media_type}; charset={detected.charset}"  # a .csv or .txt is plain text
    else:
        raise ValidationError({"file": [_(
            "the content of %(name)s is not what its extension %(ext)s says (%(expected)s): it is %(found)s") % {
            "name": name, "ext": ext, "expected": expected.media_type, "found": detected.description}]})
    sha256, size = sha256_and_size(upload)
    return CheckedFile(file_name=name, file_type=expected, content_type=content_type, size_bytes=size,
                       sha256=sha256)


def prepare_document(*, carrier: Model | None = None, contract: Model | None = None, line: Model | None = None,
                     kind: str | None, title: str | None, upload: Any) -> Document:
    """The would-be document, validated (its file checked, its model rules, no second copy of the same file on the
    same parent); ``ValidationError`` naming each field otherwise. Form and API both call this."""
    document = Document(carrier=carrier, contract=contract, line=line, kind=kind or DocumentKind.OTHER.value,
                        title=(title or "").strip())
    errors: dict[str, list[str]] = {}
    try:
        checked = check_file(upload)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    else:
        document.file_name, document.size_bytes, document.sha256, document.content_type = (
            checked.file_name, checked.size_bytes, checked.sha256, checked.content_type)
        document._upload = upload  # type: ignore[attr-defined]
        same = _same_file(document)
        if same is not None:
            errors["file"] = [_("this file is already attached here as %(document)s") % {"document": same}]
    try:
        document.full_clean(exclude=["storage_name", "uploaded_by_name", "file_name", "size_bytes", "sha256",
                                     "content_type"], validate_constraints=False)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    return document


def _same_file(document: Document) -> Document | None:
    parent = document.parent
    if parent is None:
        return None
    name = next(n for n in Document.parent_fields if getattr(document, f"{n}_id") is not None)
    return Document.objects.filter(**{name: parent}, sha256=document.sha256).first()


# -- adding and deleting (the only ways documents change) ---------------------------------------------------------


def add_document(document: Document, *, user: Any) -> Document:
    """Store the prepared ``document``'s file and save its row in one transaction of its own; if the row is not
    committed, the file is removed again (nothing half-saved). The change log records the row (not the content)."""
    upload = document._upload  # type: ignore[attr-defined]
    document.uploaded_by = user if getattr(user, "is_authenticated", False) else None
    document.uploaded_by_name = user.get_username() if document.uploaded_by else "system"
    files = store()
    document.storage_name = files.save(upload)
    try:
        with transaction.atomic(durable=True):
            document.save()
    except IntegrityError:
        files.delete(document.storage_name)
        if _same_file(document) is not None:  # a concurrent upload of the same file won the race
            raise ValidationError({"file": [_("this file is already attached here")]}) from None
        raise
    except BaseException:
        files.delete(document.storage_name)
        raise
    log.info("document %s attached to %s: %s, %s bytes, sha256 %s", document.pk, document.parent,
             document.file_name, document.size_bytes, document.sha256)
    return document


def delete_document(document: Document) -> None:
    """Delete the row (change-logged); its file goes once the deletion is committed (``post_delete`` below)."""
    with transaction.atomic(durable=True):
        document.delete()


def remove_file_after_commit(sender: type, instance: Document, **kwargs: Any) -> None:
    """Every deletion (one document, or a parent's cascade) removes the file, but only once committed."""
    name = instance.storage_name
    transaction.on_commit(lambda: store().delete(name))


# -- downloads ---------------------------------------------------------------------------------------------------


def content_disposition(file_name: str) -> str:
    """``attachment`` with an ASCII ``filename`` for old clients and the real name as RFC 5987 ``filename*``
    (RFC 6266 section 4.3)."""
    fallback = ascii_filename(file_name).replace("\\", "_").replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


def download_response(document: Document) -> FileResponse:
    try:
        handle = store().open(document.storage_name)
    except FileNotFoundError:
        log.error("document %s (%s): its file %s is missing from %s", document.pk, document.file_name,
                  document.storage_name, store().root)
        raise Http404(_("the file of this document is missing")) from None
    response = FileResponse(handle, content_type=document.content_type)
    response["Content-Disposition"] = content_disposition(document.file_name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response

