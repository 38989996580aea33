"""Lamina's built-in Python runtime: a Lambda Runtime API (2018-06-01) client.

Runs inside the execution environment. Standard library only, Python 3.8-3.13,
and it never imports lamina. The zygote imports it once; forked environments call
:func:`main`. It can also run on its own: ``python runtime.py``.
"""

from __future__ import annotations

import decimal
import importlib
import json
import logging
import os
import socket
import sys
import time
import traceback
from typing import Any

_BASE = "/2018-06-01/runtime/"
_THIS_FILE = os.path.abspath(__file__)
_NBSP = "\u00a0"
_request_id = ""


class Fault(Exception):
    """A runtime-level failure with an AWS error type (Runtime.*)."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


class RuntimeClient:
    """Minimal HTTP/1.1 client over one keep-alive socket with TCP_NODELAY.

    http.client parses headers with the email package, which costs more than the
    whole platform budget of a warm invoke; the server side is ours and always
    sends Content-Length, so a tiny reader is enough.
    """

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self._address = (host or "127.0.0.1", int(port))
        self._host = address.encode("ascii")
        self._sock: socket.socket | None = None
        self._reader: Any = None

    def _connect(self) -> None:
        host, port = self._address
        try:
            socket.inet_pton(socket.AF_INET, host)
        except OSError:
            sock = socket.create_connection(self._address)
        else:
            # A numeric address needs no getaddrinfo, whose str host goes through the
            # idna codec: importing it costs ~2 ms of every cold start.
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                sock.connect((host, port))
            except BaseException:
                sock.close()
                raise
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock = sock
        self._reader = sock.makefile("rb")

    def request(
        self, method: bytes, path: str, body: bytes = b"", headers: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        if self._sock is None:
            self._connect()
        assert self._sock is not None
        head = b"%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n%s\r\n" % (
            method,
            path.encode("utf-8"),
            self._host,
            len(body),
            headers,
        )
        if len(body) < 65536:
            self._sock.sendall(head + body)
        else:
            self._sock.sendall(head)
            self._sock.sendall(body)
        return self._read_response()

    def _read_response(self) -> tuple[int, dict[str, str], bytes]:
        reader = self._reader
        line = reader.readline(65537)
        if not line:
            raise ConnectionError("Runtime API closed the connection")
        status = int(line.split(None, 2)[1])
        headers = {}
        while True:
            line = reader.readline(65537)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode(
                "utf-8", "replace"
            )
        length = int(headers.get("content-length", "0"))
        body = reader.read(length) if length else b""
        return status, headers, body

    def next_invocation(self) -> tuple[dict[str, str], bytes]:
        status, headers, body = self.request(b"GET", _BASE + "invocation/next")
        if status != 200:
            raise ConnectionError("invocation/next returned %d: %r" % (status, body))
        return headers, body

    def post_response(self, request_id: str, body: bytes, content_type: str) -> int:
        extra = b"Content-Type: %s\r\n" % content_type.encode("latin-1")
        path = _BASE + "invocation/" + request_id + "/response"
        return self.request(b"POST", path, body, extra)[0]

    def post_error(self, request_id: str | None, error: dict[str, Any]) -> int:
        extra = b"Content-Type: application/json\r\nLambda-Runtime-Function-Error-Type: %s\r\n" % (
            str(error.get("errorType") or "Unhandled").encode("latin-1", "replace")
        )
        if request_id is None:
            path = _BASE + "init/error"
        else:
            path = _BASE + "invocation/" + request_id + "/error"
        return self.request(b"POST", path, to_json(error), extra)[0]


def _default(obj: Any) -> Any:
    if isinstance(obj, decimal.Decimal):
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    raise TypeError("Object of type %s is not JSON serializable" % type(obj).__name__)


def to_json(obj: Any) -> bytes:
    return json.dumps(obj, default=_default).encode("utf-8")


def make_error(
    message: str, error_type: str, trace: list[str] | None, request_id: str = ""
) -> dict[str, Any]:
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id,
        "stackTrace": trace or [],
    }


def _user_frames(tb: Any) -> list[str]:
    frames = list(traceback.extract_tb(tb))
    while frames and frames[0].filename == _THIS_FILE:
        frames = frames[1:]
    return traceback.format_list(frames)


def _indent(line: str) -> str:
    stripped = line.lstrip(" ")
    return _NBSP * (len(line) - len(stripped)) + stripped


def log_error(error: dict[str, Any]) -> None:
    if os.environ.get("AWS_LAMBDA_LOG_FORMAT") == "JSON":
        record = {"timestamp": _iso_now(), "level": "ERROR"}
        record.update(error)
        sys.stdout.write(json.dumps(record) + "\n")
        return
    head = "[ERROR]"
    if error.get("errorType"):
        head += " " + error["errorType"]
    if error.get("errorMessage"):
        head += (":" if error.get("errorType") else "") + " " + error["errorMessage"]
    lines = [head]
    if error.get("stackTrace") is not None:
        lines.append("Traceback (most recent call last):")
        for element in error["stackTrace"]:
            lines.extend(_indent(part) for part in element.splitlines())
    # Lambda's stdout sink joins one record's lines with \r so it stays one event.
    sys.stdout.write("\r".join(lines) + "\n")


def _iso_now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % (
        int(now * 1000) % 1000
    )


def load_handler(spec: str) -> Any:
    try:
        module_name, function_name = spec.rsplit(".", 1)
    except ValueError as exc:
        raise Fault("Runtime.MalformedHandlerName", "Bad handler '%s': %s" % (spec, exc)) from None
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise Fault(
            "Runtime.BuiltInModuleConflict",
            "Cannot use built-in module %s as a handler module" % module_name,
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise Fault(
            "Runtime.ImportModuleError", "Unable to import module '%s': %s" % (module_name, exc)
        ) from None
    except SyntaxError as exc:
        trace = ['  File "%s" Line %s\n    %s' % (exc.filename, exc.lineno, exc.text)]
        raise Fault(
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module '%s': %s" % (module_name, exc),
            trace,
        ) from None
    try:
        return getattr(module, function_name)
    except AttributeError:
        raise Fault(
            "Runtime.HandlerNotFound",
            "Handler '%s' missing on module '%s'" % (function_name, module_name),
        ) from None


class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self, data: dict[str, Any] | None) -> None:
        data = data or {}
        self.cognito_identity_id = data.get("cognitoIdentityId")
        self.cognito_identity_pool_id = data.get("cognitoIdentityPoolId")

    def __repr__(self) -> str:
        return "CognitoIdentity([cognito_identity_id=%s,cognito_identity_pool_id=%s])" % (
            self.cognito_identity_id,
            self.cognito_identity_pool_id,
        )


class Client:
    __slots__ = (
        "app_package_name",
        "app_title",
        "app_version_code",
        "app_version_name",
        "installation_id",
    )

    def __init__(self, data: dict[str, Any]) -> None:
        self.installation_id = data.get("installation_id")
        self.app_title = data.get("app_title")
        self.app_version_name = data.get("app_version_name")
        self.app_version_code = data.get("app_version_code")
        self.app_package_name = data.get("app_package_name")


class ClientContext:
    __slots__ = ("client", "custom", "env")

    def __init__(self, data: dict[str, Any]) -> None:
        client = data.get("client")
        self.client = Client(client) if client else None
        self.custom = data.get("custom")
        self.env = data.get("env")


class LambdaContext:
    """The ``context`` argument handed to handlers (the fields of awslambdaric's)."""

    def __init__(
        self,
        request_id: str,
        deadline_ms: int,
        invoked_function_arn: str,
        client_context: dict[str, Any] | None,
        cognito_identity: dict[str, Any] | None,
        tenant_id: str | None,
    ) -> None:
        env = os.environ
        self.aws_request_id = request_id
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id
        self.identity = CognitoIdentity(cognito_identity)
        self.client_context = ClientContext(client_context) if client_context else None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(int(self._deadline_ms - time.time() * 1000), 0)

    def log(self, msg: str) -> None:
        sys.stdout.write(str(msg))

    def __repr__(self) -> str:
        return (
            "LambdaContext([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,"
            "function_name=%s,memory_limit_in_mb=%s,function_version=%s,"
            "invoked_function_arn=%s,client_context=%s,identity=%s,tenant_id=%s])"
            % (
                self.aws_request_id,
                self.log_group_name,
                self.log_stream_name,
                self.function_name,
                self.memory_limit_in_mb,
                self.function_version,
                self.invoked_function_arn,
                self.client_context,
                self.identity,
                self.tenant_id,
            )
        )


def _json_header(value: str | None, name: str) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError as exc:
        raise Fault(
            "Runtime.LambdaContextUnmarshalError", "Unable to parse %s JSON: %s" % (name, exc)
        ) from None


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _request_id
        return True


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + ".%03dZ" % int(record.msecs),
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
        }
        if _request_id:
            out["requestId"] = _request_id
        if record.exc_info and record.exc_info[0] is not None:
            exc_type, exc, tb = record.exc_info
            out["errorType"] = exc_type.__name__
            out["errorMessage"] = str(exc)
            out["stackTrace"] = traceback.format_tb(tb)
        return json.dumps(out, default=str) + "\n"


