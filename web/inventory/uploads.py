"""Checking an uploaded document: its name sanitized, its type recognised from the content, its size limited.

Pure functions (no database) plus the upload handler that enforces ``web.documents.max_size_bytes`` while the
request body arrives. The type comes from the bytes (``filetype``'s magic numbers, ``olefile`` for Outlook
messages, the standard library's e-mail parser and decoders for text), never from the client's Content-Type; the
file name's extension must be one of the recognised type's (:attr:`DocumentFileType.extensions`).
"""

from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import IO, Any
from xml.etree import ElementTree

import filetype
import olefile
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.translation import gettext as _
from pathvalidate import sanitize_filename as _pathvalidate_sanitize

from linewatch.choices import DocumentFileType

MAX_NAME_BYTES = 255  # a file name every common file system can hold (ext4, NTFS, APFS), in UTF-8 bytes
MAX_EXTENSION_CHARS = 16
FALLBACK_STEM = "document"
HEAD_BYTES = 8192  # what the magic-number matchers look at (filetype reads at most 8 KiB)

# Removed from names: control, format (bidirectional overrides such as U+202E that make "exe.pdf" read as
# "fdp.exe"), surrogate, private-use and unassigned characters, line and paragraph separators.
_DROPPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def sanitize_filename(name: str) -> str:
    """``name`` made safe to store, show and send back: the last path part only, NFC (a macOS name's decomposed
    Hangul becomes readable again), no control or format characters, no characters Windows forbids, no leading
    dots or spaces (hidden files), no reserved device name (``CON.pdf`` becomes ``CON_.pdf``), at most
    :data:`MAX_NAME_BYTES` UTF-8 bytes with its extension kept. Never empty."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(" " if c == "\t" or unicodedata.category(c) == "Zs" else c
                   for c in name if c == "\t" or unicodedata.category(c) not in _DROPPED_CATEGORIES)
    name = re.sub(r" {2,}", " ", name)
    stem, ext = split_extension(name)
    if len(name.encode()) > MAX_NAME_BYTES:  # before pathvalidate, which would cut the extension off
        stem = stem.encode()[: MAX_NAME_BYTES - len(ext.encode())].decode(errors="ignore")
    # Characters Windows forbids become "_" (never longer), a reserved device name gets a "_" appended.
    name = _pathvalidate_sanitize(stem + ext, platform="universal", replacement_text="_")
    stem, ext = split_extension(name.lstrip(". ").rstrip(". "))
    return (stem.rstrip(". ") or FALLBACK_STEM) + ext


_EXTENSION = re.compile(rf"\.([^.\s]{{1,{MAX_EXTENSION_CHARS}}})$")


def split_extension(name: str) -> tuple[str, str]:
    """``("report", ".pdf")``; an extension is the last dot's part, 1 to 16 letters or digits."""
    match = _EXTENSION.search(name)
    if match is None or match.start() == 0:
        return name, ""
    return name[: match.start()], name[match.start():]


def ascii_filename(name: str) -> str:
    """An ASCII stand-in for ``name`` (the ``filename=`` of Content-Disposition, for clients without RFC 5987)."""
    stem, ext = split_extension(name)
    plain = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    plain = re.sub(r"[^A-Za-z0-9 ._()+-]+", "_", plain).strip(" .") or FALLBACK_STEM
    return plain + re.sub(r"[^A-Za-z0-9.]", "", ext)


# -- the content's type ------------------------------------------------------------------------------------------


# Plain text: the content says "text" (or a mail, which is text too), the extension says which.
TEXT_TYPES = frozenset({DocumentFileType.TXT, DocumentFileType.CSV})


@dataclass(frozen=True)
class Detected:
    """What the content is: one of ours (``file_type``), or only a description of something else."""

    file_type: DocumentFileType | None
    description: str  # a media type, e.g. "application/pdf", "text/html", "application/x-msdownload"
    charset: str | None = None  # text: the encoding it decodes with

    @property
    def content_type(self) -> str:
        if self.file_type is None:
            return self.description
        media = self.file_type.media_type
        return f"{media}; charset={self.charset}" if self.charset and self.file_type in TEXT_TYPES else media


