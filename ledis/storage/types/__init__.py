"""One module per data type, working on Python values through the metadata gate."""
