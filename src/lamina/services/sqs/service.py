"""The queue service on the gateway (AWS JSON 1.0 and query) and its internal API.

The internal API (:meth:`SqsService.send`, :meth:`receive`, :meth:`delete`,
:meth:`change_visibility`, :meth:`attributes`) is what Lambda's destinations, DLQs and event
source mappings use; it applies exactly the rules the HTTP API applies.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import botocore.session

from lamina.clock import Clock
from lamina.errors import AwsError
from lamina.gateway.awsjson import AwsJsonProtocol
from lamina.gateway.awsquery import AwsQueryProtocol, QueryValueError, form_tree
from lamina.gateway.http import Request, Response
from lamina.services.sqs import attributes as queue_attributes
from lamina.services.sqs.broker import MessageBroker
from lamina.services.sqs.catalog import QueueCatalog
from lamina.services.sqs.errors import (
    InternalError,
    InvalidAction,
    MissingParameter,
    UnsupportedOperation,
    invalid_value,
)
from lamina.services.sqs.messages import check_visibility, settle_error, wire_attributes
from lamina.services.sqs.models import QueueAttribute, ReceivedMessage
from lamina.services.sqs.operations import Caller, SqsOperations
from lamina.services.sqs.outgoing import prepare
from lamina.services.sqs.query_names import QUERY_NAMES
from lamina.services.sqs.sqlite_store import SqliteSqsStore
from lamina.services.sqs.store import SqsStore
from lamina.storage.sqlite import SqliteStorage

log = logging.getLogger("lamina.sqs")

_QUEUE_PATH = re.compile(r"/(\d{12})/([A-Za-z0-9_.-]{1,80})/?")
_FORM = "application/x-www-form-urlencoded"


class SqsService:
    signing_name = "sqs"

    def __init__(
        self,
        store: SqsStore,
        clock: Clock,
        model: Any,
        *,
        default_account: str,
        default_region: str,
    ) -> None:
        self.catalog = QueueCatalog(store, clock)
        self.broker = MessageBroker(store, self.catalog, clock)
        self.operations = SqsOperations(self.catalog, self.broker)
        self._table = self.operations.table()
        self.json = AwsJsonProtocol(model, pre_check=self._pre_check)
        self.query = AwsQueryProtocol(model, QUERY_NAMES)
        self._model = model
        self._account = default_account
        self._region = default_region

    # --- gateway ------------------------------------------------------------------------

    def claims(self, request: Request) -> bool:
        if request.headers.get("x-amz-target", "").startswith(f"{self.json.target_prefix}."):
            return True
        if request.service == self.signing_name:
            return True
        path = request.raw_path.split("?", 1)[0]
        if path != "/" and not _QUEUE_PATH.fullmatch(path):
            return False
        if "Action=" in request.query:
            return True
        if request.method != "POST":
            return False
        form = _FORM in request.headers.get("content-type", "")
        return request.body.startswith(b"Action=") or (form and b"Action=" in request.body)

    async def handle(self, request: Request) -> Response:
        target = request.headers.get("x-amz-target")
        if target is not None:
            return await self._handle_json(request, target)
        return await self._handle_query(request)

    async def _handle_json(self, request: Request, target: str) -> Response:
        async def call(operation: str, params: dict[str, Any]) -> dict[str, Any]:
            return await self._call(operation, request, params)

        return await self.json.respond(
            target, request.body, call, InternalError("An internal error occurred.")
        )

    async def _handle_query(self, request: Request) -> Response:
        try:
            body = request.body.decode("utf-8") if request.body else ""
            tree = form_tree("&".join(p for p in (request.query, body) if p))
            action = tree.get("Action")
            if not isinstance(action, str) or not action:
                raise MissingParameter("Action")
            operation = self.query.operation_named(action)
            if operation is None:
                raise InvalidAction(f"The action {action} is not valid for this endpoint.")
            match = _QUEUE_PATH.fullmatch(request.raw_path.split("?", 1)[0])
            if match and "QueueUrl" not in tree:
                tree["QueueUrl"] = f"{request.base_url}/{match[1]}/{match[2]}"
            try:
                params = self.query.parse_request(operation, tree)
            except QueryValueError as exc:
                raise invalid_value(exc.name, exc.value, "Invalid value.") from None
            self._pre_check(operation.name, params)
            output = await self._call(operation.name, request, params)
            return self.query.serialize_response(operation, output, request.request_id)
        except AwsError as error:
            return self.query.serialize_error(error, request.request_id)
        except Exception:
            log.exception("SQS query request failed")
            internal = InternalError("An internal error occurred.")
            return self.query.serialize_error(internal, request.request_id)

    def _pre_check(self, operation: str, params: dict[str, Any]) -> None:
        """SQS's own wording for what the model's constraints would otherwise report."""
        shape = self._model.operation_model(operation).input_shape
        for name in shape.required_members if shape is not None else ():
            if params.get(name) is None:
                raise MissingParameter(name)
        if operation == "GetQueueAttributes":
            queue_attributes.check_names(params.get("AttributeNames") or [])
        elif operation == "ReceiveMessage":
            # Names this model does not know (newer or misspelt) are ignored, not rejected.
            for member in ("AttributeNames", "MessageSystemAttributeNames"):
                shape_enum = shape.members[member].member.enum
                if member in params:
                    params[member] = [n for n in params[member] if n in shape_enum]

    async def _call(self, name: str, request: Request, params: dict[str, Any]) -> dict[str, Any]:
        handler = self._table.get(name)
        if handler is None:
            raise UnsupportedOperation(f"Lamina does not implement the {name} operation yet.")
        await self.catalog.ready()
        caller = Caller(
            request.account_id or self._account, request.region or self._region, request.base_url
        )
        return await handler(caller, params)

    # --- internal API ---------------------------------------------------------------------

    async def send(
        self,
        queue: str,
        body: str,
        attributes: Mapping[str, Mapping[str, Any]] | None = None,
        system_attributes: Mapping[str, Any] | None = None,
        *,
        group_id: str | None = None,
        deduplication_id: str | None = None,
        delay_seconds: int | None = None,
    ) -> str:
        """Send to a queue by ARN or URL; the message id. Attributes use the wire form
        (``{"k": {"DataType": "String", "StringValue": "v"}}``); the only system attribute is
        AWSTraceHeader (a string or its wire form)."""
        await self.catalog.ready()
        target = self.catalog.resolve(queue, self._account, self._region)
        trace = (system_attributes or {}).get("AWSTraceHeader")
        if isinstance(trace, Mapping):
            trace = trace.get("StringValue")
        message = prepare(
            target,
            body,
            wire_attributes(attributes or {}),
            message_id=self.broker.ids.next(),
            now_ms=self.broker.now_ms(),
            sender_id=target.account,
            trace_header=trace,
            delay_seconds=delay_seconds,
            group_id=group_id,
            deduplication_id=deduplication_id,
        )
        (accepted,) = await self.broker.send([message])
        return accepted.message_id

    async def receive(
        self,
        queue_arn: str,
        max_messages: int = 10,
        visibility_timeout: int | None = None,
        wait_seconds: float = 0,
    ) -> list[ReceivedMessage]:
        """Up to max_messages (1-10) with every system and message attribute."""
        await self.catalog.ready()
        queue = self.catalog.resolve(queue_arn, self._account, self._region)
        timeout = queue.visibility_timeout if visibility_timeout is None else visibility_timeout
        return await self.broker.receive(
            queue, max(1, min(max_messages, 10)), timeout, wait_seconds
        )

    async def delete(self, queue_arn: str, receipt_handles: Sequence[str]) -> list[str]:
        """Delete messages; the handles that could not be used (invalid or expired)."""
        await self.catalog.ready()
        queue = self.catalog.resolve(queue_arn, self._account, self._region)
        states = await self.broker.delete(queue, receipt_handles)
        return [
            handle
            for handle, state in zip(receipt_handles, states, strict=True)
            if settle_error(state, handle, visibility=False, fifo=queue.fifo) is not None
        ]

    async def change_visibility(
        self, queue_arn: str, receipt_handles: Sequence[str], visibility_timeout: int
    ) -> list[str]:
        """Make messages visible again after visibility_timeout seconds; the failed handles."""
        await self.catalog.ready()
        check_visibility(visibility_timeout)
        queue = self.catalog.resolve(queue_arn, self._account, self._region)
        states = await self.broker.change_visibility(
            queue, [(h, visibility_timeout) for h in receipt_handles]
        )
        return [
            handle
            for handle, state in zip(receipt_handles, states, strict=True)
            if settle_error(state, handle, visibility=True) is not None
        ]

    async def attributes(self, queue_arn: str) -> dict[str, str]:
        """Every attribute of a queue, as GetQueueAttributes with All answers."""
        await self.catalog.ready()
        queue = self.catalog.resolve(queue_arn, self._account, self._region)
        counts = await self.broker.counts(queue)
        return queue_attributes.render(queue, [QueueAttribute.ALL], counts)


def build_sqs_service(
    storage: SqliteStorage,
    clock: Clock,
    *,
    default_region: str,
    default_account: str,
    model: Any = None,
) -> SqsService:
    """The queue service over SQLite storage (opened by the caller before the first request)."""
    if model is None:
        model = botocore.session.get_session().get_service_model("sqs")
    return SqsService(
        SqliteSqsStore(storage),
        clock,
        model,
        default_account=default_account,
        default_region=default_region,
    )
