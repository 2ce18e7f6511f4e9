"""The built-in reports and the providers users' templates may name (docs/reports.md, "Built-in reports").

Imported once by the engine (:func:`web.reports.engine._load_builtin`): it registers the providers
``utilization``, ``outlook``, ``finance``, ``noc`` and ``voice`` (web/reports/providers/) and four reports:

| report | period | providers | for |
|---|---|---|---|
| ``department-monthly`` | month | utilization, outlook | department heads: p95, busy hour, heatmap, pattern, outlook |
| ``finance-monthly`` | month | finance, outlook | finance: cost per department, findings, disputes, recoveries, budgets, projected bills |
| ``noc-weekly`` | week | noc | the NOC: incidents, MTTR, saturated lines, alerts, collector health |
| ``voice-monthly`` | month | voice | telephony: calls, minutes by class, busy-hour Erlangs, blocking, cost |
"""

from __future__ import annotations

from linewatch.choices import ReportPeriodKind
from web.reports import engine
from web.reports.engine import ReportDefinition
from web.reports.providers import finance, noc, outlook, utilization, voice

PROVIDERS = {
    "utilization": utilization.provide,
    "outlook": outlook.provide,
    "finance": finance.provide,
    "noc": noc.provide,
    "voice": voice.provide,
}


def _definition(name: str, *, title: dict[str, str], description: dict[str, str], kind: ReportPeriodKind,
                providers: tuple[str, ...]) -> ReportDefinition:
    return ReportDefinition(name=name, title=title, period_kind=kind, template=f"reports/builtin/{name}.html",
                            provider=engine.combine(providers), providers=providers, description=description)


DEFINITIONS = (
    _definition(
        "department-monthly", kind=ReportPeriodKind.MONTH, providers=("utilization", "outlook"),
        title={"en": "Monthly utilization and capacity outlook", "ko": "월간 회선 사용률 및 용량 전망"},
        description={"en": "Per line: 95th percentile, busy-hour peak and change against the previous month; "
                           "weekday × hour heatmap and usage pattern; lines nearest 80 %.",
                     "ko": "회선별 95번째 백분위수, 최번시 최고치와 전월 대비 변화, 요일 × 시간대 히트맵과 사용 "
                           "패턴, 80 %에 가장 가까운 회선."}),
    _definition(
        "finance-monthly", kind=ReportPeriodKind.MONTH, providers=("finance", "outlook"),
        title={"en": "Monthly cost, findings and recoveries", "ko": "월간 회선 요금, 감사 결과 및 환급"},
        description={"en": "Cost per department, the audit's findings, disputes and what they recovered, "
                           "budgets, projected bills of burstable and volume lines.",
                     "ko": "부서별 요금, 감사 결과, 이의 제기와 환급액, 예산, 버스트/용량제 회선의 예상 청구액."}),
    _definition(
        "noc-weekly", kind=ReportPeriodKind.WEEK, providers=("noc",),
        title={"en": "Weekly NOC report", "ko": "주간 NOC 보고서"},
        description={"en": "Incidents and MTTR, saturated lines, alerts fired, collector health.",
                     "ko": "장애와 평균 복구 시간, 포화 회선, 발생한 경보, 수집기 상태."}),
    _definition(
        "voice-monthly", kind=ReportPeriodKind.MONTH, providers=("voice",),
        title={"en": "Monthly voice trunk report", "ko": "월간 음성 트렁크 보고서"},
        description={"en": "Calls, minutes by destination class, busy-hour Erlangs, blocking and cost per trunk.",
                     "ko": "트렁크별 통화 수, 착신 유형별 통화 시간, 최번시 얼랑, 호 손실과 요금."}),
)

for _name, _provider in PROVIDERS.items():
    engine.register_provider(_name, _provider, replace=True)
for _defn in DEFINITIONS:
    engine.register(_defn, replace=True)
