"""Finance: what the carrier lines cost, per department and carrier, billed against expected, the audit
findings and the savings proposed — from the ``line_cost`` and ``billing_findings`` points the billing ETL
writes (``linewatch etl run --period YYYY-MM``, one point per line / rule per month, timestamped at the
month's start). Below them, the finance workflow's KPIs the management application's worker writes every
5 minutes (``finance_disputes``, ``finance_payments``, ``finance_budget``: web/finance/jobs.py, docs/finance.md):
claimed, recovered, pending and ageing of the disputes, payments on time and late fees avoided, budget against
actual with the year-end projection.

Carrier → department variables filter every panel; the currency variable (one currency at a time, from the
``currency`` tag) keeps amounts of different currencies from ever being added up. Grafana cannot take a unit
from a variable, so amounts carry no unit and each money panel's title names the selected currency. Generated
into finance.json by ``linewatch dashboards build``.
"""

from grafanalib.core import Dashboard, Stat, Time, TimeSeries

from linewatch import dashboards as lw
from linewatch.choices import LineHealth, Severity

# ``::tag``: ETL runs before the currency tag wrote a ``currency`` field, which InfluxQL would prefer.
FILTER = lw.line_filter(("carrier", "department")) + ' AND "currency"::tag =~ /^$currency$/'
# One point per line per month: a day bucket holds exactly one month's points, whatever the time range.
MONTHLY = "GROUP BY time(1d) fill(none)"
AMOUNT = "none"  # the currency is in the title: "Billed ($currency)"
OK, WARN, BAD = LineHealth.UP.colour, Severity.WARNING.colour, Severity.CRITICAL.colour


def money_stat(title: str, query: str, *, x: int, description: str, colour: str, y: int = 0,
               unit: str = AMOUNT) -> Stat:
    return Stat(
        title=title,
        description=description,
        dataSource=lw.DATASOURCE,
        gridPos=lw.grid(x, y, 4, 4),
        targets=[lw.target(query)],
        maxDataPoints=None,
        format=unit,
        decimals=0,
        reduceCalc="sum",
        graphMode="none",
        colorMode="value",
        textMode="value",
        color={"mode": "fixed", "fixedColor": colour},
    )


def bargauge_options(*, values: bool, calc: str) -> dict:
    """Horizontal bars, names on the left, coloured values: every row (``values``) or each field reduced."""
    return {
        "displayMode": "basic",
        "orientation": "horizontal",
        "namePlacement": "left",
        "showUnfilled": True,
        "valueMode": "color",
        "reduceOptions": {"values": values, "calcs": [calc], "fields": ""},
    }


billed = money_stat(
    "Billed ($currency)",
    f'SELECT sum("total_amount") FROM "line_cost" WHERE $timeFilter AND {FILTER} {MONTHLY}',
    x=0,
    colour="text",
    description="Everything the invoices charge for the selected months: line charges plus the taxes and "
    "surcharges spread over the lines in proportion to their amounts.",
)
expected = money_stat(
    "Expected ($currency)",
    f'SELECT sum("expected_amount") FROM "line_cost" WHERE $timeFilter AND {FILTER} {MONTHLY}',
    x=4,
    colour="text",
    description="What the contracts say the lines should cost (MRC after discounts, prorated; usage from the "
    "measured 95th percentile or volume; minus SLA credits owed). Taxes are not part of it.",
)
at_stake = money_stat(
    "At stake ($currency)",
    f'SELECT sum("at_stake_amount") FROM "line_cost" WHERE $timeFilter AND {FILTER} {MONTHLY}',
    x=8,
    colour=BAD,
    description="Over-billing the audit found on the lines: money to claim back or not to pay.",
)
savings = money_stat(
    "Savings proposed / month ($currency)",
    f'SELECT sum("saving") FROM (SELECT last("saving_amount") AS "saving" FROM "line_cost" '
    f'WHERE $timeFilter AND {FILTER} GROUP BY "line")',
    x=12,
    colour=OK,
    description="Monthly saving of each line's latest proposals (downgrade underused lines, terminate idle "
    "ones) minus "
    "the cost of the proposed upgrades of saturated lines.",
)
findings_count = Stat(
    title="Findings",
    description="Audit findings in the selected months, every rule.",
    dataSource=lw.DATASOURCE,
    gridPos=lw.grid(16, 0, 8, 4),
    targets=[
        lw.target(f'SELECT sum("count") FROM "billing_findings" WHERE $timeFilter AND {FILTER} {MONTHLY}')
    ],
    maxDataPoints=None,
    format="none",
    reduceCalc="sum",
    graphMode="none",
    colorMode="background",
    textMode="value",
    color={"mode": "thresholds"},
    thresholds=[{"value": None, "color": OK}, {"value": 1, "color": WARN}],
)

