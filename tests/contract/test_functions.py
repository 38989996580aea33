"""The function lifecycle through boto3 against a live server."""

from __future__ import annotations

import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.functions import ROLE, create, hello_zip, unique, zip_of


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response: Any = excinfo.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def test_create_answers_pending_then_becomes_active(lambda_client: Any) -> None:
    name = unique()
    created = create(lambda_client, name, wait=False, Timeout=5, MemorySize=256)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["State"] == "Pending"
    assert created["StateReason"] == "The function is being created."
    assert created["StateReasonCode"] == "Creating"
    assert "LastUpdateStatus" not in created
    assert created["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert (created["Timeout"], created["MemorySize"]) == (5, 256)
    assert created["EphemeralStorage"] == {"Size": 512}
    assert created["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{name}"}
    assert "Environment" not in created
    lambda_client.get_waiter("function_active_v2").wait(FunctionName=name)
    got = lambda_client.get_function(FunctionName=name)
    config = got["Configuration"]
    assert config["State"] == "Active" and config["LastUpdateStatus"] == "Successful"
    assert config["RevisionId"] != created["RevisionId"]
    assert got["Code"]["RepositoryType"] == "S3"
    with urllib.request.urlopen(got["Code"]["Location"]) as response:
        assert response.read() == hello_zip()


def test_errors_for_missing_invalid_and_duplicate(lambda_client: Any) -> None:
    with pytest.raises(ClientError) as missing:
        lambda_client.get_function(FunctionName="does-not-exist")
    assert error_of(missing) == (
        "ResourceNotFoundException",
        "Function not found: arn:aws:lambda:us-east-1:000000000000:function:does-not-exist",
        404,
    )
    assert missing.value.response["Type"] == "User"
    with pytest.raises(ClientError) as invalid:
        lambda_client.get_function(FunctionName="my-function!")
    code, message, status = error_of(invalid)
    assert (code, status) == ("ValidationException", 400)
    assert message.startswith(
        "1 validation error detected: Value 'my-function!' at 'functionName' failed to satisfy"
        " constraint: Member must satisfy regular expression pattern: "
    )
    name = create(lambda_client)["FunctionName"]
    with pytest.raises(ClientError) as duplicate:
        create(lambda_client, name, wait=False)
    assert error_of(duplicate)[0::2] == ("ResourceConflictException", 409)


def test_create_validation_matches_aws(lambda_client: Any) -> None:
    cases: list[tuple[dict[str, Any], str, str]] = [
        (
            {"FunctionName": "a" * 65},
            "InvalidParameterValueException",
            f"1 validation error detected: Value '{'a' * 65}' at 'functionName' failed to satisfy"
            " constraint: Member must have length less than or equal to 64",
        ),
        (
            {"Code": {"ZipFile": b"not a zip"}},
            "InvalidParameterValueException",
            "Could not unzip uploaded file. Please check your file, then try to upload again.",
        ),
        (
            {"Runtime": "python3.7"},
            "InvalidParameterValueException",
            "The runtime parameter of python3.7 is no longer supported for creating or updating AWS"
            " Lambda functions. We recommend you use a supported runtime while creating or updating"
            " functions.",
        ),
        (
            {"Role": "r1"},
            "ValidationException",
            "1 validation error detected: Value 'r1' at 'role' failed to satisfy constraint: Member"
            " must satisfy regular expression pattern:"
            r" arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+",
        ),
        (
            {"Architectures": ["x86_64", "arm64"]},
            "ValidationException",
            "1 validation error detected: Value '[x86_64, arm64]' at 'architectures' failed to"
            " satisfy constraint: Member must have length less than or equal to 1",
        ),
        (
            {"Environment": {"Variables": {"AWS_REGION": "x"}}},
            "InvalidParameterValueException",
            "Lambda was unable to configure your environment variables because the environment"
            " variables you have provided contains reserved keys that are currently not supported"
            " for modification. Reserved keys used in this request: AWS_REGION",
        ),
    ]
    for overrides, code, message in cases:
        with pytest.raises(ClientError) as excinfo:
            create(lambda_client, wait=False, **overrides)
        assert error_of(excinfo)[:2] == (code, message), overrides


def test_runtime_errors(lambda_client: Any) -> None:
    with pytest.raises(ClientError) as upper:
        create(lambda_client, wait=False, Runtime="PYTHON3.9")
    code, message, _ = error_of(upper)
    assert code == "InvalidParameterValueException"
    assert message.startswith(
        "Value PYTHON3.9 at 'runtime' failed to satisfy constraint: Member must satisfy enum"
        " value set: [nodejs20.x, python3.14, provided.al2023,"
    )
    assert message.endswith("] or be a valid ARN")
    with pytest.raises(ClientError) as node:
        create(lambda_client, wait=False, Runtime="nodejs22.x")
    code, message, _ = error_of(node)
    assert code == "InvalidParameterValueException"
    assert "cannot run the nodejs22.x runtime" in message


def test_environment_size_limit(lambda_client: Any) -> None:
    variables = {"LARGE_VAR": "x" * 4100}
    with pytest.raises(ClientError) as excinfo:
        create(lambda_client, wait=False, Environment={"Variables": variables})
    code, message, _ = error_of(excinfo)
    assert code == "InvalidParameterValueException"
    assert message == (
        "Lambda was unable to configure your environment variables because the environment"
        " variables you have provided exceeded the 4KB limit. String measured:"
        f' {{"LARGE_VAR":"{"x" * 4100}"}}'
    )


def test_update_configuration_then_code(lambda_client: Any) -> None:
    name = create(lambda_client, Environment={"Variables": {}})["FunctionName"]
    updated = lambda_client.update_function_configuration(
        FunctionName=name,
        Description="changed",
        Timeout=10,
        MemorySize=512,
        Environment={"Variables": {"ENV_A": "a"}},
        Runtime="python3.11",
        LoggingConfig={"LogFormat": "JSON"},
    )
    assert updated["LastUpdateStatus"] == "InProgress"
    assert updated["LastUpdateStatusReason"] == "The function is being created."
    assert updated["LastUpdateStatusReasonCode"] == "Creating"
    assert updated["Environment"] == {"Variables": {"ENV_A": "a"}}
    assert updated["LoggingConfig"] == {
        "LogFormat": "JSON",
        "LogGroup": f"/aws/lambda/{name}",
        "ApplicationLogLevel": "INFO",
        "SystemLogLevel": "INFO",
    }
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name)
    config = lambda_client.get_function_configuration(FunctionName=name)
    assert config["LastUpdateStatus"] == "Successful"
    assert (config["Description"], config["Timeout"], config["Runtime"]) == (
        "changed",
        10,
        "python3.11",
    )
    with pytest.raises(ClientError) as stale:
        lambda_client.update_function_code(
            FunctionName=name, ZipFile=zip_of({"handler.py": "x=1"}), RevisionId="stale"
        )
    assert error_of(stale) == (
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the"
        " GetFunction/GetAlias API to retrieve the latest Revision Id",
        412,
    )
    new_code = zip_of({"handler.py": "def handler(e, c):\n    return 2\n"})
    code_update = lambda_client.update_function_code(FunctionName=name, ZipFile=new_code)
    assert code_update["CodeSha256"] != config["CodeSha256"]
    assert code_update["CodeSize"] == len(new_code)
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name)
    dry = lambda_client.update_function_code(FunctionName=name, ZipFile=hello_zip(), DryRun=True)
    assert dry["CodeSha256"] != code_update["CodeSha256"]