class _StdoutHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record))
        except Exception:
            self.handleError(record)


def _setup_logging() -> None:
    logging.Formatter.converter = time.gmtime
    handler = _StdoutHandler()
    if os.environ.get("AWS_LAMBDA_LOG_FORMAT") == "JSON":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter(
                "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
                "%Y-%m-%dT%H:%M:%S",
            )
        )
    handler.addFilter(_RequestIdFilter())
    root = logging.getLogger()
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    if level in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        root.setLevel(level)
    root.addHandler(handler)


def _setup_stdio() -> None:
    # Line-buffered text on the inherited fds; the loop flushes before answering so
    # output lands in the invocation that produced it.
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _invoke(handler: Any, headers: dict[str, str], body: bytes) -> tuple[bytes, str]:
    context = LambdaContext(
        _request_id,
        int(headers.get("lambda-runtime-deadline-ms", "0")),
        headers.get("lambda-runtime-invoked-function-arn", ""),
        _json_header(headers.get("lambda-runtime-client-context"), "Client Context"),
        _json_header(headers.get("lambda-runtime-cognito-identity"), "Cognito Identity"),
        headers.get("lambda-runtime-aws-tenant-id"),
    )
    content_type = headers.get("content-type")
    if content_type is None or content_type.startswith("application/json"):
        try:
            event: Any = json.loads(body)
        except Exception as exc:
            raise Fault("Runtime.UnmarshalError", "Unable to unmarshal input: %s" % exc) from None
    else:
        event = body
    result = handler(event, context)
    if isinstance(result, (bytes, bytearray)):
        return bytes(result), "application/unknown"
    try:
        return to_json(result), "application/json"
    except Exception as exc:
        raise Fault("Runtime.MarshalError", "Unable to marshal response: %s" % exc) from None


