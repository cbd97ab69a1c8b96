"""lists commands (being written)."""
