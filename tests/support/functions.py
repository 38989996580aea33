"""Deployment packages and names for tests."""

from __future__ import annotations

import io
import uuid
import zipfile
from typing import Any

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

HELLO = """
def handler(event, context):
    return {"hello": event}
"""


def zip_of(files: dict[str, str], *, executable: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o755 if name in executable else 0o644) << 16
            archive.writestr(info, text)
    return buffer.getvalue()


def hello_zip() -> bytes:
    return zip_of({"handler.py": HELLO})


def unique(prefix: str = "fn") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create(
    client: object, name: str | None = None, *, wait: bool = True, **overrides: object
) -> dict[str, Any]:
    params: dict[str, object] = {
        "FunctionName": name or unique(),
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "handler.handler",
        "Code": {"ZipFile": hello_zip()},
    }
    params.update(overrides)
    response: dict[str, Any] = client.create_function(**params)  # type: ignore[attr-defined]
    if wait:
        client.get_waiter("function_active_v2").wait(  # type: ignore[attr-defined]
            FunctionName=params["FunctionName"], WaiterConfig={"Delay": 0.1, "MaxAttempts": 100}
        )
    return response