def main() -> None:
    global _request_id
    client = RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
    _setup_stdio()
    _setup_logging()
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Exception as exc:
        if isinstance(exc, Fault):
            init_error = make_error(exc.message, exc.error_type, exc.trace)
        else:
            init_error = make_error(str(exc), type(exc).__name__, _user_frames(exc.__traceback__))
        log_error(init_error)
        _flush()
        client.post_error(None, init_error)
        sys.exit(1)
    environ = os.environ
    while True:
        headers, body = client.next_invocation()
        _request_id = headers.get("lambda-runtime-aws-request-id", "")
        trace_id = headers.get("lambda-runtime-trace-id")
        if trace_id is not None:
            environ["_X_AMZN_TRACE_ID"] = trace_id
        elif "_X_AMZN_TRACE_ID" in environ:
            del environ["_X_AMZN_TRACE_ID"]
        error: dict[str, Any] | None = None
        try:
            payload, content_type = _invoke(handler, headers, body)
        except Fault as exc:
            error = make_error(exc.message, exc.error_type, exc.trace, _request_id)
        except Exception as exc:
            error = make_error(
                str(exc), type(exc).__name__, _user_frames(exc.__traceback__), _request_id
            )
        if error is not None:
            log_error(error)
            _flush()
            client.post_error(_request_id, error)
        else:
            _flush()
            client.post_response(_request_id, payload, content_type)


if __name__ == "__main__":
    main()
