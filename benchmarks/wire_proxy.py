"""A counting TCP proxy for the PostgreSQL and MySQL wire protocols (statement-count passes only).

It forwards bytes unchanged and, on the way, counts per operation window:

- round trips: request/response turns. A client write that follows server
  bytes (or is the first on its connection) starts a new turn, so pipelined
  messages sent before waiting count once, whatever the driver.
- statements: PostgreSQL ``Query`` and ``Execute`` messages; MySQL
  ``COM_QUERY`` and ``COM_STMT_EXECUTE`` commands.
- connects: new client connections.

It runs its own event loop in a daemon thread, so sync drivers can use it too.
Timings are never taken through it.
"""

from __future__ import annotations

import asyncio
import struct
import threading
from typing import Literal

from benchmarks.counting import Tally

__all__ = ["WireProxy"]

Protocol = Literal["postgres", "mysql"]

_PG_UNTYPED_CODES = {80877103, 80877104, 80877102}  # SSLRequest, GSSENCRequest, CancelRequest
_MYSQL_STATEMENT_COMMANDS = {0x03, 0x17}  # COM_QUERY, COM_STMT_EXECUTE


class _ClientParser:
    """Counts statement messages in one client-to-server byte stream."""

    def __init__(self, protocol: Protocol, tally: Tally) -> None:
        self.protocol = protocol
        self.tally = tally
        self.buffer = bytearray()
        self.started = False  # PostgreSQL: past the untyped startup messages

    def feed(self, data: bytes) -> None:
        self.buffer += data
        if self.protocol == "postgres":
            self._postgres()
        else:
            self._mysql()

    def _postgres(self) -> None:
        buffer = self.buffer
        while True:
            if not self.started:
                if len(buffer) < 8:
                    return
                (length,) = struct.unpack_from("!I", buffer, 0)
                if len(buffer) < length:
                    return
                (code,) = struct.unpack_from("!I", buffer, 4)
                del buffer[:length]
                if code not in _PG_UNTYPED_CODES:
                    self.started = True
                continue
            if len(buffer) < 5:
                return
            (length,) = struct.unpack_from("!I", buffer, 1)
            if len(buffer) < 1 + length:
                return
            kind = chr(buffer[0])
            del buffer[: 1 + length]
            if kind in ("Q", "E"):
                self.tally.add(statements=1)

    def _mysql(self) -> None:
        buffer = self.buffer
        while len(buffer) >= 4:
            length = buffer[0] | buffer[1] << 8 | buffer[2] << 16
            if len(buffer) < 4 + length:
                return
            sequence = buffer[3]
            command = buffer[4] if length else -1
            del buffer[: 4 + length]
            if sequence == 0 and command in _MYSQL_STATEMENT_COMMANDS:
                self.tally.add(statements=1)


class WireProxy:
    """Forward ``127.0.0.1:<port>`` to ``host:target_port``, counting into :attr:`tally`."""

    def __init__(self, protocol: Protocol, host: str, target_port: int) -> None:
        self.protocol = protocol
        self.host = host
        self.target_port = target_port
        self.tally = Tally()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self._serve, name=f"wire-proxy-{protocol}", daemon=True)

    def __enter__(self) -> WireProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.close()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.tally.add(connects=1)
        server_reader, server_writer = await asyncio.open_connection(self.host, self.target_port)
        parser = _ClientParser(self.protocol, self.tally)
        turn = {"server_spoke": True}

        async def upstream() -> None:
            while data := await client_reader.read(65536):
                if turn["server_spoke"]:
                    self.tally.add(round_trips=1)
                    turn["server_spoke"] = False
                parser.feed(data)
                server_writer.write(data)
                await server_writer.drain()
            server_writer.close()

        async def downstream() -> None:
            while data := await server_reader.read(65536):
                turn["server_spoke"] = True
                client_writer.write(data)
                await client_writer.drain()
            client_writer.close()

        try:
            await asyncio.gather(upstream(), downstream())
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass
        finally:
            for writer in (client_writer, server_writer):
                writer.close()
