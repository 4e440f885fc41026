"""HTTP/2 protocol core (sans-IO, on the ``h2`` library)."""
