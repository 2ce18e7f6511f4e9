"""Models of the faults app."""
