"""Small real files of every document type (and impostors) for the document tests, made here rather than shipped."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

_CT = "http://schemas.openxmlformats.org/package/2006/content-types"


def pdf() -> bytes:
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def jpeg() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64 + b"\xff\xd9"


def xlsx() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["회선", "금액"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _ooxml(main_part: str, main_type: str, folder: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{_CT}">'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   f'<Override PartName="{main_part}" ContentType="{main_type}"/></Types>')
        z.writestr("_rels/.rels", "<Relationships/>")
        z.writestr(main_part.lstrip("/"), f"<{folder}/>")
    return out.getvalue()


def docx() -> bytes:
    return _ooxml("/word/document.xml",
                  "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml", "w:document")


def xlsm() -> bytes:
    """A macro-enabled workbook (to be renamed .xlsx by the test)."""
    return _ooxml("/xl/workbook.xml", "application/vnd.ms-excel.sheet.macroEnabled.main+xml", "workbook")


def csv() -> bytes:
    return "line,amount\nLINE-001,1200.50\n회선-2,99\n".encode()


def csv_euc_kr() -> bytes:
    return "회선,금액\n서울-1,1000\n".encode("euc-kr")


def txt() -> bytes:
    return "최종 검수 결과: 정상\nacceptance test passed\n".encode()


def eml() -> bytes:
    return (b"From: Telia Billing <billing@telia.example>\r\nTo: finance@example.com\r\n"
            b"Subject: Invoice 2026-11\r\nDate: Mon, 30 Nov 2026 09:00:00 +0000\r\n"
            b"Message-ID: <inv-2026-11@telia.example>\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\nPlease find the invoice attached.\r\n")


def html() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def exe() -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" + b"\x00" * 64


def zip_archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("readme.txt", "hello")
    return out.getvalue()


def msg(*, outlook: bool = True) -> bytes:
    """An OLE2 compound file (512-byte sectors) holding empty streams: with ``outlook`` those of an Outlook
    message (``__properties_version1.0`` and a MAPI ``__substg1.0_`` property), else a Word-like stream."""
    names = ["__properties_version1.0", "__substg1.0_0037001F"] if outlook else ["WordDocument"]
    free, end, fat_sect, nostream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    header = (bytes.fromhex("D0CF11E0A1B11AE1") + bytes(16)
              + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + bytes(6)
              + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 0x1000, end, 0, end, 0)
              + struct.pack("<I", 0) + struct.pack("<I", free) * 108)
    fat = struct.pack("<II", fat_sect, end) + struct.pack("<I", free) * 126

    def entry(name: str, kind: int, *, right: int = nostream, child: int = nostream) -> bytes:
        encoded = (name + "\x00").encode("utf-16-le") if name else b""
        return (encoded.ljust(64, b"\x00") + struct.pack("<HBB", len(encoded), kind, 1)
                + struct.pack("<III", nostream, right, child) + bytes(16 + 4 + 16)
                + struct.pack("<IQ", end, 0))

    entries = [entry("Root Entry", 5, child=1)]
    for i, name in enumerate(names, start=1):
        entries.append(entry(name, 2, right=i + 1 if i < len(names) else nostream))
    while len(entries) % 4:
        entries.append(entry("", 0))
    return header + fat + b"".join(entries)
