"""The PDF test rig of the reports: pages turned into PNG (``pdftoppm``, Debian's poppler-utils) and read back
with OCR (``tesseract`` with the Korean and English models), so a test sees what a reader sees.

``pdftotext`` alone is not enough: it reads the text layer, which holds the right code points even when the font
lacks Hangul and every syllable is drawn as an empty box. OCR of the rendered pixels only finds Korean that was
drawn. :func:`embedded_fonts` adds the cheap half of the proof: every font is embedded and a CJK font is among them.

    pages = read_pdf(pdf_bytes, tmp_path)           # PNG per page, text layer, OCR per page
    pages.assert_drawn("월간 회선 사용률", "82.4 %")   # each must be found in the OCR of some page
    assert pages.cjk_font_embedded

OCR is tolerant (whitespace ignored; a needle matches when a window of the page's text is at least
``min_ratio`` alike — Hangul OCR confuses a jamo now and then); numbers and short needles must match exactly.
The PNGs are copied to ``tests/artifacts/reports/`` (not committed) for a person to look at after a failure.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "reports"
TOOLS = ("pdftoppm", "pdftotext", "pdffonts", "tesseract")
_SPACE = re.compile(r"\s+")


def missing_tools() -> list[str]:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if "tesseract" not in missing:
        langs = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True, check=False).stdout
        missing += [f"tesseract-ocr-{lang}" for lang in ("kor", "eng") if lang not in langs.split()]
    return missing


def require_tools() -> None:
    """Fail (not skip) when the rig's tools are missing: scripts/ensure-sysdeps.sh installs them."""
    missing = missing_tools()
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: run scripts/ensure-sysdeps.sh (poppler-utils, tesseract-ocr, "
                    f"tesseract-ocr-kor)")


# Glyphs tesseract confuses in bold or large type ("1 h 15 min" read as "1hi5 min"): compared as one. The
# exact characters are checked in the text layer; OCR only has to prove they were drawn.
_CONFUSABLE = str.maketrans({"l": "1", "i": "1", "I": "1", "|": "1", "!": "1", "O": "0", "o": "0", "«": "",
                             "·": "", "ㆍ": "", "•": "", "–": "-", "—": "-", "‘": "'", "’": "'"})


def normalize(text: str) -> str:
    """What OCR comparisons see: no whitespace, dots and dashes unified, confusable glyphs as one, case folded."""
    return _SPACE.sub("", text).casefold().translate(_CONFUSABLE)


def fuzzy_contains(haystack: str, needle: str, *, min_ratio: float = 0.8) -> bool:
    """``needle`` in ``haystack`` after :func:`normalize`; fuzzy (a window at least ``min_ratio`` alike) only for
    needles of 4+ characters with no digit: a figure must be read exactly."""
    h, n = normalize(haystack), normalize(needle)
    if not n:
        return True
    if n in h:
        return True
    if len(n) < 4 or any(c.isdigit() for c in n) or min_ratio >= 1:
        return False
    matcher = difflib.SequenceMatcher(autojunk=False)
    matcher.set_seq2(n)
    for size in {len(n) - 1, len(n), len(n) + 1}:
        for start in range(max(len(h) - size, 0) + 1):
            matcher.set_seq1(h[start:start + size])
            if matcher.real_quick_ratio() >= min_ratio and matcher.quick_ratio() >= min_ratio \
                    and matcher.ratio() >= min_ratio:
                return True
    return False


@dataclass
class Font:
    name: str
    type: str
    embedded: bool
    unicode: bool


@dataclass
class PdfPages:
    """A rendered PDF: its pages as PNG files, its text layer, the OCR of each page (computed when first used)."""

    pdf: Path
    pngs: list[Path]
    text_layer: str
    languages: str = "kor+eng"
    _ocr: dict[tuple[int, str], str] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return len(self.pngs)

    def ocr(self, page: int, *, psm: str = "11") -> str:
        """The OCR of ``page`` (0-based): tesseract's sparse-text reading (``psm`` 11: tables, figures, labels)
        by default, its block reading (``psm`` 3: paragraphs) on request; each done once."""
        key = (page, psm)
        if key not in self._ocr:
            self._ocr[key] = _tesseract(self.pngs[page], self.languages, psm)
        return self._ocr[key]

    def ocr_all(self) -> str:
        return "\n".join(self.ocr(i) for i in range(self.pages))

    def find(self, needle: str, *, min_ratio: float = 0.8) -> int | None:
        """The first page (0-based) whose OCR contains ``needle`` (the sparse reading, then the block reading),
        else None."""
        for psm in ("11", "3"):
            for i in range(self.pages):
                if fuzzy_contains(self.ocr(i, psm=psm), needle, min_ratio=min_ratio):
                    return i
        return None

    def assert_drawn(self, *needles: str, min_ratio: float = 0.8) -> None:
        """Every needle is drawn on some page (OCR), and is in the text layer too (searchable, copyable)."""
        missing = [n for n in needles if self.find(n, min_ratio=min_ratio) is None]
        not_text = [n for n in needles if _SPACE.sub("", n) not in _SPACE.sub("", self.text_layer)]
        assert not missing and not not_text, (
            f"{self.pdf.name}: not drawn (OCR) {missing!r}; not in the text layer {not_text!r}; "
            f"pages in {ARTIFACTS}; OCR read:\n{self.ocr_all()[:3000]}")

    @cached_property
    def fonts(self) -> list[Font]:
        return embedded_fonts(self.pdf)

    @property
    def cjk_font_embedded(self) -> bool:
        return any("CJK" in f.name and f.embedded for f in self.fonts)

    @property
    def all_fonts_embedded(self) -> bool:
        return bool(self.fonts) and all(f.embedded for f in self.fonts)


def read_pdf(pdf: bytes, folder: Path, *, name: str = "report", dpi: int = 200) -> PdfPages:
    """Write ``pdf`` to ``folder``, render its pages to grayscale PNG at ``dpi`` and extract the text layer.
    The PNGs are copied to :data:`ARTIFACTS` (``<name>-<page>.png``)."""
    require_tools()
    assert pdf.startswith(b"%PDF-"), f"{name}: not a PDF (starts {pdf[:16]!r})"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.pdf"
    path.write_bytes(pdf)
    prefix = folder / name
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(path), str(prefix)], check=True,
                   capture_output=True, timeout=120)
    pngs = sorted(folder.glob(f"{name}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    assert pngs, f"{name}: pdftoppm drew no page"
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True,
                          timeout=60).stdout
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for png in pngs:
        shutil.copyfile(png, ARTIFACTS / png.name)
    return PdfPages(pdf=path, pngs=pngs, text_layer=text)


def embedded_fonts(pdf: Path) -> list[Font]:
    """``pdffonts``' table: name, type, embedded, has a ToUnicode map."""
    out = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True, timeout=60).stdout
    fonts = []
    for line in out.splitlines()[2:]:
        cols = line.split()
        if len(cols) < 7:
            continue
        # name type… encoding emb sub uni object ID: the last 5 columns are fixed, the type has spaces
        emb, _sub, uni = cols[-5], cols[-4], cols[-3]
        fonts.append(Font(name=cols[0], type=" ".join(cols[1:-6]), embedded=emb == "yes", unicode=uni == "yes"))
    return fonts


def _tesseract(png: Path, languages: str, psm: str) -> str:
    # One thread: on a busy 2-core machine tesseract's OpenMP threads only fight each other (3x slower).
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    return subprocess.run(["tesseract", str(png), "-", "-l", languages, "--psm", psm], check=True,
                          capture_output=True, text=True, timeout=300, env=env).stdout
