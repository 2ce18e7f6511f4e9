"""Billing tests reuse the Grafana tests' macro expansion (tests/grafana/grafana_macros.py) to check the
finance dashboard's queries the same way."""

from __future__ import annotations

import sys
from pathlib import Path

_GRAFANA_TESTS = str(Path(__file__).resolve().parents[1] / "grafana")
if _GRAFANA_TESTS not in sys.path:
    sys.path.append(_GRAFANA_TESTS)
