"""scripting commands (being written)."""