billed_vs_expected = TimeSeries(
    title="Billed vs expected per month ($currency)",
    description="Line charges invoiced (before taxes and surcharges, like the expectation, so a gap is a "
    "billing difference, not VAT) against the contracts' expectation and the amount the audit puts at stake.",
    dataSource=lw.DATASOURCE,
    gridPos=lw.grid(0, 4, 12, 9),
    targets=[
        lw.target(
            'SELECT sum("billed_amount") AS "billed", sum("expected_amount") AS "expected", '
            f'sum("at_stake_amount") AS "at stake" FROM "line_cost" WHERE $timeFilter AND {FILTER} {MONTHLY}',
            alias="$col",
        )
    ],
    maxDataPoints=None,
    unit=AMOUNT,
    drawStyle="bars",
    fillOpacity=60,
    legendDisplayMode="table",
    legendPlacement="bottom",
    legendCalcs=["sum"],
    tooltipMode="multi",
    overrides=[
        lw.by_name("expected", ("color", {"mode": "fixed", "fixedColor": "blue"})),
        lw.by_name("at stake", ("color", {"mode": "fixed", "fixedColor": BAD})),
    ],
)


def stacked(title: str, tag: str, *, x: int, y: int, description: str) -> TimeSeries:
    return TimeSeries(
        title=title,
        description=description,
        dataSource=lw.DATASOURCE,
        gridPos=lw.grid(x, y, 12, 9),
        targets=[
            lw.target(
                f'SELECT sum("total_amount") FROM "line_cost" WHERE $timeFilter AND {FILTER} '
                f'GROUP BY time(1d), "{tag}" fill(none)',
                alias=f"$tag_{tag}",
            )
        ],
        maxDataPoints=None,
        unit=AMOUNT,
        drawStyle="bars",
        fillOpacity=80,
        stacking={"mode": "normal", "group": "A"},
        legendDisplayMode="table",
        legendPlacement="right",
        legendCalcs=["sum"],
        tooltipMode="multi",
    )


by_department = stacked(
    "Cost by department ($currency)",
    "department",
    x=12,
    y=4,
    description="Total cost per department (cost centre allocation) per month.",
)
by_carrier = stacked(
    "Cost by carrier ($currency)", "carrier", x=0, y=13, description="Total cost per carrier per month."
)

findings_by_rule = lw.panel(
    "bargauge",
    title="Findings by rule",
    description="How many findings each audit rule raised in the selected months, and the amount at stake.",
    gridPos=lw.grid(12, 13, 12, 9),
    targets=[
        lw.target(
            f'SELECT sum("count") AS "findings" FROM "billing_findings" WHERE $timeFilter AND {FILTER} GROUP '
            'BY "rule"',
            alias="$tag_rule",
        )
    ],
    transformations=[
        {"id": "reduce", "options": {"mode": "seriesToRows", "reducers": ["sum"], "includeTimeField": False}},
        {"id": "sortBy", "options": {"sort": [{"field": "Total", "desc": True}]}},
    ],
    fieldConfig={
        "defaults": {
            "unit": "none",
            "decimals": 0,
            "min": 0,
            "color": {"mode": "thresholds"},
            "thresholds": lw.thresholds((None, OK), (1, WARN)),
        },
        "overrides": [],
    },
    options=bargauge_options(values=True, calc="sum"),
)

