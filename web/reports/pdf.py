"""HTML → PDF with WeasyPrint. Page size, margins, the running header (report title, period) and the footer
with page numbers are CSS (``@page`` in ``static/reports/report.css``); here only the conversion and the fonts.

Korean needs a font with Hangul: the stylesheet asks for Noto Sans CJK KR (Debian's fonts-noto-cjk, installed by
scripts/ensure-sysdeps.sh). WeasyPrint finds it through fontconfig and embeds the glyphs used, so the PDF reads
the same on a machine without the font. :func:`missing_fonts` tells the set-up (and the tests) when it is absent:
without it WeasyPrint would draw empty boxes, silently.
"""

from __future__ import annotations

import logging
import shutil
import subprocess

from web.reports.engine import TEMPLATES_DIR

REQUIRED_FONTS = ("Noto Sans CJK KR",)


def html_to_pdf(html: str) -> bytes:
    """The PDF of a report page (one HTML document; images are data: URIs, nothing is fetched)."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # WeasyPrint logs every CSS property it does not support at WARNING; a report's stylesheet is ours.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    # Only data: URIs (the charts): a template cannot make the renderer read local files or call other hosts.
    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False)
    return HTML(string=html, base_url=str(TEMPLATES_DIR), url_fetcher=fetcher).write_pdf()


def missing_fonts() -> list[str]:
    """The fonts of :data:`REQUIRED_FONTS` fontconfig does not know (``[]`` when all are there)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return list(REQUIRED_FONTS)
    out = subprocess.run([fc_list, ":", "family"], capture_output=True, text=True, check=False).stdout
    families = {f.strip() for line in out.splitlines() for f in line.split(",")}
    return [f for f in REQUIRED_FONTS if f not in families]
