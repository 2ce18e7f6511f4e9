"""InfluxDB v1-HTTP-API client, line-protocol encoder, batching writer and disk spool (see docs/influx.md)."""

from linewatch.influx.client import InfluxClient
from linewatch.influx.lineproto import Point, encode_lines, encode_point, encode_points
from linewatch.influx.settings import InfluxSettings, SpoolSettings
from linewatch.influx.spool import DiskSpool, SpoolLocked
from linewatch.influx.writer import PointWriter, WriterStats

__all__ = [
    "DiskSpool",
    "InfluxClient",
    "InfluxSettings",
    "Point",
    "PointWriter",
    "SpoolLocked",
    "SpoolSettings",
    "WriterStats",
    "encode_lines",
    "encode_point",
    "encode_points",
]