lines_table = lw.panel(
    "table",
    title="Lines — latest month ($currency)",
    description="Per line, the latest month in the range: billed (line charges, comparable with expected), "
    "expected, at stake, the total with its share of taxes and surcharges, and the monthly saving proposed. "
    "Sorted by the amount at stake.",
    gridPos=lw.grid(0, 22, 24, 10),
    targets=[
        lw.target(
            'SELECT last("billed_amount") AS "billed", last("expected_amount") AS "expected", '
            'last("at_stake_amount") AS "at stake", last("total_amount") AS "with taxes", '
            'last("saving_amount") AS "saving" '
            f'FROM "line_cost" WHERE $timeFilter AND {FILTER} GROUP BY "line", "department", "carrier"',
            table=True,
        )
    ],
    transformations=[
        {
            "id": "organize",
            "options": {
                "excludeByName": {"Time": True},
                "indexByName": {
                    "line": 0,
                    "carrier": 1,
                    "department": 2,
                    "billed": 3,
                    "expected": 4,
                    "at stake": 5,
                    "with taxes": 6,
                    "saving": 7,
                },
                "renameByName": {
                    "line": "Line",
                    "carrier": "Carrier",
                    "department": "Department",
                    "billed": "Billed",
                    "expected": "Expected",
                    "at stake": "At stake",
                    "with taxes": "With taxes",
                    "saving": "Saving / month",
                },
            },
        }
    ],
    fieldConfig={
        "defaults": {"custom": {"align": "auto", "cellOptions": {"type": "auto"}}},
        "overrides": [
            lw.by_name(
                "/Billed|Expected|At stake|With taxes|Saving/",
                ("unit", AMOUNT),
                regex=True,
            ),
            lw.by_name(
                "At stake",
                ("custom.cellOptions", {"type": "color-text"}),
                ("color", {"mode": "thresholds"}),
                ("thresholds", lw.thresholds((None, "text"), (0.01, BAD))),
            ),
        ],
    },
    options={"showHeader": True, "cellHeight": "sm", "sortBy": [{"displayName": "At stake", "desc": True}]},
)

# Reliability per carrier (web/faults figures, docs/faults.md "Figures"): fault_figures holds one point per line and
# month (time = the month's start), so a carrier's month is the sum over its lines: availability from the downtime
# and the observed line-seconds, MTTR from the downtime and the incidents.
FAULT_FILTER = lw.tag_match("carrier")


def reliability(title: str, select: str, *, x: int, unit: str, description: str) -> TimeSeries:
    return TimeSeries(
        title=title,
        description=description,
        dataSource=lw.DATASOURCE,
        gridPos=lw.grid(x, 32, 12, 9),
        targets=[
            lw.target(
                f'SELECT {select} FROM "fault_figures" WHERE $timeFilter AND {FAULT_FILTER} '
                'GROUP BY time(1d), "carrier" fill(none)',
                alias="$tag_carrier",
            )
        ],
        maxDataPoints=None,
        unit=unit,
        drawStyle="bars",
        fillOpacity=60,
        legendDisplayMode="table",
        legendPlacement="right",
        legendCalcs=["mean", "min" if unit == "percent" else "max"],
        tooltipMode="multi",
    )


availability_by_carrier = reliability(
    "Availability per carrier, monthly · 통신사별 월간 가용률",
    '100 * (1 - sum("downtime_s") / sum("period_s")) AS "availability"',
    x=0,
    unit="percent",
    description="Share of the month the carrier's lines were up (outage tickets; the current month so far).",
)
mttr_by_carrier = reliability(
    "MTTR per carrier, monthly · 통신사별 월간 평균 복구 시간",
    'sum("downtime_s") / sum("incidents") AS "mttr"',
    x=12,
    unit="s",
    description="Mean time to restore: the carrier's outage time over its incidents in the month (none: 0).",
)