_FILETYPE_TYPES = {
    "application/pdf": DocumentFileType.PDF,
    "image/png": DocumentFileType.PNG,
    "image/jpeg": DocumentFileType.JPEG,
    DocumentFileType.XLSX.media_type: DocumentFileType.XLSX,
    DocumentFileType.DOCX.media_type: DocumentFileType.DOCX,
}
# The main part of an Office Open XML package ([Content_Types].xml): a macro-enabled workbook or document renamed
# to .xlsx/.docx has another one and is not accepted.
_OOXML_MAIN_PARTS = {
    DocumentFileType.XLSX: ("/xl/workbook.xml",
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
    DocumentFileType.DOCX: ("/word/document.xml",
                            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
}
_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_MARKUP = re.compile(rb"^\s*<(?:!doctype\s+html|html|head|body|script|iframe|svg|\?xml|!--)", re.IGNORECASE)
_TEXT_CHARSETS = ("utf-8", "euc-kr")  # UTF-8 (BOM or not) first; else the Korean legacy encoding (CP949/UHC)


def detect(file: IO[bytes]) -> Detected:
    """The type of the content of ``file`` (read from its start; its position is left at the start)."""
    file.seek(0)
    head = file.read(HEAD_BYTES)
    file.seek(0)
    if head.startswith(_OLE_MAGIC):
        return _detect_ole(file)
    kind = filetype.guess(head)
    if kind is not None:
        ours = _FILETYPE_TYPES.get(kind.mime)
        if ours in _OOXML_MAIN_PARTS and not _is_ooxml(file, ours):
            return Detected(None, _("an Office Open XML package of another kind (e.g. with macros)"))
        return Detected(ours, kind.mime)
    if _MARKUP.match(head.removeprefix(codecs.BOM_UTF8)):
        return Detected(None, "text/html")
    charset = _text_charset(file)
    if charset is None:
        return Detected(None, "application/octet-stream")
    if _is_email(head):
        return Detected(DocumentFileType.EML, DocumentFileType.EML.media_type, charset=charset)
    return Detected(DocumentFileType.TXT, DocumentFileType.TXT.media_type, charset=charset)


def _detect_ole(file: IO[bytes]) -> Detected:
    """An OLE2 compound file: an Outlook message has a property stream and MAPI substorage streams."""
    try:
        ole = olefile.OleFileIO(file)
        try:
            streams = ["/".join(s) for s in ole.listdir()]
        finally:
            ole.close()
    except (OSError, ValueError):  # olefile's errors are OSErrors
        return Detected(None, "application/x-ole-storage")
    finally:
        file.seek(0)
    if "__properties_version1.0" in streams and any(s.startswith("__substg1.0_") for s in streams):
        return Detected(DocumentFileType.MSG, DocumentFileType.MSG.media_type)
    return Detected(None, "application/x-ole-storage")


def _is_ooxml(file: IO[bytes], file_type: DocumentFileType) -> bool:
    part, wanted = _OOXML_MAIN_PARTS[file_type]
    try:
        with zipfile.ZipFile(file) as package:
            info = package.getinfo("[Content_Types].xml")
            if info.file_size > 1024 * 1024:
                return False
            types = ElementTree.fromstring(package.read(info))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError, OSError, ValueError):
        return False
    finally:
        file.seek(0)
    for override in types.iter("{http://schemas.openxmlformats.org/package/2006/content-types}Override"):
        if override.get("PartName") == part:
            return override.get("ContentType") == wanted
    return False


def _text_charset(file: IO[bytes]) -> str | None:
    """The first of :data:`_TEXT_CHARSETS` the whole content decodes with and has no NUL or other C0 control
    (tab, line feed, carriage return and form feed aside): None for binary content."""
    for charset in _TEXT_CHARSETS:
        decoder = codecs.getincrementaldecoder("utf-8-sig" if charset == "utf-8" else "cp949")()
        file.seek(0)
        try:
            for chunk in _chunks(file):
                if _has_controls(decoder.decode(chunk)):
                    break
            else:
                decoder.decode(b"", final=True)
                return charset
        except UnicodeDecodeError:
            continue
        finally:
            file.seek(0)
    return None


def _has_controls(text: str) -> bool:
    return any(ord(c) < 32 and c not in "\t\n\r\f" or c == "\x7f" for c in text)


def _is_email(head: bytes) -> bool:
    """An RFC 5322 message: its header block parses without defects and has From and Date or Message-ID."""
    end = re.search(rb"\r?\n\r?\n", head)
    if end is None or not re.match(rb"[!-9;-~]+:", head):
        return False
    message = BytesHeaderParser(policy=compat32).parsebytes(head[: end.end()])
    return not message.defects and "From" in message and ("Date" in message or "Message-ID" in message)


def _chunks(file: IO[bytes], size: int = 64 * 1024) -> Iterator[bytes]:
    while chunk := file.read(size):
        yield chunk


def sha256_and_size(file: IO[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    file.seek(0)
    for chunk in _chunks(file):
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    return digest.hexdigest(), size


def type_for_extension(ext: str, allowed: Iterable[DocumentFileType]) -> list[DocumentFileType]:
    """The allowed types whose extensions include ``ext`` (a CSV is text with a .csv name)."""
    return [t for t in allowed if ext.lower() in t.extensions]


# -- the size limit while the body arrives -----------------------------------------------------------------------


class OversizedUpload(UploadedFile):
    """Stands for a file that was larger than the limit: its bytes were dropped as they arrived (neither kept in
    memory nor written to disk); the checks refuse it by ``received_bytes``."""

    def __init__(self, *, name: str, field_name: str, received_bytes: int, limit_bytes: int) -> None:
        import io

        super().__init__(file=io.BytesIO(), name=name, content_type="application/octet-stream", size=0)
        self.field_name = field_name
        self.received_bytes = received_bytes
        self.limit_bytes = limit_bytes


class SizeLimitUploadHandler(FileUploadHandler):
    """First of the request's upload handlers: passes a file's chunks on to Django's memory/temporary-file handlers
    until it exceeds ``limit_bytes``, then drops the rest and hands the form an :class:`OversizedUpload`."""

    def __init__(self, request: Any = None, *, limit_bytes: int) -> None:
        super().__init__(request)
        self.limit_bytes = limit_bytes
        self.received = 0
        self.oversized = False

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0
        self.oversized = bool(self.content_length and self.content_length > self.limit_bytes)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > self.limit_bytes:
            if not self.oversized:
                self.oversized = True
                self._drop_other_handlers_files()
            return None  # the next handlers never see this chunk or the following ones
        return raw_data

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if not self.oversized:
            return None  # the next handler (memory or temporary file) returns the file
        return OversizedUpload(name=self.file_name or "", field_name=self.field_name or "",
                               received_bytes=self.received, limit_bytes=self.limit_bytes)

    def _drop_other_handlers_files(self) -> None:
        for handler in getattr(self.request, "upload_handlers", ()):
            partial = getattr(handler, "file", None) if handler is not self else None
            if partial is not None:
                partial.close()  # a temporary file is deleted when closed


def install_size_limit(request: Any, limit_bytes: int) -> None:
    """Put :class:`SizeLimitUploadHandler` first on ``request`` (before its body is parsed)."""
    handlers = request.upload_handlers
    if not any(isinstance(h, SizeLimitUploadHandler) for h in handlers):
        handlers.insert(0, SizeLimitUploadHandler(request, limit_bytes=limit_bytes))
