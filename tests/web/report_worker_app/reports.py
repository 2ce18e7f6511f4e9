"""The report ``schedule-test`` (monthly) and ``schedule-test-weekly``: a few blocks naming the period and the
department; the provider raises while ``$LW_TEST_REPORT_FAIL`` names an existing file (a broken data source)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from linewatch.choices import ReportPeriodKind
from web.reports import engine
from web.reports.blocks import Figure, Table, Text

NAME = "schedule-test"
WEEKLY = "schedule-test-weekly"
FAIL_ENV = "LW_TEST_REPORT_FAIL"


def provider(ctx: engine.ReportContext) -> dict[str, Any]:
    fail = os.environ.get(FAIL_ENV)
    if fail and Path(fail).exists():
        raise RuntimeError("the test's data source is down")
    who = ctx.department or ("모든 부서" if ctx.ko else "every department")
    return {"summary": Text(f"{ctx.period.label(ctx.language)}: {who}"),
            "lines": Figure(label="회선" if ctx.ko else "Lines", value="42"),
            "table": Table(title="Period", columns=["key"], rows=[[ctx.period.key]])}


def register() -> None:
    for name, kind in ((NAME, ReportPeriodKind.MONTH), (WEEKLY, ReportPeriodKind.WEEK)):
        engine.register(engine.ReportDefinition(
            name=name, title={"en": "Schedule test", "ko": "일정 시험 보고서"}, period_kind=kind,
            template="reports/base.html", provider=provider, origin="test"), replace=True)


def unregister() -> None:
    for name in (NAME, WEEKLY):
        engine.unregister(name)
