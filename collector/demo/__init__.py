"""The built-in demo network: a believable traffic model, simulated routers answering SNMP, and history backfill."""
