"""Fault tickets from alert to carrier to root cause (brief §6)."""
