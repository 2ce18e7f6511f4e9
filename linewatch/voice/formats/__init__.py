"""CDR formats (docs/cdr.md): each parser turns raw rows into the normalized call frame (linewatch.voice.frame)."""
