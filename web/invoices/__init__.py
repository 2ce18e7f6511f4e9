"""Carrier invoices: states from received to paid, approval, payments calendar, accounts-payable export (issue 12)."""
