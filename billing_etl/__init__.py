"""Billing ETL: carrier invoices joined with measured usage, audited line by line, exported for finance.

See docs/billing.md. Public entry points: :func:`billing_etl.run.run_period`,
:func:`billing_etl.config.load_billing_config`, :func:`billing_etl.config.check_config`,
:func:`billing_etl.demo.demo_stage`.
"""

__all__: list[str] = []
