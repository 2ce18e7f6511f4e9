"""Date and time formats of the application's pages (``FORMAT_MODULE_PATH``), the same in English and Korean: ISO 8601
days and 24-hour times (``2026-12-02 03:20``), as the NOC and finance read them in logs, exports and Grafana, instead
of Django's locale defaults (``12/02/2026 3:20 a.m.`` in English, ``2026-12-2`` in Korean). Input formats are the
locale's own (ISO first in both)."""
