"""Reports (the brief §3.3): templates assembled from blocks (table, chart, key figure, text), rendered to HTML
and PDF in Korean or English. The engine (:mod:`web.reports.engine`) knows neither the data nor the schedules:
providers return named blocks, templates place them. docs/reports.md."""
