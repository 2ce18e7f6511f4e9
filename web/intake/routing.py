"""Which carrier a collected file belongs to (pure): its name against the carriers.yaml ``files`` patterns, then the
sender's address against the domains of each carrier's billing contacts.

A file matched by its sender only must still be of the carrier's layout format (a ``.docx`` from Colt's billing
address is no Colt invoice). What did not match is a :class:`Unrouted` whose reason names the patterns tried.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import PurePosixPath

from billing_etl.config import Carrier

# The suffixes each layout format reads (Layout.format).
FORMAT_SUFFIXES: Mapping[str, tuple[str, ...]] = {"csv": (".csv", ".txt"), "xlsx": (".xlsx",), "pdf": (".pdf",)}
MAX_LISTED_PATTERNS = 12


@dataclass(frozen=True)
class Routed:
    carrier: Carrier
    by: str  # "file name pattern 'colt-*.csv'" or "sender domain colt.test"


@dataclass(frozen=True)
class Unrouted:
    reason: str


def domain_of(address: str) -> str:
    """The lower-cased domain of an email address ("" when it has none)."""
    _local, at, domain = address.strip().rpartition("@")
    return domain.strip().rstrip(">").lower() if at else ""


def _pattern_matches(filename: str, pattern: str) -> bool:
    # Patterns are globs under invoice_dir ("orange-*.xlsx", "kt/kt-*.xlsx"): a collected file has only its name.
    return fnmatchcase(filename, PurePosixPath(pattern).name)


def route(
    filename: str,
    *,
    carriers: Sequence[Carrier],
    sender: str = "",
    billing_domains: Mapping[str, set[str]] | None = None,
) -> Routed | Unrouted:
    """The carrier of ``filename`` (first carrier whose pattern matches, as the ETL's ``find_invoice_files``), else
    the carrier whose billing contacts share the ``sender``'s domain (``billing_domains``: carrier name → domains)."""
    for carrier in carriers:
        for pattern in carrier.files:
            if _pattern_matches(filename, pattern):
                return Routed(carrier, f"file name pattern {pattern!r}")
    tried = [f"{c.name}: {', '.join(c.files)}" for c in carriers]
    listed = "; ".join(tried[:MAX_LISTED_PATTERNS]) + ("; …" if len(tried) > MAX_LISTED_PATTERNS else "")
    reason = f"no carrier's file pattern matches {filename!r} (tried {listed or 'none: carriers.yaml has no carrier'})"
    domain = domain_of(sender)
    if domain:
        owners = [c for c in carriers if domain in (billing_domains or {}).get(c.name, set())]
        if not owners:
            return Unrouted(f"{reason}; and the sender's domain {domain} is no carrier's billing contact")
        carrier = owners[0]
        suffix = PurePosixPath(filename).suffix.lower()
        wanted = FORMAT_SUFFIXES.get(carrier.layout.format, ())
        if suffix not in wanted:
            return Unrouted(f"{reason}; the sender is {carrier.name}'s billing contact, but {filename!r} is not a "
                            f"{carrier.layout.format} file ({', '.join(wanted)}), the format of its invoices")
        return Routed(carrier, f"sender domain {domain}")
    return Unrouted(reason)
