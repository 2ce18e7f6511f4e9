"""Invoices collected from a drop folder and an IMAP mailbox (issue 12)."""
