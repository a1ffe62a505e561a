"""uvicorn's h11 protocol with a header read timeout.

uvicorn closes an idle keep-alive connection (`timeout_keep_alive`) but waits forever for the
headers of a request that trickles in, byte by byte or not at all: a few such connections would
hold the server's sockets. This protocol closes a connection whose request line and headers have
not all arrived within `HEADER_TIMEOUT_S` of its opening (or of the previous response). The body's
own deadline is the app's (`rag.server.api.read_body`), which answers 408.
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT_S = 10.0


class TimedH11Protocol(H11Protocol):
    header_timeout = HEADER_TIMEOUT_S
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_late)

    def _headers_late(self) -> None:
        waiting = self.cycle is None or self.cycle.response_complete
        if waiting and self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()
