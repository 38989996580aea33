"""Reserved and provisioned concurrency and throttling, through boto3 against live servers."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError, ReadTimeoutError

from tests.contract.test_functions import error_of
from tests.support.functions import create, zip_of
from tests.support.recorded import Replay
from tests.support.server import LiveServer

SLEEPER = """
import time, os
def handler(event, context):
    time.sleep(event.get("sleep", 0))
    if event.get("crash"):
        os._exit(9)
    return {"init": os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE")}
"""


def sleeper(client: Any, **overrides: Any) -> str:
    params: dict[str, Any] = {"Code": {"ZipFile": zip_of({"handler.py": SLEEPER})}, "Timeout": 10}
    params.update(overrides)
    return str(create(client, **params)["FunctionName"])


def parallel(server: LiveServer, name: str, count: int, payload: dict[str, Any]) -> list[Any]:
    """Fire `count` invokes at once, each on its own client; a response or a ClientError each."""
    results: list[Any] = [None] * count
    clients = [server.client() for _ in range(count)]
    barrier = threading.Barrier(count)

    def call(index: int) -> None:
        barrier.wait()
        try:
            response = clients[index].invoke(
                FunctionName=name, Payload=json.dumps(payload).encode()
            )
            response["Body"] = response.pop("Payload").read()
            results[index] = response
        except ClientError as error:
            results[index] = error

    threads = [threading.Thread(target=call, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    return results


def test_reserved_concurrency_lifecycle(lambda_client: Any) -> None:
    name = sleeper(lambda_client)
    replay = Replay("TestLambdaReservedConcurrency::test_function_concurrency")
    replay.check(
        "put_function_concurrency_with_reserved_0",
        lambda: lambda_client.put_function_concurrency(
            FunctionName=name, ReservedConcurrentExecutions=0
        ),
    )
    replay.check(
        "put_function_concurrency_with_reserved_1",
        lambda: lambda_client.put_function_concurrency(
            FunctionName=name, ReservedConcurrentExecutions=1
        ),
    )
    replay.check(
        "get_function_concurrency",
        lambda: lambda_client.get_function_concurrency(FunctionName=name),
    )
    assert lambda_client.get_function(FunctionName=name)["Concurrency"] == {
        "ReservedConcurrentExecutions": 1
    }
    settings = lambda_client.get_account_settings()["AccountLimit"]
    assert settings["UnreservedConcurrentExecutions"] == settings["ConcurrentExecutions"] - 1
    replay.check(
        "delete_response", lambda: lambda_client.delete_function_concurrency(FunctionName=name)
    )
    replay.check(
        "get_function_concurrency_after_delete",
        lambda: lambda_client.get_function_concurrency(FunctionName=name),
    )
    replay.assert_complete()
    errors = Replay("TestLambdaReservedConcurrency::test_function_concurrency_exceptions")
    errors.check(
        "put_function_concurrency_with_function_name_doesnotexist",
        lambda: lambda_client.put_function_concurrency(
            FunctionName="doesnotexist", ReservedConcurrentExecutions=1
        ),
    )
    errors.check(
        "put_function_concurrency_with_function_name_doesnotexist_and_invalid_concurrency",
        lambda: lambda_client.put_function_concurrency(
            FunctionName="doesnotexist", ReservedConcurrentExecutions=2000
        ),
    )
    errors.check(
        "put_function_concurrency_with_qualified_arn",
        lambda: lambda_client.put_function_concurrency(
            FunctionName=f"{name}:$LATEST", ReservedConcurrentExecutions=1
        ),
    )
    errors.assert_complete()


def test_reserved_three_of_ten_parallel(server: LiveServer, lambda_client: Any) -> None:
    name = sleeper(lambda_client)
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=3)
    results = parallel(server, name, 10, {"sleep": 1})
    ran = [r for r in results if not isinstance(r, ClientError)]
    throttled = [r for r in results if isinstance(r, ClientError)]
    assert len(ran) == 3 and len(throttled) == 7
    for error in throttled:
        response = error.response
        assert response["Error"]["Code"] == "TooManyRequestsException"
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
        assert response["message"] == "Rate Exceeded."
        assert response["ResponseMetadata"]["HTTPHeaders"]["retry-after"]


def test_reserved_zero_throttles_every_invoke(lambda_client: Any) -> None:
    name = sleeper(lambda_client)
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    for _ in range(3):
        with pytest.raises(ClientError) as excinfo:
            lambda_client.invoke(FunctionName=name)
        assert error_of(excinfo) == ("TooManyRequestsException", "Rate Exceeded.", 429)
        assert excinfo.value.response["Reason"] == (
            "ReservedFunctionConcurrentInvocationLimitExceeded"
        )


def test_account_limit(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "data", env={"LAMINA_ACCOUNT_CONCURRENCY": "5"}).start()
    try:
        client = server.client()
        names = [sleeper(client) for _ in range(2)]
        outcomes: list[Any] = []
        background = threading.Thread(
            target=lambda: outcomes.extend(parallel(server, names[0], 3, {"sleep": 2}))
        )
        second = threading.Thread(
            target=lambda: outcomes.extend(parallel(server, names[1], 2, {"sleep": 2}))
        )
        background.start()
        second.start()
        time.sleep(1)
        with pytest.raises(ClientError) as excinfo:
            client.invoke(FunctionName=names[1])
        background.join()
        second.join()
        assert excinfo.value.response["Reason"] == "ConcurrentInvocationLimitExceeded"
        assert len(outcomes) == 5
        assert not [o for o in outcomes if isinstance(o, ClientError)]
        with pytest.raises(ClientError) as too_much:
            client.put_function_concurrency(FunctionName=names[0], ReservedConcurrentExecutions=1)
        assert error_of(too_much) == (
            "InvalidParameterValueException",
            "Specified ReservedConcurrentExecutions for function decreases account's"
            " UnreservedConcurrentExecution below its minimum value of [100].",
            400,
        )
        assert client.get_account_settings()["AccountLimit"]["ConcurrentExecutions"] == 5
    finally:
        server.stop()


def test_provisioned_concurrency_on_an_alias(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "data").start()
    try:
        client = server.client()
        name = sleeper(client, Publish=True)
        client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
        put = client.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=2
        )
        assert put["ResponseMetadata"]["HTTPStatusCode"] == 202
        assert (
            put["Status"] == "IN_PROGRESS" and put["RequestedProvisionedConcurrentExecutions"] == 2
        )
        deadline = time.monotonic() + 30
        while True:
            config = client.get_provisioned_concurrency_config(FunctionName=name, Qualifier="live")
            if config["Status"] != "IN_PROGRESS" or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert config["Status"] == "READY"
        assert config["AllocatedProvisionedConcurrentExecutions"] == 2
        assert config["AvailableProvisionedConcurrentExecutions"] == 2
        listed = client.list_provisioned_concurrency_configs(FunctionName=name)
        assert [c["FunctionArn"] for c in listed["ProvisionedConcurrencyConfigs"]] == [
            f"arn:aws:lambda:us-east-1:000000000000:function:{name}:live"
        ]
        results = parallel(server, f"{name}:live", 2, {"sleep": 0.5})
        for response in results:
            body = json.loads(response["Body"])
            assert body == {"init": "provisioned-concurrency"}
        tail = client.invoke(FunctionName=name, Qualifier="live", LogType="Tail")
        assert "Init Duration" not in base64.b64decode(tail["LogResult"]).decode()
        with pytest.raises(ClientError) as conflict:
            client.put_provisioned_concurrency_config(
                FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=1
            )
        assert error_of(conflict) == (
            "ResourceConflictException",
            "Version is pointed by a Provisioned Concurrency alias",
            409,
        )
        client.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="live")
        with pytest.raises(ClientError) as gone:
            client.get_provisioned_concurrency_config(FunctionName=name, Qualifier="live")
        assert error_of(gone)[0::2] == ("ProvisionedConcurrencyConfigNotFoundException", 404)
    finally:
        server.stop()


def test_provisioned_errors_match_aws(lambda_client: Any) -> None:
    name = sleeper(lambda_client, Environment={"Variables": {}}, Timeout=30)
    replay = Replay("TestLambdaProvisionedConcurrency::test_provisioned_concurrency_exceptions")
    c = lambda_client
    replay.check("publish_version_result", lambda: c.publish_version(FunctionName=name))
    lambda_client.get_waiter("published_version_active").wait(FunctionName=name, Qualifier="1")
    steps: dict[str, Any] = {
        "get_provisioned_config_doesnotexist": lambda: c.get_provisioned_concurrency_config(
            FunctionName=name, Qualifier="1"
        ),
        "get_provisioned_functionname_doesnotexist": lambda: c.get_provisioned_concurrency_config(
            FunctionName="doesnotexist", Qualifier="noalias"
        ),
        "get_provisioned_qualifier_doesnotexist": lambda: c.get_provisioned_concurrency_config(
            FunctionName=name, Qualifier="noalias"
        ),
        "get_provisioned_version_doesnotexist": lambda: c.get_provisioned_concurrency_config(
            FunctionName=name, Qualifier="10"
        ),
        "get_provisioned_latest": lambda: c.get_provisioned_concurrency_config(
            FunctionName=name, Qualifier="$LATEST"
        ),
        "list_provisioned_noconfigs": lambda: c.list_provisioned_concurrency_configs(
            FunctionName=name
        ),
        "list_provisioned_functionname_doesnotexist": lambda: (
            c.list_provisioned_concurrency_configs(FunctionName="doesnotexist")
        ),
        "delete_provisioned_functionname_doesnotexist": lambda: (
            c.delete_provisioned_concurrency_config(FunctionName="doesnotexist", Qualifier="1")
        ),
        "delete_provisioned_qualifier_doesnotexist": lambda: (
            c.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="noalias")
        ),
        "delete_provisioned_version_doesnotexist": lambda: c.delete_provisioned_concurrency_config(
            FunctionName=name, Qualifier="10"
        ),
        "delete_provisioned_latest": lambda: c.delete_provisioned_concurrency_config(
            FunctionName=name, Qualifier="$LATEST"
        ),
        "delete_provisioned_config_doesnotexist": lambda: c.delete_provisioned_concurrency_config(
            FunctionName=name, Qualifier="1"
        ),
        "put_provisioned_functionname_doesnotexist_alias": lambda: (
            c.put_provisioned_concurrency_config(
                FunctionName="doesnotexist", Qualifier="noalias", ProvisionedConcurrentExecutions=1
            )
        ),
        "put_provisioned_functionname_doesnotexist_version": lambda: (
            c.put_provisioned_concurrency_config(
                FunctionName="doesnotexist", Qualifier="1", ProvisionedConcurrentExecutions=1
            )
        ),
        "put_provisioned_qualifier_doesnotexist": lambda: c.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="doesnotexist", ProvisionedConcurrentExecutions=1
        ),
        "put_provisioned_version_doesnotexist": lambda: c.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="10", ProvisionedConcurrentExecutions=1
        ),
        "put_provisioned_latest": lambda: c.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="$LATEST", ProvisionedConcurrentExecutions=1
        ),
    }
    for key, call in steps.items():
        replay.check(key, call)
    replay.assert_complete(skipped={"put_provisioned_invalid_param_0": "test below"})


def test_provisioned_zero_is_a_validation_error(server: LiveServer) -> None:
    client = server.client(validate=False)  # botocore itself refuses 0 before sending
    name = sleeper(client, Publish=True)
    replay = Replay("TestLambdaProvisionedConcurrency::test_provisioned_concurrency_exceptions")
    replay.check(
        "put_provisioned_invalid_param_0",
        lambda: client.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=0
        ),
    )


def test_every_lease_comes_back_after_a_storm(tmp_path: Path) -> None:
    """Timeouts, crashes and clients that hang up: afterwards concurrency reads zero."""
    server = LiveServer(tmp_path / "data").start()
    try:
        client = server.client()
        name = sleeper(client, Timeout=1)
        impatient = boto3.client(
            "lambda",
            endpoint_url=server.url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=BotoConfig(read_timeout=0.3, retries={"total_max_attempts": 1}),
        )
        payloads = [{"sleep": 3}, {"crash": True}, {"sleep": 0.8}] * 4
        errors: list[BaseException] = []

        def storm(payload: dict[str, Any], hang_up: bool) -> None:
            caller = impatient if hang_up else server.client()
            try:
                caller.invoke(FunctionName=name, Payload=json.dumps(payload).encode())
            except ReadTimeoutError as error:
                errors.append(error)

        threads = [
            threading.Thread(target=storm, args=(p, i % 3 == 2)) for i, p in enumerate(payloads)
        ]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        assert in_use(server) > 0
        for thread in threads:
            thread.join()
        impatient.close()
        assert errors, "no client hung up"
        deadline = time.monotonic() + 15
        while in_use(server) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert in_use(server) == 0
    finally:
        server.stop()


def in_use(server: LiveServer) -> int:
    with urllib.request.urlopen(f"{server.url}/_lamina/concurrency") as response:
        snapshot = json.loads(response.read())["concurrentExecutions"]
    return sum(sum(functions.values()) for functions in snapshot.values())


def test_provisioned_concurrency_fails_when_init_fails(lambda_client: Any) -> None:
    name = create(
        lambda_client,
        Code={"ZipFile": zip_of({"handler.py": "import missing_module\n"})},
        Publish=True,
    )["FunctionName"]
    lambda_client.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=1
    )
    deadline = time.monotonic() + 30
    while True:
        config = lambda_client.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
        if config["Status"] != "IN_PROGRESS" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert config["Status"] == "FAILED"
    assert config["StatusReason"] == "FUNCTION_ERROR_INIT_FAILURE"
    assert config["AllocatedProvisionedConcurrentExecutions"] == 0


def test_reserved_equal_to_provisioned_throttles_latest(lambda_client: Any) -> None:
    name = sleeper(lambda_client, Publish=True)
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lambda_client.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    lambda_client.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=1
    )
    deadline = time.monotonic() + 30
    while (
        lambda_client.get_provisioned_concurrency_config(FunctionName=name, Qualifier="live")[
            "Status"
        ]
        == "IN_PROGRESS"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert json.loads(
        lambda_client.invoke(FunctionName=name, Qualifier="live")["Payload"].read()
    ) == {"init": "provisioned-concurrency"}
    with pytest.raises(ClientError) as latest:
        lambda_client.invoke(FunctionName=name)
    assert latest.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