# -- the finance workflow's KPIs (web/finance/jobs.py write_kpis, docs/schema.md "Finance KPIs") ------------------
# finance_disputes / finance_payments: one point per carrier, month and currency (time = the month's start: the
# dispute's billing period, the invoice's due month); finance_budget: one per budgeted department or cost centre,
# year and currency (time = 1 January). Re-written every 5 minutes, so a point holds the figures of now.
KPI_FILTER = lw.tag_match("carrier") + ' AND "currency"::tag =~ /^$currency$/'
BUDGET_FILTER = lw.tag_match("department") + ' AND "currency"::tag =~ /^$currency$/'
KPI_Y = 41

claimed_stat = money_stat(
    "Claimed ($currency)",
    f'SELECT sum("claimed") FROM "finance_disputes" WHERE $timeFilter AND {KPI_FILTER} {MONTHLY}',
    x=0, y=KPI_Y, colour="text",
    description="What the disputes sent to the carriers claim (billing months in the range; drafts not counted).",
)
recovered_stat = money_stat(
    "Recovered ($currency)",
    f'SELECT sum("recovered") FROM "finance_disputes" WHERE $timeFilter AND {KPI_FILTER} {MONTHLY}',
    x=4, y=KPI_Y, colour=OK,
    description="Credited by the carriers on the resolved disputes (the confirmed credit notes).",
)
pending_stat = money_stat(
    "Pending ($currency)",
    f'SELECT sum("pending") FROM "finance_disputes" WHERE $timeFilter AND {KPI_FILTER} {MONTHLY}',
    x=8, y=KPI_Y, colour=WARN,
    description="Claimed by the disputes still open (sent or answered, no credit yet).",
)
recovery_rate = money_stat(
    "Recovery rate",
    'SELECT 100 * sum("recovered") / sum("resolved_claimed") FROM "finance_disputes" '
    f'WHERE $timeFilter AND {KPI_FILTER} AND "resolved_claimed" > 0',
    x=12, y=KPI_Y, colour=OK, unit="percent",
    description="Recovered over what the resolved disputes claimed (rejected ones count as 0 recovered).",
)
late_fees_avoided = money_stat(
    "Late fees avoided ($currency)",
    f'SELECT sum("late_fees_avoided") FROM "finance_payments" WHERE $timeFilter AND {KPI_FILTER} {MONTHLY}',
    x=16, y=KPI_Y, colour=OK,
    description="What paying on or before the due date saved: the invoices paid on time × the carrier's "
    "late-fee rate (due months in the range).",
)
overdue_stat = money_stat(
    "Overdue invoices",
    f'SELECT sum("overdue") FROM "finance_payments" WHERE $timeFilter AND {KPI_FILTER} {MONTHLY}',
    x=20, y=KPI_Y, colour=BAD, unit="none",
    description="Invoices unpaid after their due date (due months in the range).",
)



def monthly_bars(title: str, query: str, *, x: int, y: int, description: str, alias: str, unit: str = AMOUNT,
                 stacked: bool = False, overrides: tuple[dict, ...] = ()) -> TimeSeries:
    """Bars per month of the KPI points (one point per month and series), the legend's sums below."""
    return TimeSeries(
        title=title,
        description=description,
        dataSource=lw.DATASOURCE,
        gridPos=lw.grid(x, y, 12, 9),
        targets=[lw.target(query, alias=alias)],
        maxDataPoints=None,
        unit=unit,
        drawStyle="bars",
        fillOpacity=80 if stacked else 70,
        **({"stacking": {"mode": "normal", "group": "A"}} if stacked else {}),
        legendDisplayMode="table",
        legendPlacement="bottom",
        legendCalcs=["sum"],
        tooltipMode="multi",
        overrides=list(overrides),
    )


disputes_by_carrier = monthly_bars(
    "Disputes per carrier and month ($currency)",
    'SELECT sum("claimed") AS "claimed", sum("recovered") AS "recovered", sum("pending") AS "pending" '
    f'FROM "finance_disputes" WHERE $timeFilter AND {KPI_FILTER} GROUP BY time(1d), "carrier" fill(none)',
    x=0, y=KPI_Y + 4, alias="$tag_carrier $col",
    description="Claimed, recovered and still pending per carrier, by the disputes' billing month.",
)

