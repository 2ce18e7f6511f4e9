"""Voice trunks measured by calls (docs/voice.md, docs/cdr.md): CDR tailing and import, the modelled month, the
pipeline into the call store and InfluxDB, live concurrency."""
