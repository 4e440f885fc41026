"""Server-side connection protocols (HTTP/1.1 now; HTTP/2 joins here)."""
