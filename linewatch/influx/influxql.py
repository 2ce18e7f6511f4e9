"""InfluxQL literals built from values (line ids, device names, periods): written once for every query builder."""

from __future__ import annotations

import re
from collections.abc import Iterable


def escape_string(value: str) -> str:
    """``value`` for the inside of a single-quoted InfluxQL string (backslashes and quotes escaped)."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def string_literal(value: str) -> str:
    """``value`` as a single-quoted InfluxQL string literal."""
    return "'" + escape_string(value) + "'"


def exact_regex(values: Iterable[str]) -> str:
    """A regex literal (``/^(?:a|b)$/``) matching exactly these values, for ``"tag" =~ …``; sorted, so a query's
    text is the same for the same set."""
    alternatives = "|".join(re.escape(v).replace("/", r"\/") for v in sorted(set(values)))
    return f"/^(?:{alternatives})$/"
