"""A TCP proxy in front of PostgreSQL that can stall, break or refuse connections on demand.

Put a bot's ``DATABASE_URL`` through :attr:`PgProxy.port` (``url_through``) and switch the
proxy's mode while the bot runs:

* ``pass_through()``: bytes flow both ways (held bytes are let go);
* ``pause(new_connections=...)``: the connections open now stop forwarding (what they read
  is held, and they read no more, so the peers' sends back up as on a stalled network);
  ``new_connections=True`` holds new ones the same way, ``False`` lets them through;
* ``reset()``: every open connection is aborted (RST both ways), new ones pass;
* ``blackhole()``: open connections stall, new ones are accepted and never answered;
* ``starting_up()``: open connections are aborted, and each new one is answered, after its
  start-up message, with PostgreSQL's ``FATAL 57P03 the database system is starting up``
  and closed, as a server in recovery answers;
* ``hold_replies_after(pattern)``: the first client message containing ``pattern`` (SQL
  text: asyncpg sends it when it prepares a statement) and the next one (the execution)
  reach the server, and from then on that connection holds everything both ways: the
  server has run the statement (taken its locks) and waits, the client never hears back.
  :attr:`held` is set then.

A held connection holds its close too: a client that gives up, or is killed, leaves its
server session open behind the proxy, as a network partition would.

Everything listens on 127.0.0.1 only; :meth:`close` stops the listener and aborts every
connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sqlalchemy.engine import make_url

SSL_REQUEST = 80877103
GSS_REQUEST = 80877104
CANCEL_REQUEST = 80877102


def starting_up_error() -> bytes:
    """The ErrorResponse a PostgreSQL server in recovery sends to a new connection."""
    fields = b"".join(
        code + value.encode() + b"\0"
        for code, value in (
            (b"S", "FATAL"),
            (b"V", "FATAL"),
            (b"C", "57P03"),
            (b"M", "the database system is starting up"),
        )
    ) + b"\0"
    return b"E" + struct.pack("!i", 4 + len(fields)) + fields


@dataclass(eq=False)
class _Link:
    """One client connection and, unless blackholed or refused, its upstream connection."""

    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    flowing: asyncio.Event = field(default_factory=asyncio.Event)
    armed: bool = False
    tasks: list[asyncio.Task] = field(default_factory=list)

    def abort(self) -> None:
        for writer in (self.client, self.upstream):
            if writer is not None:
                writer.transport.abort()
        for task in self.tasks:
            task.cancel()


class PgProxy:
    """The proxy; ``async with PgProxy(host, port) as proxy`` starts and closes it.

    Attributes:
        accepted: client connections accepted so far (all modes).
        refused_starting_up: connections answered with 57P03.
    """

    def __init__(self, upstream_host: str = "127.0.0.1", upstream_port: int = 5432) -> None:
        self.upstream_host, self.upstream_port = upstream_host, upstream_port
        self.mode = "pass"
        self._hold_new = False
        self._links: set[_Link] = set()
        self._server: asyncio.Server | None = None
        self._trigger: bytes | None = None
        self.held = asyncio.Event()
        self.port = 0
        self.accepted = 0
        self.refused_starting_up = 0

    async def __aenter__(self) -> PgProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self._links):
            link.abort()
        self._links.clear()
        if self._server is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    await self._server.wait_closed()

    def url_through(self, url: str) -> str:
        """``url`` (a PostgreSQL URL of the upstream server) pointed at the proxy instead."""
        return make_url(url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    @property
    def open_connections(self) -> int:
        return len(self._links)

    # --- modes ----------------------------------------------------------------------

    def pass_through(self) -> None:
        self.mode, self._hold_new = "pass", False
        for link in list(self._links):
            if link.upstream is None:  # blackholed: nothing behind it to let go to
                self._drop(link)
            else:
                link.flowing.set()

    def pause(self, *, new_connections: bool) -> None:
        self.mode, self._hold_new = "pass", new_connections
        for link in self._links:
            link.flowing.clear()

    def reset(self) -> None:
        self.mode, self._hold_new = "pass", False
        for link in list(self._links):
            self._drop(link)

    def hold_replies_after(self, pattern: bytes) -> None:
        self.held.clear()
        self._trigger = pattern

    def blackhole(self) -> None:
        self.mode = "blackhole"
        for link in self._links:
            link.flowing.clear()

    def starting_up(self) -> None:
        self.mode = "starting up"
        for link in list(self._links):
            self._drop(link)

    # --- connections ----------------------------------------------------------------

    def _drop(self, link: _Link) -> None:
        link.abort()
        self._links.discard(link)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        link = _Link(client=writer)
        self._links.add(link)
        try:
            if self.mode == "blackhole":
                await self._swallow(reader)
            elif self.mode == "starting up":
                await self._refuse_starting_up(reader, writer)
            else:
                await self._forward(link, reader)
        except (OSError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # cancelled: the proxy is closing, or a reset dropped the link
        finally:
            self._drop(link)

    async def _swallow(self, reader: asyncio.StreamReader) -> None:
        while await reader.read(65536):
            pass

    async def _refuse_starting_up(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            length, code = struct.unpack("!ii", await reader.readexactly(8))
            await reader.readexactly(length - 8)
            if code in (SSL_REQUEST, GSS_REQUEST):
                writer.write(b"N")  # no encryption here; the client goes on in plain text
                await writer.drain()
                continue
            if code == CANCEL_REQUEST:
                return
            break  # the start-up message
        self.refused_starting_up += 1
        writer.write(starting_up_error())
        await writer.drain()
        writer.close()

    async def _forward(self, link: _Link, reader: asyncio.StreamReader) -> None:
        up_reader, up_writer = await asyncio.open_connection(self.upstream_host, self.upstream_port)
        link.upstream = up_writer
        if not self._hold_new:
            link.flowing.set()
        link.tasks = [
            asyncio.create_task(self._pump(reader, up_writer, link, watch=True)),
            asyncio.create_task(self._pump(up_reader, link.client, link)),
        ]
        await asyncio.wait(link.tasks, return_when=asyncio.FIRST_COMPLETED)

    async def _pump(
        self, source: asyncio.StreamReader, target: asyncio.StreamWriter, link: _Link, *, watch: bool = False
    ) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await source.read(65536):
                # Paused: the chunk read is held here and nothing more is read.
                await link.flowing.wait()
                target.write(data)
                await target.drain()
                if watch and link.armed:
                    # The statement's execution (Bind/Execute) has gone to the server.
                    link.armed = False
                    link.flowing.clear()
                    self.held.set()
                elif watch and self._trigger is not None and self._trigger in data:
                    # asyncpg prepares first (Parse, with the text); the execution follows
                    # once the server has answered that.
                    self._trigger = None
                    link.armed = True
            # The peer closed: a held link holds that too.
            await link.flowing.wait()
        with contextlib.suppress(OSError, RuntimeError):
            target.close()


@contextlib.asynccontextmanager
async def pg_proxy(upstream_url: str) -> AsyncIterator[PgProxy]:
    """A proxy in front of the server ``upstream_url`` names."""
    url = make_url(upstream_url)
    async with PgProxy(url.host or "127.0.0.1", url.port or 5432) as proxy:
        yield proxy
