"""The Invoke operation on the wire: headers and payload in, status, headers and body out."""

from __future__ import annotations

import base64
import binascii
import json

from lamina.engine.async_invoke import (
    MAX_EVENT_PAYLOAD,
    MAX_INVOKE_ASYNC_PAYLOAD,
    AsyncInvoker,
    payload_too_large,
)
from lamina.engine.invoke import Invoker, InvokeRequest
from lamina.engine.trace import new_trace_header, trace_header
from lamina.errors import InvalidRequestContentException, RequestEntityTooLargeException
from lamina.gateway.restjson_body import load_json
from lamina.lambda_.api import Handler, Output, Params, RequestContext

MAX_SYNC_PAYLOAD = 6_291_456
MAX_CLIENT_CONTEXT = 3_583
LOG_TAIL_BYTES = 4_096


class InvokeApi:
    def __init__(self, invoker: Invoker, async_invoker: AsyncInvoker) -> None:
        self._invoker = invoker
        self._async = async_invoker

    def handlers(self) -> dict[str, Handler]:
        return {"Invoke": self.invoke, "InvokeAsync": self.invoke_async}

    async def invoke_async(self, ctx: RequestContext, p: Params) -> Output:
        """The deprecated InvokeAsync: an Event invocation with a 256 KB limit, no tracing."""
        name, qualifier = ctx.scope.resolve(p["FunctionName"])
        payload: bytes = p.get("InvokeArgs") or b"{}"
        if len(payload) <= MAX_INVOKE_ASYNC_PAYLOAD and payload.strip():
            load_json(payload)
        await self._async.accept(
            ctx.scope,
            name,
            qualifier,
            payload,
            ctx.request_id,
            new_trace_header(),
            limit=MAX_INVOKE_ASYNC_PAYLOAD,
        )
        return {"Status": 202}

    async def invoke(self, ctx: RequestContext, p: Params) -> Output:
        name, qualifier = ctx.scope.resolve(p["FunctionName"], p.get("Qualifier"))
        invocation_type = p.get("InvocationType") or "RequestResponse"
        payload: bytes = p.get("Payload") or b""
        if invocation_type == "Event" and len(payload) > MAX_EVENT_PAYLOAD:
            raise payload_too_large(len(payload), MAX_EVENT_PAYLOAD)
        if len(payload) > MAX_SYNC_PAYLOAD:
            raise RequestEntityTooLargeException(
                f"Request must be smaller than {MAX_SYNC_PAYLOAD} bytes for the InvokeFunction"
                " operation"
            )
        if payload.strip():
            load_json(payload)  # raises AWS's InvalidRequestContentException text
        else:
            payload = b"{}"  # UNVERIFIED (spec 2.3): an empty body reaches the function as {}
        request = InvokeRequest(
            scope=ctx.scope,
            function_name=name,
            qualifier=qualifier,
            payload=payload,
            request_id=ctx.request_id,
            trace_id=trace_header(ctx.headers.get("x-amzn-trace-id")),
            client_context=_client_context(p.get("ClientContext")),
        )
        if invocation_type == "Event":
            await self._async.accept(
                ctx.scope, name, qualifier, payload, ctx.request_id, request.trace_id
            )
            return {"StatusCode": 202}
        target = await self._invoker.resolve(request)
        if invocation_type == "DryRun":
            return {"StatusCode": 204}
        outcome = await self._invoker.run(request, target)
        result = outcome.result
        out: Output = {
            "StatusCode": 200,
            "ExecutedVersion": target.executed_version,
            "Payload": result.payload,
        }
        if result.function_error:
            out["FunctionError"] = result.function_error
        if p.get("LogType") == "Tail":
            tail = result.log.encode()[-LOG_TAIL_BYTES:]
            out["LogResult"] = base64.b64encode(tail).decode()
        return out


def _client_context(encoded: str | None) -> str | None:
    """The decoded JSON text the function receives (synchronous invocations only)."""
    if not encoded:
        return None
    if len(encoded) > MAX_CLIENT_CONTEXT:
        # UNVERIFIED wording (spec 12.3).
        raise InvalidRequestContentException(
            f"Client context must be smaller than {MAX_CLIENT_CONTEXT} bytes."
        )
    try:
        text = base64.b64decode(encoded, validate=True).decode()
        json.loads(text)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequestContentException(
            "Client context must be a valid Base64-encoded JSON object."
        ) from exc
    return text