dispute_ageing = lw.panel(
    "bargauge",
    title="Open disputes by age ($currency)",
    description="The pending amount by days since the dispute was sent to the carrier.",
    gridPos=lw.grid(12, KPI_Y + 4, 12, 9),
    targets=[lw.target(
        'SELECT sum("open_0_30") AS "0–30 days", sum("open_31_60") AS "31–60 days", '
        'sum("open_61_90") AS "61–90 days", sum("open_over_90") AS "> 90 days" '
        f'FROM "finance_disputes" WHERE $timeFilter AND {KPI_FILTER}',
    )],
    fieldConfig={
        "defaults": {"unit": AMOUNT, "decimals": 0, "min": 0, "color": {"mode": "thresholds"},
                     "thresholds": lw.thresholds((None, WARN))},
        "overrides": [lw.by_name("> 90 days", ("color", {"mode": "fixed", "fixedColor": BAD}))],
    },
    options=bargauge_options(values=False, calc="lastNotNull"),
)

def kpi_table(title: str, query: str, *, y: int, h: int, description: str, rename: dict[str, str],
              money: str, overrides: tuple[dict, ...] = (), time_from: str | None = None,
              **options: object) -> lw.JsonPanel:
    """A table of KPI points (one row per series of ``query``), ``money``: a regex of the amount columns;
    ``time_from``: the panel's own range (``now/y``) instead of the dashboard's."""
    extra = {"timeFrom": time_from} if time_from else {}
    return lw.panel(
        "table",
        title=title,
        description=description,
        gridPos=lw.grid(0, y, 24, h),
        targets=[lw.target(query, table=True)],
        transformations=[{"id": "organize", "options": {"excludeByName": {"Time": True}, "renameByName": rename}}],
        fieldConfig={
            "defaults": {"custom": {"align": "auto", "cellOptions": {"type": "auto"}}},
            "overrides": [lw.by_name(money, ("unit", AMOUNT), regex=True), *overrides],
        },
        options={"showHeader": True, "cellHeight": "sm", **options},
        **extra,
    )


disputes_table = kpi_table(
    "Disputes — per carrier and month ($currency)",
    'SELECT last("disputes") AS "disputes", last("claimed") AS "claimed", last("recovered") AS "recovered", '
    'last("pending") AS "pending", last("open_0_30") AS "0–30 days", last("open_31_60") AS "31–60 days", '
    'last("open_61_90") AS "61–90 days", last("open_over_90") AS "> 90 days", '
    'last("recovery_rate_pct") AS "recovery %" '
    f'FROM "finance_disputes" WHERE $timeFilter AND {KPI_FILTER} GROUP BY "carrier", "month"',
    y=KPI_Y + 13, h=9,
    description="Per carrier and billing month: the disputes' claimed, recovered and pending amounts, the "
    "pending amount by age, and the recovery rate of the resolved ones (−1: none resolved yet).",
    rename={"carrier": "Carrier", "month": "Month", "disputes": "Disputes", "claimed": "Claimed",
            "recovered": "Recovered", "pending": "Pending", "recovery %": "Recovery %"},
    money="/Claimed|Recovered|Pending|days/",
    sortBy=[{"displayName": "Month", "desc": True}],
)

payments_by_month = monthly_bars(
    "Invoices per due month: paid on time, late, overdue",
    'SELECT sum("paid_on_time") AS "paid on time", sum("paid_late") AS "paid late", sum("overdue") AS "overdue" '
    f'FROM "finance_payments" WHERE $timeFilter AND {KPI_FILTER} GROUP BY time(1d) fill(none)',
    x=0, y=KPI_Y + 22, alias="$col", unit="none", stacked=True,
    description="Invoices by due month: paid on or before the due date, paid after it, unpaid past it.",
    overrides=(
        lw.by_name("paid on time", ("color", {"mode": "fixed", "fixedColor": OK})),
        lw.by_name("paid late", ("color", {"mode": "fixed", "fixedColor": WARN})),
        lw.by_name("overdue", ("color", {"mode": "fixed", "fixedColor": BAD})),
    ),
)

