"""Small shared utilities with no I/O."""
