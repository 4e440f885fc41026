"""``h2.H2Connection`` without its per-stream scan of every stream.

h2 counts open streams by walking its whole stream table each time a stream opens (and prunes
closed streams during that walk): O(n) per stream, O(n^2) for n concurrent ones, which is what
1,000 multiplexed requests cost most. Surge enforces the concurrency limits itself (the server
counts the streams its application holds; the client reserves streams within the peer's
MAX_CONCURRENT_STREAMS), so h2's count is never the binding check: here it reports no open
streams and runs the real walk (pruning closed streams) once every ``PRUNE_EVERY`` streams.
"""

from __future__ import annotations

from h2.connection import H2Connection

__all__ = ["PRUNE_EVERY", "LeanH2Connection"]

PRUNE_EVERY = 64


class LeanH2Connection(H2Connection):
    """An ``H2Connection`` whose open-stream counts are amortised O(1)."""

    _opened = 0

    def _counted(self, remainder: int) -> int:
        self._opened += 1
        if self._opened % PRUNE_EVERY == 0:
            self._open_streams(remainder)  # prunes closed streams; the count is ours to keep
        return 0

    @property
    def open_outbound_streams(self) -> int:
        return self._counted(int(self.config.client_side))

    @property
    def open_inbound_streams(self) -> int:
        return self._counted(int(not self.config.client_side))
