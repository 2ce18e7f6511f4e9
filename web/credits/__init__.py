"""Credit and adjustment lines matched to open disputes (issue 12)."""
