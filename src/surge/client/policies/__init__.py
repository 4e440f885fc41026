"""I/O-free client policies: generators that yield requests and are sent responses."""
