"""The Invoke operation on the wire: headers and payload in, status, headers and body out."""

from __future__ import annotations

import base64
import binascii
import json

from lamina.engine.invoke import Invoker, InvokeRequest
from lamina.engine.trace import trace_header
from lamina.errors import (
    AwsError,
    InvalidRequestContentException,
    RequestEntityTooLargeException,
)
from lamina.gateway.restjson_body import load_json
from lamina.lambda_.api import Output, Params, RequestContext

MAX_SYNC_PAYLOAD = 6_291_456
MAX_CLIENT_CONTEXT = 3_583
LOG_TAIL_BYTES = 4_096


class EventInvocationsUnavailable(AwsError):
    code = "NotImplementedException"
    status = 501
    message_key = "message"


class InvokeApi:
    def __init__(self, invoker: Invoker) -> None:
        self._invoker = invoker

    def handlers(self) -> dict[str, object]:
        return {"Invoke": self.invoke}

    async def invoke(self, ctx: RequestContext, p: Params) -> Output:
        name, qualifier = ctx.scope.resolve(p["FunctionName"], p.get("Qualifier"))
        invocation_type = p.get("InvocationType") or "RequestResponse"
        payload: bytes = p.get("Payload") or b""
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
        target = await self._invoker.resolve(request)
        if invocation_type == "DryRun":
            return {"StatusCode": 204}
        if invocation_type == "Event":
            raise EventInvocationsUnavailable("Lamina does not run Event invocations yet.")
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
