"""A provided.al2023 function whose bootstrap is the official awslambdaric, through boto3."""

from __future__ import annotations

import io
import json
import os
import sys
import zipfile
from typing import Any

import pytest

from tests.support.functions import create
from tests.support.packages import pip_install

APP = """
def fn(event, context):
    if event.get("fail"):
        raise RuntimeError("ric failure")
    return {"got": event, "fn": context.function_name, "rid": context.aws_request_id}
"""


@pytest.fixture(scope="module")
def ric_zip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    target = pip_install(tmp_path_factory.mktemp("ric"), "awslambdaric")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in target.rglob("*"):
            if path.is_file():
                info = zipfile.ZipInfo(str(path.relative_to(target)))
                info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
                archive.writestr(info, path.read_bytes())
        archive.writestr("app.py", APP)
        bootstrap = zipfile.ZipInfo("bootstrap")
        bootstrap.external_attr = 0o755 << 16
        archive.writestr(bootstrap, f"#!/bin/sh\nexec {sys.executable} -m awslambdaric app.fn\n")
    return buffer.getvalue()


def test_awslambdaric_bootstrap_runs_unmodified(lambda_client: Any, ric_zip: bytes) -> None:
    name = create(
        lambda_client, Runtime="provided.al2023", Handler="app.fn", Code={"ZipFile": ric_zip}
    )["FunctionName"]
    response = lambda_client.invoke(FunctionName=name, Payload=b'{"x": 1}')
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response
    assert body == {"got": {"x": 1}, "fn": name, "rid": response["ResponseMetadata"]["RequestId"]}
    failed = lambda_client.invoke(FunctionName=name, Payload=b'{"fail": true}')
    error = json.loads(failed["Payload"].read())
    assert failed["FunctionError"] == "Unhandled"
    assert error["errorType"] == "RuntimeError" and error["errorMessage"] == "ric failure"


def test_missing_bootstrap(lambda_client: Any) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "no bootstrap here")
    name = create(
        lambda_client, Runtime="provided.al2", Handler="x", Code={"ZipFile": buffer.getvalue()}
    )["FunctionName"]
    response = lambda_client.invoke(FunctionName=name)
    body = json.loads(response["Payload"].read())
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"].endswith("Runtime exited with error: exit status 127")
