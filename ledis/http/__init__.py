"""The HTTP API (LedisDB URL shape) on the server's event loop: see app.py and docs/http.md."""
