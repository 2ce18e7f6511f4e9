"""The report engine: periods, blocks, charts, sandboxed templates, users' template folder, HTML and PDF in Korean
and English (PDF pages read back as PNG with OCR: tests/web/reports_support.py), and ``linewatch report``."""

from __future__ import annotations

import datetime as dt
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from reports_support import fuzzy_contains, read_pdf

from linewatch.choices import ExitCode, ReportFormat, ReportPeriodKind
from linewatch.cli import main as linewatch_main
from web.reports import charts, engine
from web.reports.blocks import Chart, Figure, Table, Text, format_cell
from web.reports.period import Period, PeriodError, containing, last_complete, parse_period

M, W = ReportPeriodKind.MONTH, ReportPeriodKind.WEEK
NOW = dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.UTC)
SEOUL = ZoneInfo("Asia/Seoul")


# --- periods ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "kind", "first", "end"), [
    pytest.param("2026-11", M, dt.date(2026, 11, 1), dt.date(2026, 12, 1), id="month"),
    pytest.param("2026-1", M, dt.date(2026, 1, 1), dt.date(2026, 2, 1), id="month-one-digit"),
    pytest.param("2026-12", M, dt.date(2026, 12, 1), dt.date(2027, 1, 1), id="december-ends-next-year"),
    pytest.param("2024-02", M, dt.date(2024, 2, 1), dt.date(2024, 3, 1), id="leap-february"),
    pytest.param("2026-W47", W, dt.date(2026, 11, 16), dt.date(2026, 11, 23), id="iso-week"),
    pytest.param("2026-w01", W, dt.date(2025, 12, 29), dt.date(2026, 1, 5), id="week-1-starts-in-december"),
    pytest.param("2026-W53", W, dt.date(2026, 12, 28), dt.date(2027, 1, 4), id="week-53-of-a-long-year"),
])
def test_period_text_gives_its_days(text: str, kind: ReportPeriodKind, first: dt.date, end: dt.date) -> None:
    """A period's text names its first day and the day after its last (half-open)."""
    p = parse_period(text)
    assert (p.kind, p.first_day, p.end_day) == (kind, first, end)
    assert parse_period(p.key) == p


@pytest.mark.parametrize(("text", "reason"), [
    pytest.param("2026/11", "expected YYYY-MM", id="slash"),
    pytest.param("November", "expected YYYY-MM", id="words"),
    pytest.param("2026-13", "months are 1..12", id="month-13"),
    pytest.param("2026-00", "months are 1..12", id="month-0"),
    pytest.param("2025-W53", "weeks 1..52", id="week-53-of-a-short-year"),
])
def test_bad_period_text_is_an_error_saying_what_is_expected(text: str, reason: str) -> None:
    with pytest.raises(PeriodError, match=reason):
        parse_period(text)


def test_a_week_for_a_monthly_report_is_an_error_naming_the_kind() -> None:
    with pytest.raises(PeriodError, match="is a week; this report covers a month"):
        parse_period("2026-W47", kind=M)


def test_bounds_are_local_midnights_of_the_zone() -> None:
    """A Seoul month starts at 15:00 UTC the day before: the company's days, not UTC's."""
    start, end = parse_period("2026-11").bounds(SEOUL)
    assert start.astimezone(dt.UTC) == dt.datetime(2026, 10, 31, 15, tzinfo=dt.UTC)
    assert end.astimezone(dt.UTC) == dt.datetime(2026, 11, 30, 15, tzinfo=dt.UTC)


def test_bounds_over_a_daylight_saving_change_span_the_real_hours() -> None:
    """October 2026 in Berlin has 745 hours (clocks go back on the 25th)."""
    start_s, end_s = parse_period("2026-10").bounds_s("Europe/Berlin")
    assert (end_s - start_s) / 3600 == 745


