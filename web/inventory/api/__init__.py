"""The inventory's REST endpoints (``/api/inventory/…``)."""