def test_versions(lambda_client: Any) -> None:
    name = create(lambda_client, Description="No version :(")["FunctionName"]
    with pytest.raises(ClientError) as wrong_sha:
        lambda_client.publish_version(FunctionName=name, CodeSha256="somenonexistentsha256")
    sha = lambda_client.get_function(FunctionName=name)["Configuration"]["CodeSha256"]
    assert error_of(wrong_sha) == (
        "InvalidParameterValueException",
        f"CodeSHA256 (somenonexistentsha256) is different from current CodeSHA256 in $LATEST"
        f" ({sha}). Please try again with the CodeSHA256 in $LATEST.",
        400,
    )
    first = lambda_client.publish_version(FunctionName=name, Description="v1")
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert first["Version"] == "1" and first["FunctionArn"].endswith(f":{name}:1")
    assert first["State"] == "Active" and first["Description"] == "v1"
    again = lambda_client.publish_version(FunctionName=name, Description="v1")
    assert again["Version"] == "1"
    lambda_client.update_function_configuration(FunctionName=name, Description="second")
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name)
    second = lambda_client.publish_version(FunctionName=name)
    assert second["Version"] == "2"
    lambda_client.get_waiter("published_version_active").wait(FunctionName=name, Qualifier="2")
    versions = lambda_client.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
    assert versions[0]["FunctionArn"].endswith(":$LATEST")
    assert "State" not in versions[0]
    v1 = lambda_client.get_function(FunctionName=name, Qualifier="1")["Configuration"]
    assert v1["Description"] == "v1" and v1["FunctionArn"].endswith(":1")
    with pytest.raises(ClientError) as latest:
        lambda_client.delete_function(FunctionName=name, Qualifier="$LATEST")
    assert error_of(latest)[1] == "$LATEST version cannot be deleted without deleting the function."
    lambda_client.delete_function(FunctionName=name, Qualifier="1")
    versions = lambda_client.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "2"]
    with pytest.raises(ClientError) as gone:
        lambda_client.get_function(FunctionName=name, Qualifier="1")
    assert error_of(gone)[1] == (
        f"Function not found: arn:aws:lambda:us-east-1:000000000000:function:{name}:1"
    )


