"""New lines, changes and terminations as workflows (brief §2)."""
