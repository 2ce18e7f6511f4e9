"""Trends, forecasts and anomalies per line (issue 14; docs/forecast.md, docs/anomalies.md, docs/trends.md): pure
pandas/numpy functions over utilization series in percent of the contracted capacity. No InfluxDB here except
``outlook.py``, which reads the trends job's results through ``linewatch.influx``.

- ``series``: a line's utilization samples → daily 95th percentile and busy-hour peak.
- ``forecast``: a daily series → forecast with an interval (Holt-Winters, robust seasonal, linear baseline) and the
  dates it crosses a level (80 %, 95 %).
- ``baseline``, ``anomaly``, ``patterns``: hour-of-week baselines, departures from them, usage patterns.
"""
