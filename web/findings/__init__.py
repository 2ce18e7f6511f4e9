"""Audit findings with stable ids, suppression rules, disputes with evidence packs (issue 12)."""