def test_publish_on_create_and_qualified_names(lambda_client: Any) -> None:
    name = unique()
    created = create(lambda_client, name, Publish=True)
    assert created["Version"] == "1"
    lambda_client.get_waiter("published_version_active").wait(FunctionName=name, Qualifier="1")
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    by_arn = lambda_client.get_function_configuration(FunctionName=f"{arn}:1")
    assert by_arn["Version"] == "1" and by_arn["State"] == "Active"
    with pytest.raises(ClientError) as mismatch:
        lambda_client.get_function(FunctionName=f"{arn}:1", Qualifier="$LATEST")
    assert error_of(mismatch)[:2] == (
        "InvalidParameterValueException",
        "The derived qualifier from the function name does not match the specified qualifier.",
    )
    with pytest.raises(ClientError) as region:
        lambda_client.get_function(
            FunctionName=f"arn:aws:lambda:ap-southeast-1:000000000000:function:{name}"
        )
    assert error_of(region) == (
        "ResourceNotFoundException",
        "Functions from 'ap-southeast-1' are not reachable in this region ('us-east-1')",
        404,
    )
    with pytest.raises(ClientError) as account:
        lambda_client.get_function(
            FunctionName=f"arn:aws:lambda:us-east-1:111111111111:function:{name}"
        )
    assert error_of(account)[0::2] == ("AccessDeniedException", 403)


def test_list_functions_paginates(lambda_client: Any) -> None:
    names = {create(lambda_client, Publish=True)["FunctionName"] for _ in range(3)}
    seen: list[str] = []
    marker = None
    while True:
        kwargs: dict[str, Any] = {"MaxItems": 1}
        if marker:
            kwargs["Marker"] = marker
        page = lambda_client.list_functions(**kwargs)
        assert len(page["Functions"]) <= 1
        seen += [f["FunctionName"] for f in page["Functions"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert names <= set(seen) and len(seen) == len(set(seen))
    every = lambda_client.list_functions(FunctionVersion="ALL", MaxItems=10000)["Functions"]
    arns = {f["FunctionArn"] for f in every}
    for name in names:
        assert f"arn:aws:lambda:us-east-1:000000000000:function:{name}:$LATEST" in arns
        assert f"arn:aws:lambda:us-east-1:000000000000:function:{name}:1" in arns
    with pytest.raises(ClientError) as invalid:
        lambda_client.list_functions(FunctionVersion="invalid")
    assert error_of(invalid)[:2] == (
        "ValidationException",
        "1 validation error detected: Value 'invalid' at 'functionVersion' failed to satisfy"
        " constraint: Member must satisfy enum value set: [ALL]",
    )


def test_delete_function_removes_everything(lambda_client: Any) -> None:
    name = create(lambda_client, Publish=True)["FunctionName"]
    lambda_client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    response = lambda_client.delete_function(FunctionName=name)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as gone:
        lambda_client.get_function(FunctionName=name)
    assert error_of(gone)[0] == "ResourceNotFoundException"
    create(lambda_client, name)  # the name is free again, with no leftover versions
    versions = lambda_client.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST"]
    assert lambda_client.list_aliases(FunctionName=name)["Aliases"] == []


def test_account_settings(lambda_client: Any) -> None:
    settings = lambda_client.get_account_settings()
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000
    assert settings["AccountLimit"]["CodeSizeZipped"] == 52428800
    before = settings["AccountUsage"]["FunctionCount"]
    create(lambda_client)
    after = lambda_client.get_account_settings()["AccountUsage"]
    assert after["FunctionCount"] == before + 1
    assert after["TotalCodeSize"] >= len(hello_zip())


def test_accounts_are_separate_namespaces(server: Any) -> None:
    mine = server.client(access_key="123456789012")
    name = create(mine)["FunctionName"]
    config = mine.get_function_configuration(FunctionName=name)
    assert config["FunctionArn"] == f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    with pytest.raises(ClientError):
        server.client().get_function(FunctionName=name)
    other_region = server.client(access_key="123456789012", region="eu-west-1")
    with pytest.raises(ClientError):
        other_region.get_function(FunctionName=name)
    assert ROLE


def test_update_code_with_publish_creates_a_version(lambda_client: Any) -> None:
    name = create(lambda_client)["FunctionName"]
    code = zip_of({"handler.py": "def handler(e, c):\n    return 'v1'\n"})
    published = lambda_client.update_function_code(FunctionName=name, ZipFile=code, Publish=True)
    assert published["Version"] == "1"
    assert published["FunctionArn"].endswith(f":{name}:1")
    assert lambda_client.get_function(FunctionName=name, Qualifier="1")["Configuration"][
        "CodeSize"
    ] == len(code)
