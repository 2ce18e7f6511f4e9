"""Finance overview (issue 12): KPIs of disputes, recoveries and payments; budgets per department or cost centre, actual costs, variance, year-end projection, chargeback."""
