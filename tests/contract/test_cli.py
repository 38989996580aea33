"""The AWS CLI (v2, as the seeds use it) against a live server."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.support.functions import ROLE, hello_zip, unique
from tests.support.server import LiveServer

AWS = "/usr/bin/aws"  # Debian's AWS CLI v2; the PyPI `awscli` on PATH is v1


def aws(server: LiveServer, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_PAGER": "",
    }
    return subprocess.run(
        [AWS, "--endpoint-url", server.url, "--output", "json", *args],
        capture_output=True,
        text=True,
        env=env,
        check=check,
        timeout=120,
    )


def aws_json(server: LiveServer, *args: str) -> Any:
    return json.loads(aws(server, *args).stdout)


def create_function_args(name: str, folder: Path) -> list[str]:
    """`aws lambda create-function` for the hello-world package, written into `folder`."""
    package = folder / "function.zip"
    package.write_bytes(hello_zip())
    return [
        "lambda",
        "create-function",
        "--function-name",
        name,
        "--runtime",
        "python3.12",
        "--role",
        ROLE,
        "--handler",
        "handler.handler",
        "--zip-file",
        f"fileb://{package}",
    ]


def test_cli_v2_is_the_one_used() -> None:
    version = subprocess.run([AWS, "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.startswith("aws-cli/2.")


def test_function_lifecycle_with_the_cli(server: LiveServer, tmp_path: Path) -> None:
    name = unique("cli")
    created = aws_json(server, *create_function_args(name, tmp_path))
    assert created["State"] == "Pending" and created["FunctionName"] == name
    aws(server, "lambda", "wait", "function-active-v2", "--function-name", name)
    got = aws_json(server, "lambda", "get-function", "--function-name", name)
    assert got["Configuration"]["State"] == "Active"
    listed = aws_json(server, "lambda", "list-functions")
    assert name in [f["FunctionName"] for f in listed["Functions"]]
    version = aws_json(server, "lambda", "publish-version", "--function-name", name)
    assert version["Version"] == "1"
    alias = aws_json(
        server,
        "lambda",
        "create-alias",
        "--function-name",
        name,
        "--name",
        "live",
        "--function-version",
        "1",
    )
    assert alias["AliasArn"].endswith(f":{name}:live")
    updated = aws_json(
        server,
        "lambda",
        "update-function-configuration",
        "--function-name",
        name,
        "--timeout",
        "30",
        "--environment",
        "Variables={STAGE=test}",
    )
    assert updated["Timeout"] == 30 and updated["LastUpdateStatus"] == "InProgress"
    aws(server, "lambda", "wait", "function-updated-v2", "--function-name", name)
    deleted = aws(server, "lambda", "delete-function", "--function-name", name)
    assert deleted.stdout == ""
    missing = aws(server, "lambda", "get-function", "--function-name", name, check=False)
    assert missing.returncode != 0
    assert (
        "An error occurred (ResourceNotFoundException) when calling the GetFunction operation:"
        f" Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}"
    ) in missing.stderr


def test_cli_errors(server: LiveServer, tmp_path: Path) -> None:
    invalid = aws(server, "lambda", "get-function", "--function-name", "bad!name", check=False)
    assert "(ValidationException)" in invalid.stderr
    assert "1 validation error detected: Value 'bad!name' at 'functionName'" in invalid.stderr
    args = create_function_args(unique("cli"), tmp_path)
    aws(server, *args)
    duplicate = aws(server, *args, check=False)
    assert "(ResourceConflictException)" in duplicate.stderr
