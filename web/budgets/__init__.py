"""Budgets per department or cost centre, actual costs, variance, chargeback (issue 12)."""
