"""Voice trunks measured by calls (issue 13, docs/voice.md): the shared, pure parts the CDR collector, the billing ETL
and the management application all use — the voice.yaml configuration, the normalized call frame, CDR formats,
numbering and destination classes, rate plans and rating, Erlang B, the extension directory and the call store."""
