"""One environment's Runtime API endpoint (2018-06-01), on asyncio protocols + httptools.

Each environment gets its own loopback listener, so a connection identifies its
environment without any lookup. The event is handed out by answering the runtime's
parked ``GET /next``; ``/response`` and ``/error`` resolve the environment's waiter.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import httptools

MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100
_INVOCATION = b"/2018-06-01/runtime/invocation/"
_INIT_ERROR = b"/2018-06-01/runtime/init/error"


def _reply(status: bytes, body: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


ACCEPTED = _reply(b"202 Accepted", b'{"status":"OK"}')
INVALID_ID = _reply(
    b"400 Bad Request", b'{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}'
)
TOO_LARGE = _reply(
    b"413 Request Entity Too Large",
    b'{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).",'
    b'"errorType":"RequestEntityTooLarge"}',
)
NOT_FOUND = (
    b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 19\r\n\r\n"
    b"404 page not found\n"
)
PONG = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\npong"


def _invalid_transition(current: str, target: str) -> bytes:
    body = (
        '{"errorType":"InvalidStateTransition","errorMessage":"State transition from '
        f'{current} to {target} failed for runtime. Error: State transition is not allowed"}}'
    )
    return _reply(b"403 Forbidden", body.encode())


@dataclass(frozen=True, slots=True)
class Outcome:
    """What ended a wait on an environment."""

    kind: str  # ready | init_error | response | error | too_large | exit | timeout
    body: bytes = b""
    error_type: str | None = None
    status: int = 0  # wait status, for kind == "exit"


READY = Outcome("ready")
TIMEOUT = Outcome("timeout")
RESPONSE_TOO_LARGE = Outcome("too_large")


class RuntimeApi:
    """State shared by the connections of one environment's listener."""

    def __init__(self) -> None:
        self.address = ""
        self.waiter: asyncio.Future[Outcome] | None = None
        self.expected_uid: int | None = None
        self._server: asyncio.AbstractServer | None = None
        self._parked: _Connection | None = None
        self._outbox: tuple[str, bytes] | None = None
        self._current: str | None = None
        self._initialising = False
        self._connections: set[_Connection] = set()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self), "127.0.0.1", 0, reuse_address=False, backlog=16
        )
        host, port = self._server.sockets[0].getsockname()[:2]
        self.address = f"{host}:{port}"

    def begin_init(self) -> None:
        """A new runtime process is starting: forget the previous one's connections."""
        self.reset()
        self._initialising = True

    def reset(self) -> None:
        for conn in list(self._connections):
            conn.close()
        self._parked = None
        self._outbox = None
        self._current = None
        self._initialising = False

    def deliver(self, request_id: str, response: bytes) -> None:
        """Queue an event (a complete HTTP response to ``next``) for the runtime."""
        parked = self._parked
        if parked is not None:
            self._parked = None
            self._current = request_id
            parked.write(response)
        else:
            self._outbox = (request_id, response)

    def _resolve(self, outcome: Outcome) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(outcome)

    # -- called by connections ---------------------------------------------------------

    def on_next(self, conn: _Connection) -> None:
        if self._initialising:
            self._initialising = False
            self._resolve(READY)
        outbox = self._outbox
        if outbox is not None:
            self._outbox = None
            self._current = outbox[0]
            conn.write(outbox[1])
        else:
            self._parked = conn

    def on_result(
        self, request_id: bytes, kind: str, body: bytes, error_type: str | None, oversize: bool
    ) -> bytes:
        if self._current is None or request_id.decode("latin-1") != self._current:
            return INVALID_ID
        self._current = None
        if oversize:
            self._resolve(RESPONSE_TOO_LARGE)
            return TOO_LARGE
        self._resolve(Outcome(kind, body, error_type))
        return ACCEPTED

    def on_init_error(self, body: bytes, error_type: str | None) -> bytes:
        if not self._initialising:
            return _invalid_transition("Ready", "InitError")
        self._initialising = False
        self._resolve(Outcome("init_error", body, error_type))
        return ACCEPTED

    def accept(self, conn: _Connection) -> bool:
        if self.expected_uid is not None and not _peer_owned_by(
            conn.peer, conn.local, self.expected_uid
        ):
            return False
        self._connections.add(conn)
        return True

    def forget(self, conn: _Connection) -> None:
        self._connections.discard(conn)
        if self._parked is conn:
            self._parked = None

    async def aclose(self) -> None:
        self.reset()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None


