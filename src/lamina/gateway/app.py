"""The ASGI front door: one port, every service, routed by credential scope and path."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from lamina.errors import AwsError, RequestEntityTooLargeException, ServiceException
from lamina.gateway.http import Request, Response, error_response
from lamina.gateway.sigv4 import account_for, credential_scope
from lamina.services.logs.server_logging import REQUEST_ID

log = logging.getLogger("lamina.gateway")

ASGIReceive = Callable[[], Awaitable[dict[str, Any]]]
ASGISend = Callable[[dict[str, Any]], Awaitable[None]]

# The largest request any operation accepts (CreateFunction's limit, recorded on AWS).
MAX_REQUEST_BYTES = 70_167_211


class Service(Protocol):
    signing_name: str

    def claims(self, request: Request) -> bool:
        """Whether an unsigned request (or one signed for another name) is for this service."""
        ...

    async def handle(self, request: Request) -> Response: ...


InternalRoute = Callable[[Request], Awaitable[Response]]


class Gateway:
    def __init__(
        self,
        services: list[Service],
        internal: dict[str, InternalRoute],
        *,
        default_account: str,
        default_region: str,
        on_startup: Callable[[], Awaitable[None]] | None = None,
        on_shutdown: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._by_signing_name = {s.signing_name: s for s in services}
        self._services = services
        self._internal = internal  # "/_lamina/<name>" prefix -> handler
        self._default_account = default_account
        self._default_region = default_region
        self._on_startup = on_startup
        self._on_shutdown = on_shutdown
        self.ready = False

    async def __call__(self, scope: dict[str, Any], receive: ASGIReceive, send: ASGISend) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            response = await self._respond(scope, receive)
            await _send(send, response)

    async def _respond(self, scope: dict[str, Any], receive: ASGIReceive) -> Response:
        request = Request(
            method=scope["method"],
            raw_path=scope.get("raw_path", scope["path"].encode()).decode("latin-1"),
            query=scope.get("query_string", b"").decode("latin-1"),
            headers={k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]},
            body=b"",
        )
        token = REQUEST_ID.set(request.request_id)
        try:
            request.body = await _read_body(receive, request.headers)
            self._identify(request)
            response = await self._dispatch(request)
        except AwsError as error:
            response = error_response(error)
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.raw_path)
            response = error_response(ServiceException("An internal error occurred."))
        finally:
            REQUEST_ID.reset(token)
        response.headers.append(("x-amzn-RequestId", request.request_id))
        return response

    def _identify(self, request: Request) -> None:
        credentials = credential_scope(request.headers, request.query)
        request.account_id = account_for(
            credentials.access_key_id if credentials else None, self._default_account
        )
        request.region = credentials.region if credentials else self._default_region
        request.service = credentials.service if credentials else None

    async def _dispatch(self, request: Request) -> Response:
        if request.raw_path == "/metrics" and "metrics" in self._internal:
            return await self._internal["metrics"](request)  # Prometheus' customary path
        if request.raw_path.startswith("/_lamina/"):
            name = request.raw_path.split("/")[2]
            route = self._internal.get(name)
            if route is not None:
                return await route(request)
        service = self._by_signing_name.get(request.service or "")
        if service is None or not service.claims(request):
            service = next((s for s in self._services if s.claims(request)), service)
        if service is None:
            return Response.json(
                404,
                {
                    "Type": "User",
                    "message": f"No service handles {request.method} {request.raw_path}",
                },
                [("x-amzn-ErrorType", "UnknownOperationException")],
            )
        return await service.handle(request)

    async def _lifespan(self, receive: ASGIReceive, send: ASGISend) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    if self._on_startup:
                        await self._on_startup()
                except Exception as exc:
                    log.exception("start-up failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                self.ready = True
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.ready = False
                if self._on_shutdown:
                    await self._on_shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _read_body(receive: ASGIReceive, headers: dict[str, str]) -> bytes:
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_REQUEST_BYTES:
        raise RequestEntityTooLargeException(
            f"Request must be smaller than {MAX_REQUEST_BYTES} bytes for the CreateFunction"
            " operation"
        )
    chunks = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        if chunk:
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_REQUEST_BYTES:
                raise RequestEntityTooLargeException(
                    f"Request must be smaller than {MAX_REQUEST_BYTES} bytes for the"
                    " CreateFunction operation"
                )
        if not message.get("more_body"):
            return b"".join(chunks) if len(chunks) != 1 else chunks[0]


async def _send(send: ASGISend, response: Response) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})
