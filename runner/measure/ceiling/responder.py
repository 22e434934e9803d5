"""The smallest HTTP server we can write: a raw asyncio protocol that answers every request
with the same fixed 200, without parsing it.

It is what k6's ceiling is measured against (runner.measure.ceiling): per request it does one read and
one write, far less than any framework, so on its own core it outruns k6 on k6's core and the
throughput measured is k6's limit. Requests are counted by their header terminator, which is
enough for k6's bodiless GETs on keep-alive connections.

    python -m runner.measure.ceiling.responder PORT     # serves 127.0.0.1:PORT until SIGTERM
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from typing import cast

from runner.measure.ports import HOST

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
END_OF_HEADERS = b"\r\n\r\n"
# A request split across reads leaves a tail; more than this without a terminator is not HTTP.
MAX_PENDING = 64 * 1024


class Responder(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.pending = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        buffer = self.pending + data if self.pending else data
        answered = buffer.count(END_OF_HEADERS)
        if answered:
            self.transport.write(RESPONSE * answered)
            buffer = buffer[buffer.rfind(END_OF_HEADERS) + len(END_OF_HEADERS) :]
        if len(buffer) > MAX_PENDING:
            self.transport.close()
            buffer = b""
        self.pending = buffer


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    stop = loop.create_future()

    def finish() -> None:
        if not stop.done():
            stop.set_result(None)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, finish)
    server = await loop.create_server(Responder, HOST, port, backlog=4096)
    async with server:
        await stop


def main(argv: list[str]) -> None:
    port = int(argv[0])
    # uvloop (installed with uvicorn's standard extras) halves the cost of each read and write.
    with contextlib.suppress(ImportError):
        import uvloop

        uvloop.install()
    asyncio.run(serve(port))


if __name__ == "__main__":
    main(sys.argv[1:])