class _Connection(asyncio.Protocol):
    __slots__ = (
        "_api",
        "_body",
        "_error_type",
        "_parser",
        "_size",
        "_transport",
        "_url",
        "local",
        "peer",
    )

    def __init__(self, api: RuntimeApi) -> None:
        self._api = api
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url = b""
        self._body: list[bytes] = []
        self._size = 0
        self._error_type: bytes | None = None
        self.peer: tuple[str, int] = ("", 0)
        self.local: tuple[str, int] = ("", 0)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement the interface without subclassing it.
        self._transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.peer = transport.get_extra_info("peername") or ("", 0)
        self.local = transport.get_extra_info("sockname") or ("", 0)
        if not self._api.accept(self):
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._api.forget(self)
        self._transport = None

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            self.close()

    def write(self, data: bytes) -> None:
        if self._transport is not None:
            self._transport.write(data)

    def close(self) -> None:
        if self._transport is not None:
            self._transport.abort()
            self._transport = None

    # -- httptools callbacks -------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._url = b""
        self._body = []
        self._size = 0
        self._error_type = None

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(name) == 34 and name.lower() == b"lambda-runtime-function-error-type":
            self._error_type = value

    def on_body(self, body: bytes) -> None:
        self._size += len(body)
        if self._size <= MAX_RESPONSE_BYTES:
            self._body.append(body)

    def on_message_complete(self) -> None:
        url = self._url
        api = self._api
        if url.startswith(_INVOCATION):
            rest = url[len(_INVOCATION) :]
            if rest == b"next":
                api.on_next(self)
                return
            request_id, _, action = rest.partition(b"/")
            if action in (b"response", b"error"):
                body = b"".join(self._body)
                error_type = self._error_type.decode("latin-1") if self._error_type else None
                oversize = action == b"response" and self._size > MAX_RESPONSE_BYTES
                kind = "response" if action == b"response" else "error"
                self.write(api.on_result(request_id, kind, body, error_type, oversize))
                return
        elif url == _INIT_ERROR:
            error_type = self._error_type.decode("latin-1") if self._error_type else None
            self.write(api.on_init_error(b"".join(self._body), error_type))
            return
        elif url == b"/2018-06-01/ping":
            self.write(PONG)
            return
        self.write(NOT_FOUND)


def _peer_owned_by(peer: tuple[str, int], local: tuple[str, int], uid: int) -> bool:
    """True if the loopback client socket at ``peer``, connected to our ``local`` listener
    address, belongs to ``uid``.

    Every environment shares the host network namespace, so this keeps one function
    from pulling another environment's events off its Runtime API port. One sock_diag
    lookup of that exact socket costs tens of microseconds; reading /proc/net/tcp walks
    every socket of the host (about 5 ms on a busy machine, on the event loop), so it is
    only the fallback when netlink is unavailable.
    """
    try:
        owner = _socket_owner(peer, local)
    except OSError:
        return _proc_net_tcp_owner(peer) == uid
    return owner == uid


_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST = 1
_NLMSG_ERROR = 2
_TCP_ESTABLISHED = 1
_NO_COOKIE = 0xFFFFFFFF
_NLMSGHDR = struct.Struct("=IHHII")
_DIAG_REQ = struct.Struct("=BBBBI")  # inet_diag_req_v2 head; the socket id follows
_DIAG_MSG_HEAD = struct.Struct("=BBBB")  # inet_diag_msg head; id, timers, queues, uid follow


def _sock_id(src: tuple[str, int], dst: tuple[str, int]) -> bytes:
    """struct inet_diag_sockid for an IPv4 socket (ports and addresses in network order)."""
    return (
        struct.pack("!HH", src[1], dst[1])
        + socket.inet_aton(src[0]).ljust(16, b"\0")
        + socket.inet_aton(dst[0]).ljust(16, b"\0")
        + struct.pack("=III", 0, _NO_COOKIE, _NO_COOKIE)
    )


def _socket_owner(src: tuple[str, int], dst: tuple[str, int]) -> int | None:
    """The uid owning the established TCP socket ``src`` -> ``dst``; None if there is none.

    Raises OSError when sock_diag itself cannot be used."""
    sock_id = _sock_id(src, dst)
    request = _DIAG_REQ.pack(socket.AF_INET, socket.IPPROTO_TCP, 0, 0, 1 << _TCP_ESTABLISHED)
    request += sock_id
    header = _NLMSGHDR.pack(
        _NLMSGHDR.size + len(request), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST, 1, 0
    )
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, _NETLINK_SOCK_DIAG) as nl:
        nl.sendto(header + request, (0, 0))
        reply = nl.recv(8192)
    length, kind = _NLMSGHDR.unpack_from(reply)[:2]
    if kind == _NLMSG_ERROR:
        errno = -struct.unpack_from("=i", reply, _NLMSGHDR.size)[0]
        if errno in (0, 2):  # ENOENT: no such socket
            return None
        raise OSError(errno, "sock_diag lookup failed")
    if kind != _SOCK_DIAG_BY_FAMILY or length < _NLMSGHDR.size + 72:
        raise OSError(0, "unexpected sock_diag reply")
    at = _NLMSGHDR.size
    family, state = _DIAG_MSG_HEAD.unpack_from(reply, at)[:2]
    # The lookup falls back to listeners; accept only the exact established socket.
    if family != socket.AF_INET or state != _TCP_ESTABLISHED:
        return None
    if reply[at + 4 : at + 4 + 40] != sock_id[:40]:
        return None
    return int(struct.unpack_from("=I", reply, at + 64)[0])


def _proc_net_tcp_owner(peer: tuple[str, int]) -> int | None:
    host, port = peer[0], peer[1]
    try:
        packed = socket.inet_aton(host)
    except OSError:
        return None
    local = f"{struct.unpack('=I', packed)[0]:08X}:{port:04X}".encode()
    try:
        table = Path("/proc/net/tcp").read_bytes()
    except OSError:
        return None
    for line in table.splitlines()[1:]:
        fields = line.split()
        # Only the established socket counts: loopback ports are reused while an older
        # socket on the same port lingers in TIME_WAIT, and those are listed with uid 0.
        if len(fields) > 7 and fields[1] == local and fields[3] == b"01":
            return int(fields[7])
    return None