@pytest.mark.parametrize(("text", "shift", "expected"), [
    pytest.param("2026-01", -1, "2025-12", id="previous-month-over-new-year"),
    pytest.param("2026-12", 1, "2027-01", id="next-month-over-new-year"),
    pytest.param("2026-W01", -1, "2025-W52", id="previous-week-over-new-year"),
    pytest.param("2026-W53", 1, "2027-W01", id="after-week-53"),
    pytest.param("2026-05", -13, "2025-04", id="thirteen-months-back"),
])
def test_shift_walks_periods(text: str, shift: int, expected: str) -> None:
    assert parse_period(text).shift(shift).key == expected


@pytest.mark.parametrize(("kind", "now", "tz", "expected"), [
    pytest.param(M, NOW, "UTC", "2026-11", id="month"),
    pytest.param(M, dt.datetime(2026, 11, 30, 16, tzinfo=dt.UTC), "Asia/Seoul", "2026-11",
                 id="already-december-in-seoul"),
    pytest.param(M, dt.datetime(2026, 11, 30, 16, tzinfo=dt.UTC), "UTC", "2026-10", id="still-november-in-utc"),
    pytest.param(W, NOW, "UTC", "2026-W48", id="week"),
])
def test_last_complete_period_is_the_one_a_schedule_sends(kind: ReportPeriodKind, now: dt.datetime, tz: str,
                                                         expected: str) -> None:
    assert last_complete(kind, now, tz).key == expected
    assert containing(kind, now, tz).previous().key == expected


@pytest.mark.parametrize(("text", "language", "label"), [
    pytest.param("2026-11", "en", "November 2026", id="month-en"),
    pytest.param("2026-11", "ko", "2026년 11월", id="month-ko"),
    pytest.param("2026-W47", "en", "Week 47, 2026 (16–22 Nov)", id="week-en"),
    pytest.param("2026-W47", "ko", "2026년 47주 (11월 16일–22일)", id="week-ko"),
    pytest.param("2026-W49", "en", "Week 49, 2026 (30 Nov–6 Dec)", id="week-over-two-months-en"),
    pytest.param("2026-W49", "ko", "2026년 49주 (11월 30일–12월 6일)", id="week-over-two-months-ko"),
])
def test_period_label_in_each_language(text: str, language: str, label: str) -> None:
    assert parse_period(text).label(language) == label


@pytest.mark.parametrize(("zone", "ok"), [
    pytest.param("Asia/Seoul", True, id="iana-name"),
    pytest.param("UTC", True, id="utc"),
    pytest.param("Asia/Soeul", False, id="typo"),
    pytest.param("../etc/passwd", False, id="path"),
])
def test_reports_timezone_is_checked_when_the_settings_load(zone: str, ok: bool) -> None:
    from pydantic import ValidationError

    from linewatch.settings import ReportsSettings

    if ok:
        assert ReportsSettings(timezone=zone).timezone == zone
    else:
        with pytest.raises(ValidationError, match="unknown time zone"):
            ReportsSettings(timezone=zone)


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        Period(M, 2026, 11).contains(dt.datetime(2026, 11, 3))


