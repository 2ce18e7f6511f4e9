"""The built-in reports' data providers, one module per data source (docs/reports.md, "Built-in reports"):
:mod:`.utilization` (line traffic: 95th percentile, busy hour, heatmap, usage pattern), :mod:`.outlook` (the
trends job's capacity outlook), :mod:`.finance` (costs, findings, disputes, credits), :mod:`.noc` (tickets,
saturated lines, collector health) and :mod:`.voice` (voice trunks). Each reads its source once per report and
returns named blocks (:mod:`web.reports.blocks`) in the report's language; :mod:`web.reports.builtin` registers
the reports that use them."""
