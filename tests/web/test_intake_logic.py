"""The intake's pure parts, table-driven: routing a file to its carrier, reading an email, the drop folder's
complete files, safe file names."""

from __future__ import annotations

from pathlib import Path

import pytest
from intake_support import docx_bytes, email_with, invoice_csv, write_carriers_yaml

from billing_etl.config import CarriersFile
from linewatch.yamlconf import load_model
from web.intake.folder import ready_files, stable
from web.intake.mail import parse_message, safe_filename
from web.intake.routing import Routed, domain_of, route


@pytest.fixture(scope="module")
def carriers(tmp_path_factory: pytest.TempPathFactory) -> list:
    path = write_carriers_yaml(tmp_path_factory.mktemp("carriers") / "carriers.yaml")
    return list(load_model(path, CarriersFile)[0].carriers)


DOMAINS = {"Acme Telecom": {"acme.example"}, "Other Carrier": {"other.example"}}
ROUTES = [
    # filename, sender, carrier or None, words of the reason
    ("acme-2026-11.csv", "", "Acme Telecom", "file name pattern 'acme-*.csv'"),
    ("other-2026-11.xlsx", "", "Other Carrier", "file name pattern 'other-*.xlsx'"),
    ("ACME-2026-11.csv", "", None, "no carrier's file pattern matches 'ACME-2026-11.csv'"),  # patterns: case matters
    ("Rechnung.csv", "billing@acme.example", "Acme Telecom", "sender domain acme.example"),
    ("Rechnung.csv", "Billing@ACME.example", "Acme Telecom", "sender domain acme.example"),
    ("Rechnung.pdf", "billing@acme.example", None, "is not a csv file (.csv, .txt)"),
    ("Rechnung.csv", "billing@other.example", None, "is not a xlsx file (.xlsx)"),
    ("Rechnung.csv", "someone@unknown.example", None, "unknown.example is no carrier's billing contact"),
    ("Rechnung.csv", "", None, "(tried Acme Telecom: acme-*.csv; Other Carrier: other-*.xlsx)"),
]


@pytest.mark.parametrize(("filename", "sender", "carrier", "words"), ROUTES,
                         ids=[f"{f}-{s or 'no-sender'}" for f, s, _c, _w in ROUTES])
def test_a_file_is_routed_by_pattern_then_by_sender(carriers, filename, sender, carrier, words):
    routed = route(filename, carriers=carriers, sender=sender, billing_domains=DOMAINS)
    if carrier is None:
        assert not isinstance(routed, Routed) and words in routed.reason
    else:
        assert isinstance(routed, Routed) and routed.carrier.name == carrier and routed.by == words


def test_a_pattern_under_a_subfolder_matches_the_bare_file_name(carriers):
    nested = carriers[0].model_copy(update={"files": ["acme/acme-*.csv"]})
    assert isinstance(route("acme-1.csv", carriers=[nested]), Routed)


@pytest.mark.parametrize(("address", "domain"), [("a@B.example", "b.example"), ("<a@b.example>", "b.example"),
                                                 ("nobody", ""), ("", "")])
def test_domain_of(address, domain):
    assert domain_of(address) == domain


def test_an_email_is_read_into_identity_sender_subject_date_and_attachments():
    msg = email_with(("acme-1.csv", invoice_csv("A-1"), "text/csv"), ("terms.docx", docx_bytes(), "application/zip"),
                     message_id="<abc@acme.example>")
    parsed = parse_message(msg.as_bytes())
    assert (parsed.message_id, parsed.sender, parsed.subject) == ("<abc@acme.example>", "billing@acme.example",
                                                                  "Your invoice")
    assert parsed.date is not None and parsed.date.isoformat() == "2026-11-30T09:00:00+00:00"
    assert [(a.filename, a.data) for a in parsed.attachments] == [("acme-1.csv", invoice_csv("A-1")),
                                                                   ("terms.docx", docx_bytes())]


def test_an_email_without_message_id_is_known_by_the_sha256_of_its_bytes():
    raw = email_with(message_id=None).as_bytes()
    first, second = parse_message(raw), parse_message(raw + b"\n")
    assert first.message_id.startswith("sha256:") and first.message_id != second.message_id
    assert parse_message(raw).message_id == first.message_id and first.attachments == ()


@pytest.mark.parametrize(("name", "safe"), [
    ("../../etc/passwd", "passwd"), ("C:\\Users\\x\\inv.csv", "inv.csv"), (".hidden.csv", "hidden.csv"),
    ("", "fallback"), ("a\x00b\nc.csv", "abc.csv"), ("x" * 300 + ".csv", "x" * 196 + ".csv"),
], ids=["traversal", "windows-path", "leading-dot", "empty", "control-chars", "too-long"])
def test_safe_filename(name, safe):
    assert safe_filename(name, fallback="fallback") == safe


LOOKS = [
    ({"a": (10, 1)}, {"a": (10, 1)}, ["a"]),
    ({"a": (10, 1)}, {"a": (11, 2)}, []),  # grew between the looks
    ({"a": (10, 1)}, {"a": (10, 2)}, []),  # rewritten, same size
    ({}, {"a": (10, 1)}, []),  # appeared between the looks
    ({"a": (0, 1)}, {"a": (0, 1)}, []),  # empty: created, not written yet
    ({"a": (10, 1), "b": (5, 1)}, {"b": (5, 1)}, ["b"]),  # a moved away meanwhile
]


@pytest.mark.parametrize(("first", "second", "ready"), LOOKS,
                         ids=["unchanged", "grew", "rewritten", "new", "empty", "gone"])
def test_a_file_is_complete_when_two_looks_agree(first, second, ready):
    def paths(look: dict) -> dict:
        return {Path(k): v for k, v in look.items()}

    assert stable(paths(first), paths(second)) == [Path(r) for r in ready]


def test_ready_files_skips_temporary_names_and_subfolders(tmp_path):
    for name in ("acme-1.csv", ".acme-2.csv", "acme-3.csv.part", "acme-4.tmp", "acme-5.csv~"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "imported").mkdir()
    (tmp_path / "imported" / "acme-6.csv").write_bytes(b"x")
    looks: list[float] = []
    assert ready_files(tmp_path, settle_s=2.5, sleep=looks.append) == [tmp_path / "acme-1.csv"]
    assert looks == [2.5]


@pytest.mark.parametrize(("row", "where", "expected"), [
    (7, "", {"page": None, "row": 7}),
    (2005, "page 2 row 5", {"page": 2, "row": 5}),
])
def test_quarantined_pdf_rows_named_by_page_and_row(row, where, expected):
    """Regression: a PDF's quarantined row was shown as "row 2005" (its grid number, page × 1000 + row)."""
    from billing_etl.importer import QuarantinedRow
    from web.intake.collect import _place

    assert _place(QuarantinedRow("dt.pdf", row, "amount", "bad", where=where)) == expected