# --- blocks -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("make", "reason"), [
    pytest.param(lambda: Table("T", ["a", "b"], [[1, 2], [3]]), "row 1 has 1 cells", id="short-row"),
    pytest.param(lambda: Table("T", ["a"], [[1]], numeric={1}), r"numeric columns \[1\]", id="numeric-outside"),
    pytest.param(lambda: Figure("F", "1", tone="red"), "tone 'red'", id="unknown-tone"),
    pytest.param(lambda: Chart("C", "<html></html>"), "not an SVG", id="chart-not-svg"),
])
def test_malformed_blocks_are_refused_naming_the_block(make: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        make()


@pytest.mark.parametrize(("value", "text"), [
    pytest.param(None, "–", id="none"),
    pytest.param(float("nan"), "–", id="nan"),
    pytest.param(1234567, "1,234,567", id="int"),
    pytest.param(82.449, "82.4", id="float"),
    pytest.param(dt.date(2026, 11, 3), "2026-11-03", id="date"),
    pytest.param(dt.datetime(2026, 11, 3, 7, 5, 9), "2026-11-03 07:05", id="datetime"),
    pytest.param("서울", "서울", id="text"),
])
def test_cells_are_formatted_alike_in_both_languages(value: Any, text: str) -> None:
    assert format_cell(value) == text


# --- charts -------------------------------------------------------------------------------------------------------

def _history() -> tuple[pd.Series, pd.DataFrame]:
    idx = pd.date_range("2026-09-01", periods=91, freq="D", tz="UTC")
    actual = pd.Series(50 + np.arange(91) * 0.3 + 3 * np.sin(np.arange(91)), index=idx)
    future = pd.date_range(idx[-1] + pd.Timedelta(days=1), periods=45, freq="D", tz="UTC")
    value = 77 + np.arange(45) * 0.3
    forecast = pd.DataFrame({"value_pct": value, "lower_pct": value - np.linspace(1, 8, 45),
                             "upper_pct": value + np.linspace(1, 8, 45)}, index=future)
    return actual, forecast


def test_forecast_is_drawn_dashed_and_the_same_data_gives_the_same_svg() -> None:
    actual, forecast = _history()
    plain = charts.line_chart(actual, level_pct=80)
    with_forecast = charts.line_chart(actual, forecast=forecast, level_pct=80)
    assert with_forecast.count("stroke-dasharray") > plain.count("stroke-dasharray")
    assert charts.line_chart(actual, forecast=forecast, level_pct=80) == with_forecast


def test_chart_text_stays_text_so_the_pdf_font_draws_hangul() -> None:
    svg = charts.bar_chart(["영업부", "기술부"], [40.0, 60.0], y_label="%")
    assert "영업부" in svg and "Noto Sans CJK KR" in svg


@pytest.mark.parametrize(("make", "reason"), [
    pytest.param(lambda: charts.heatmap_chart(pd.DataFrame(np.zeros((7, 23))), language="en"), "7 weekdays",
                 id="heatmap-shape"),
    pytest.param(lambda: charts.bar_chart(["a", "b"], {"x": [1.0]}), "x has 1 values for 2", id="bar-lengths"),
])
def test_chart_input_of_the_wrong_shape_is_an_error(make: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        make()


# --- rendering ----------------------------------------------------------------------------------------------------

def sample_provider(ctx: engine.ReportContext) -> dict[str, Any]:
    """Every kind of block, strings in the report's language, one line per row."""
    ko = ctx.ko
    actual, forecast = _history()
    rows = [[f"LINE-{i:03d}", 40.0 + i * 0.5, 1000 * i] for i in range(3)]
    return {
        "figures": [Figure("회선 수" if ko else "Lines", "12"),
                    Figure("최번시 최고" if ko else "Busy-hour peak", "82.4 %", "+3.1 pt", "warning")],
        "lines": Table("회선별 사용률" if ko else "Utilization per line", ["회선" if ko else "Line", "p95 %", "bps"],
                       rows, numeric={1, 2}, note=f"{ctx.period.key} {ctx.department or ''}"),
        "trend": Chart("사용률 추세" if ko else "Utilization trend",
                       charts.line_chart(actual, forecast=forecast, level_pct=80)),
        "departments": Chart("부서별" if ko else "Per department",
                             charts.bar_chart(["영업부", "기술부", "재무부"], [40.0, 60.0, 70.0], y_label="%")),
        "remark": Text("<script>alert(1)</script>\n\n두 번째 문단" if ko else "<script>alert(1)</script>"),
    }


@pytest.fixture
def sample_report() -> Iterator[engine.ReportDefinition]:
    defn = engine.ReportDefinition(name="t5-sample", title={"en": "Sample report", "ko": "시험 보고서"},
                                   period_kind=M, template="reports/base.html", provider=sample_provider,
                                   providers=("t5-sample",))
    engine.register(defn, replace=True)
    engine.register_provider("t5-sample", sample_provider, replace=True)
    yield defn
    engine.unregister(defn.name)
    engine.unregister_provider("t5-sample")


def test_html_in_korean_has_the_korean_title_period_and_escaped_text(sample_report: Any) -> None:
    page = engine.render_html("t5-sample", period="2026-11", language="ko", department="영업부", now=NOW)
    assert "<h1 class=\"report-title\">시험 보고서</h1>" in page
    assert "2026년 11월" in page and "영업부" in page
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'class="num">40.5</td>' in page and 'class="num">1,000</td>' in page
    assert "data:image/svg+xml;base64," in page


def test_html_with_a_css_link_has_no_inline_style_for_the_app_pages(sample_report: Any) -> None:
    page = engine.render_html("t5-sample", period="2026-11", language="en", now=NOW, css_href="/static/r.css")
    assert '<link rel="stylesheet" href="/static/r.css">' in page and "<style>" not in page


@pytest.mark.parametrize(("period", "reason"), [
    pytest.param("2026-W47", "covers a month", id="week-for-monthly"),
    pytest.param("2026-13", "months are 1..12", id="no-such-month"),
])
def test_a_wrong_period_is_a_request_error(sample_report: Any, period: str, reason: str) -> None:
    with pytest.raises(engine.ReportRequestError, match=reason):
        engine.render_html("t5-sample", period=period, language="en", now=NOW)


def test_an_unknown_report_is_an_error_listing_the_reports(sample_report: Any) -> None:
    with pytest.raises(engine.UnknownReport, match="t5-sample"):
        engine.render_html("t5-nope", period="2026-11", language="en", now=NOW)


def test_no_period_is_the_last_complete_one(sample_report: Any) -> None:
    page = engine.render_html("t5-sample", period=None, language="en", now=NOW)
    assert "November 2026" in page


def test_a_provider_returning_a_non_block_is_an_error_naming_it() -> None:
    defn = engine.ReportDefinition(name="t5-broken", title={"en": "B", "ko": "B"}, period_kind=M,
                                   template="reports/base.html", provider=lambda ctx: {"oops": 42})
    engine.register(defn, replace=True)
    try:
        with pytest.raises(engine.ReportError, match="non-blocks for oops"):
            engine.render_html("t5-broken", period="2026-11", language="en", now=NOW)
    finally:
        engine.unregister("t5-broken")


def test_a_report_needs_both_titles() -> None:
    with pytest.raises(ValueError, match="title needs ko"):
        engine.register(engine.ReportDefinition(name="t5-x", title={"en": "X"}, period_kind=M,
                                                template="reports/base.html", provider=sample_provider))


def test_pdf_filename_names_report_period_department_language(sample_report: Any) -> None:
    out = engine.render("t5-sample", fmt="html", period="2026-11", language="ko", department="Sales Dept",
                        now=NOW)
    assert out.filename == "t5-sample-2026-11-sales-dept-ko.html"
    assert out.media_type.startswith("text/html")


def test_html_and_pdf_from_one_provider_run() -> None:
    """render_formats reads the data once: both files show the same figures."""
    calls: list[int] = []
    defn = engine.ReportDefinition(name="t5-once", title={"en": "Once", "ko": "한 번"}, period_kind=M,
                                   template="reports/base.html",
                                   provider=lambda ctx: calls.append(1) or sample_provider(ctx))
    engine.register(defn, replace=True)
    try:
        out = engine.render_formats("t5-once", period="2026-11", language="en", now=NOW)
    finally:
        engine.unregister("t5-once")
    assert len(calls) == 1
    assert out[ReportFormat.PDF].content.startswith(b"%PDF-") and out[ReportFormat.PDF].filename.endswith(".pdf")
    assert b"Busy-hour peak" in out[ReportFormat.HTML].content


@pytest.mark.slow
@pytest.mark.parametrize(("language", "drawn"), [
    pytest.param("ko", ["시험 보고서", "2026년 11월", "회선별 사용률", "사용률 추세", "영업부", "82.4 %", "+3.1 pt",
                        "두 번째 문단"], id="korean"),
    pytest.param("en", ["Sample report", "November 2026", "Utilization per line", "Busy-hour peak", "82.4 %",
                        "LINE-002", "41.0"], id="english"),
])
def test_pdf_pages_show_the_title_figures_and_chart_labels(sample_report: Any, tmp_path: Path, language: str,
                                                           drawn: list[str]) -> None:
    """Turned into PNG and read with OCR: the Korean is drawn with a real font (embedded), not empty boxes."""
    pdf = engine.render_pdf("t5-sample", period="2026-11", language=language, department="영업부", now=NOW)
    pages = read_pdf(pdf, tmp_path, name=f"engine-{language}")
    pages.assert_drawn(*drawn)
    assert pages.all_fonts_embedded and pages.cjk_font_embedded


@pytest.mark.slow
def test_a_long_table_spans_pages_with_running_header_and_page_numbers(tmp_path: Path) -> None:
    def provide(ctx: engine.ReportContext) -> dict[str, Any]:
        return {"lines": Table("회선", ["회선", "값"], [[f"회선-{i:03d}", i] for i in range(120)], numeric={1})}

    engine.register(engine.ReportDefinition(name="t5-long", title={"en": "Long", "ko": "긴 보고서"}, period_kind=W,
                                            template="reports/base.html", provider=provide), replace=True)
    try:
        pdf = engine.render_pdf("t5-long", period="2026-W47", language="ko", now=NOW)
    finally:
        engine.unregister("t5-long")
    pages = read_pdf(pdf, tmp_path, name="engine-long")
    assert pages.pages >= 2
    last = pages.pages - 1
    assert fuzzy_contains(pages.ocr(last), f"{pages.pages} / {pages.pages}")
    assert fuzzy_contains(pages.ocr(last), "긴 보고서")  # the running header of a later page
    assert "회선-119" in pages.text_layer and "회선-000" in pages.text_layer


@pytest.mark.slow
def test_the_rig_tells_drawn_text_from_text_only_in_the_text_layer(folder: Path, tmp_path: Path) -> None:
    """White-on-white Korean is in the PDF's text layer (pdftotext finds it) but not drawn: OCR does not see it,
    so the rig would catch Hangul drawn as nothing (pdftotext alone would not)."""
    html = GOOD_HTML.replace("{% endblock %}", '<p style="color: #fff">보이지 않는 문장입니다</p>{% endblock %}')
    _write(folder, "invisible", html, GOOD_YAML)
    pages = read_pdf(engine.render_pdf("invisible", period="2026-11", language="ko", now=NOW), tmp_path,
                     name="engine-invisible")
    assert "보이지 않는 문장입니다" in pages.text_layer
    assert pages.find("보이지 않는 문장입니다") is None
    assert pages.find("팀 요약") == 0  # drawn: found


# --- users' template folder ---------------------------------------------------------------------------------------

GOOD_HTML = """{% extends "reports/base.html" %}
{% block content %}
<h2>{{ _("Summary") }}</h2>
{{ b.block(blocks.figures) }}
{{ b.block(providers["t5-sample"].lines) }}
{% endblock %}
"""
GOOD_YAML = "title: {en: Team summary, ko: 팀 요약}\nperiod: month\nproviders: [t5-sample]\n"


@pytest.fixture
def folder(settings: Any, tmp_path: Path, sample_report: Any) -> Path:
    tpl = tmp_path / "templates"
    tpl.mkdir()
    lw = settings.LINEWATCH
    settings.LINEWATCH = lw.model_copy(update={"reports": lw.reports.model_copy(update={"template_dir": tpl})})
    return tpl


def _write(folder: Path, name: str, html: str | None, yaml: str | None) -> None:
    if html is not None:
        (folder / f"{name}.html").write_text(html, encoding="utf-8")
    if yaml is not None:
        (folder / f"{name}.yaml").write_text(yaml, encoding="utf-8")


def test_a_users_template_is_listed_and_renders_the_providers_blocks(folder: Path) -> None:
    _write(folder, "team-summary", GOOD_HTML, GOOD_YAML)
    names = {d.name: d for d in engine.definitions()}
    assert names["team-summary"].title == {"en": "Team summary", "ko": "팀 요약"}
    assert engine.folder_problems() == []
    page = engine.render_html("team-summary", period="2026-11", language="ko", now=NOW)
    assert "팀 요약" in page and "회선별 사용률" in page and "최번시 최고" in page


@pytest.mark.parametrize(("name", "html", "yaml", "problem"), [
    pytest.param("no-sidecar", GOOD_HTML, None, "no-sidecar.html: no no-sidecar.yaml next to it", id="no-sidecar"),
    pytest.param("bad-key", GOOD_HTML, GOOD_YAML + "colour: red\n", "bad-key.yaml:4: colour: unknown key",
                 id="unknown-key"),
    pytest.param("bad-period", GOOD_HTML, GOOD_YAML.replace("month", "year"), "bad-period.yaml:2: period:",
                 id="bad-period"),
    pytest.param("no-ko", GOOD_HTML, GOOD_YAML.replace(", ko: 팀 요약", ""), "no-ko.yaml:1: title.ko: Field required",
                 id="missing-korean-title"),
    pytest.param("bad-provider", GOOD_HTML, GOOD_YAML.replace("[t5-sample]", "[t5-sample, nope]"),
                 "bad-provider.yaml:3: providers[1]: unknown provider nope", id="unknown-provider"),
    pytest.param("bad-syntax", GOOD_HTML.replace("{% endblock %}", "{% endblok %}"), GOOD_YAML,
                 "bad-syntax.html:6: template syntax:", id="syntax-error-line"),
    pytest.param("department-monthly", GOOD_HTML, GOOD_YAML, "department-monthly is a built-in report's name",
                 id="built-in-name"),
    pytest.param("Bad Name", GOOD_HTML, GOOD_YAML, "lower-case letters", id="file-name"),
    pytest.param("orphan", None, GOOD_YAML, "orphan.yaml: no template orphan.html", id="sidecar-alone"),
])
def test_invalid_users_templates_are_listed_with_file_line_reason(folder: Path, name: str, html: str | None,
                                                                 yaml: str | None, problem: str) -> None:
    """Invalid templates never crash the list: each becomes a problem and the good one still works."""
    _write(folder, "team-summary", GOOD_HTML, GOOD_YAML)
    _write(folder, name, html, yaml)
    if name == "department-monthly" and "department-monthly" not in {d.name for d in engine.definitions()}:
        engine.register(engine.ReportDefinition(name="department-monthly", title={"en": "D", "ko": "D"},
                                                period_kind=M, template="reports/base.html",
                                                provider=sample_provider), replace=True)
    problems = engine.folder_problems()
    assert any(problem in p for p in problems), problems
    assert len(problems) == 1, problems
    assert "team-summary" in {d.name for d in engine.definitions()}


@pytest.mark.parametrize(("body", "reason"), [
    pytest.param("{{ ''.__class__.__mro__ }}", "SecurityError", id="python-internals"),
    pytest.param("{{ blocks.nope }}", "nope", id="unknown-block-named"),
    pytest.param('{% include "/etc/passwd" %}', "TemplateNotFound", id="read-a-file"),
    pytest.param('{% include "../../etc/passwd" %}', "TemplateNotFound", id="read-a-file-relative"),
])
def test_users_templates_are_sandboxed(folder: Path, body: str, reason: str) -> None:
    _write(folder, "evil", "{% extends \"reports/base.html\" %}{% block content %}" + body + "{% endblock %}",
           GOOD_YAML)
    with pytest.raises(engine.ReportError, match=reason) as caught:
        engine.render_html("evil", period="2026-11", language="en", now=NOW)
    assert "user/evil.html" in str(caught.value)


@pytest.mark.slow
def test_a_users_template_cannot_make_the_pdf_read_local_files(folder: Path, tmp_path: Path) -> None:
    """Only data: images are embedded; a file: URL stays out of the PDF (no image in it at all)."""
    png = next(iter(sorted(Path(__file__).resolve().parents[2].glob("**/*.png"))), None)
    assert png is not None
    html = GOOD_HTML.replace("{% endblock %}", f'<img src="file://{png}">{{% endblock %}}')
    _write(folder, "fetch", html, GOOD_YAML)
    pdf_path = tmp_path / "fetch.pdf"
    pdf_path.write_bytes(engine.render_pdf("fetch", period="2026-11", language="en", now=NOW))
    listing = subprocess.run(["pdfimages", "-list", str(pdf_path)], capture_output=True, text=True,
                             check=True).stdout
    assert len(listing.strip().splitlines()) == 2, listing  # the header only: no image


def test_the_shipped_example_template_loads(settings: Any) -> None:
    """config/report-templates (docs/reports.md's example) names providers that exist and parses."""
    example = Path(__file__).resolve().parents[2] / "config" / "report-templates"
    lw = settings.LINEWATCH
    settings.LINEWATCH = lw.model_copy(update={"reports": lw.reports.model_copy(update={"template_dir": example})})
    assert engine.folder_problems() == []
    brief = engine.get("capacity-brief")
    assert (brief.providers, brief.period_kind, brief.title["ko"]) == (("utilization", "outlook"), M, "용량 요약")


# --- CLI ----------------------------------------------------------------------------------------------------------

def test_cli_renders_a_file_0600_and_prints_its_path(sample_report: Any, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out.html"
    rc = linewatch_main(["report", "render", "t5-sample", "--period", "2026-11", "--format", "html",
                         "--language", "ko", "-o", str(target)])
    assert rc == ExitCode.OK
    assert capsys.readouterr().out.strip() == str(target)
    assert "시험 보고서" in target.read_text(encoding="utf-8")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


def test_cli_default_file_is_under_the_output_dir(sample_report: Any, settings: Any, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    lw = settings.LINEWATCH
    settings.LINEWATCH = lw.model_copy(update={"reports": lw.reports.model_copy(
        update={"output_dir": tmp_path / "out"})})
    rc = linewatch_main(["report", "render", "t5-sample", "--period", "2026-11", "--format", "html"])
    assert rc == ExitCode.OK
    assert capsys.readouterr().out.strip() == str(tmp_path / "out" / "t5-sample-2026-11-en.html")


@pytest.mark.parametrize(("args", "message"), [
    pytest.param(["t5-sample", "--period", "2026-W47"], "covers a month", id="wrong-period-kind"),
    pytest.param(["t5-nope", "--period", "2026-11"], "no report 't5-nope'", id="unknown-report"),
])
def test_cli_wrong_request_exits_2_saying_why(sample_report: Any, capsys: pytest.CaptureFixture[str],
                                              args: list[str], message: str) -> None:
    rc = linewatch_main(["report", "render", *args, "--format", "html", "-o", "-"])
    assert rc == ExitCode.CONFIG_ERROR
    assert message in capsys.readouterr().err


def test_cli_list_shows_reports_and_the_folders_problems(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(folder, "team-summary", GOOD_HTML, GOOD_YAML)
    _write(folder, "broken", GOOD_HTML, None)
    rc = linewatch_main(["report", "list"])
    out, err = capsys.readouterr()
    assert rc == ExitCode.INPUT_REJECTED
    assert "team-summary" in out and "Team summary / 팀 요약" in out and "t5-sample" in out
    assert "broken.html: no broken.yaml" in err