budget_vs_actual = lw.panel(
    "bargauge",
    title="Budget vs actual per department, this year ($currency)",
    # A budget's point is stamped on its year's first instant (web/finance/points.py): the panel reads this year,
    # whatever range the dashboard shows (a "last 30 days" range would hold no budget point).
    timeFrom="now/y",
    description="Each department's budget for the year, its actual to date and the year-end projection (actual "
    "to date + the mean of the last three audited months × the months left).",
    gridPos=lw.grid(12, KPI_Y + 22, 12, 9),
    targets=[lw.target(
        'SELECT last("budget") AS "budget", last("actual") AS "actual", last("projection") AS "projection" '
        f'FROM "finance_budget" WHERE $timeFilter AND {BUDGET_FILTER} AND "scope" = \'department\' '
        'GROUP BY "department"',
        alias="$tag_department $col",
    )],
    fieldConfig={
        "defaults": {"unit": AMOUNT, "decimals": 0, "min": 0, "color": {"mode": "fixed", "fixedColor": "blue"}},
        "overrides": [
            lw.by_name("/actual$/", ("color", {"mode": "fixed", "fixedColor": "text"}), regex=True),
            lw.by_name("/projection$/", ("color", {"mode": "fixed", "fixedColor": WARN}), regex=True),
        ],
    },
    options=bargauge_options(values=False, calc="lastNotNull"),
)

budget_table = kpi_table(
    "Budgets — variance and year-end projection, this year ($currency)",
    'SELECT last("budget") AS "budget", last("budget_to_date") AS "budget to date", '
    'last("actual") AS "actual to date", last("variance") AS "variance", last("variance_pct") AS "variance %", '
    'last("projection") AS "projection", last("projected_variance") AS "projected variance", '
    'last("through_month") AS "through month" '
    f'FROM "finance_budget" WHERE $timeFilter AND {BUDGET_FILTER} GROUP BY "scope", "department", '
    '"cost_centre", "year"',
    y=KPI_Y + 31, h=8, time_from="now/y",
    description="Per budgeted department or cost centre, this year: the year's budget, "
    "budget and actual to date (through the last audited month), variance (actual − budget: positive is over "
    "budget) and the year-end projection against the budget.",
    rename={"scope": "Scope", "department": "Department", "cost_centre": "Cost centre", "year": "Year",
            "budget": "Budget"},
    money="/Budget|budget to date|actual|variance$|projection|projected/",
    overrides=(lw.by_name("/variance$/", ("custom.cellOptions", {"type": "color-text"}),
                          ("color", {"mode": "thresholds"}), ("thresholds", lw.thresholds((None, OK), (0.01, BAD))),
                          regex=True),),
)

dashboard = Dashboard(
    title="linewatch — Finance",
    uid="linewatch-finance",
    description="Carrier line costs, invoice audit findings and savings (billing ETL); disputes, recoveries, "
    "payments and budgets (the management application's finance KPIs).",
    tags=["linewatch", "finance"],
    time=Time("now-1y", "now"),
    refresh="1h",
    links=lw.nav_links(include_vars=True),
    templating=lw.templating(
        [
            lw.query_variable("carrier", lw.tag_values_query("line_cost", "carrier")),
            lw.query_variable(
                "department", lw.tag_values_query("line_cost", "department", depends_on=("carrier",))
            ),
            lw.query_variable(
                "currency",
                lw.tag_values_query("line_cost", "currency", depends_on=("carrier", "department")),
                multi=False,
                include_all=False,
            ),
        ]
    ),
    panels=[
        billed,
        expected,
        at_stake,
        savings,
        findings_count,
        billed_vs_expected,
        by_department,
        by_carrier,
        findings_by_rule,
        lines_table,
        availability_by_carrier,
        mttr_by_carrier,
        claimed_stat,
        recovered_stat,
        pending_stat,
        recovery_rate,
        late_fees_avoided,
        overdue_stat,
        disputes_by_carrier,
        dispute_ageing,
        disputes_table,
        payments_by_month,
        budget_vs_actual,
        budget_table,
    ],
    **lw.DASHBOARD_DEFAULTS,
)
