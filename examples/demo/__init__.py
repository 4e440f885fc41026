"""The demo app served by ``make run``: a home page linking to what surge shows."""
