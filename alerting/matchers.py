"""Label matchers in Alertmanager syntax: ``department="Operations"``, ``severity!=info``, ``site=~"Fra.*|Ams.*"``.

Used by the routing tree, maintenance windows and silences. Regular expressions are anchored (full match), as in
Alertmanager.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# The labels every alert carries (docs/alerting.md). Device-level alerts set ``line`` to the device name.
LABEL_NAMES = ("rule", "severity", "line", "device", "department", "site", "carrier", "line_type", "scope")

_MATCHER = re.compile(r'^\s*([a-z_]+)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^"\s]*))\s*$')


@dataclass(frozen=True, slots=True)
class Matcher:
    label: str
    op: str
    value: str
    regex: re.Pattern[str] | None = None

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.label, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        assert self.regex is not None
        hit = self.regex.fullmatch(actual) is not None
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        return f'{self.label}{self.op}"{self.value}"'


def parse_matcher(text: str) -> Matcher:
    """Parse ``label<op>value``; raise ValueError naming what is wrong."""
    m = _MATCHER.match(text)
    if m is None:
        raise ValueError(f"matcher {text!r} is not label=value, label!=value, label=~regex or label!~regex")
    label, op = m.group(1), m.group(2)
    value = m.group(3) if m.group(3) is not None else m.group(4)
    value = re.sub(r"\\(.)", r"\1", value)
    if label not in LABEL_NAMES:
        raise ValueError(f"matcher {text!r}: unknown label {label!r} (known: {', '.join(LABEL_NAMES)})")
    regex = None
    if op in ("=~", "!~"):
        try:
            regex = re.compile(value)
        except re.error as exc:
            raise ValueError(f"matcher {text!r}: invalid regular expression: {exc}") from None
    return Matcher(label, op, value, regex)


def all_match(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)
