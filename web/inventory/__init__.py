"""Inventory: carriers (billing accounts, contacts), sites, departments, cost centres, devices, lines and their
member interfaces, contracts (discounts, SLA credit tiers)."""
