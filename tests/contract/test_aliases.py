"""Aliases and tags through boto3 against a live server."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.contract.test_functions import error_of
from tests.support.functions import create


@pytest.fixture
def two_versions(lambda_client: Any) -> str:
    name: str = create(lambda_client, Environment={"Variables": {"testenv": "staging"}})[
        "FunctionName"
    ]
    lambda_client.publish_version(FunctionName=name)
    lambda_client.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"testenv": "prod"}}
    )
    lambda_client.get_waiter("function_updated_v2").wait(FunctionName=name)
    lambda_client.publish_version(FunctionName=name)
    return name


def test_alias_lifecycle(lambda_client: Any, two_versions: str) -> None:
    name = two_versions
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    created = lambda_client.create_alias(
        FunctionName=name,
        Name="live",
        FunctionVersion="1",
        Description="custom-alias",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.2}},
    )
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert created["AliasArn"] == f"{arn}:live"
    assert created["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.2}}
    got = lambda_client.get_alias(FunctionName=name, Name="live")
    assert got["RevisionId"] == created["RevisionId"]
    via_alias = lambda_client.get_function(FunctionName=name, Qualifier="live")["Configuration"]
    assert via_alias["Environment"] == {"Variables": {"testenv": "staging"}}
    assert via_alias["FunctionArn"] == f"{arn}:live" and via_alias["Version"] == "1"
    with pytest.raises(ClientError) as stale:
        lambda_client.update_alias(FunctionName=name, Name="live", RevisionId="nope")
    assert error_of(stale)[0::2] == ("PreconditionFailedException", 412)
    updated = lambda_client.update_alias(
        FunctionName=name, Name="live", FunctionVersion="2", RoutingConfig={}
    )
    assert updated["FunctionVersion"] == "2" and "RoutingConfig" not in updated
    assert updated["RevisionId"] != created["RevisionId"]
    lambda_client.create_alias(FunctionName=name, Name="other", FunctionVersion="1")
    names = [a["Name"] for a in lambda_client.list_aliases(FunctionName=name)["Aliases"]]
    assert names == ["live", "other"]
    only_v1 = lambda_client.list_aliases(FunctionName=name, FunctionVersion="1")["Aliases"]
    assert [a["Name"] for a in only_v1] == ["other"]
    with pytest.raises(ClientError) as in_use:
        lambda_client.delete_function(FunctionName=name, Qualifier="1")
    assert error_of(in_use)[0::2] == ("ResourceConflictException", 409)
    assert (
        lambda_client.delete_alias(FunctionName=name, Name="other")["ResponseMetadata"][
            "HTTPStatusCode"
        ]
        == 204
    )
    lambda_client.delete_alias(FunctionName=name, Name="never-existed")
    with pytest.raises(ClientError) as missing:
        lambda_client.get_alias(FunctionName=name, Name="other")
    assert error_of(missing) == (
        "ResourceNotFoundException",
        f"Cannot find alias arn: {arn}:other",
        404,
    )
    with pytest.raises(ClientError) as missing_update:
        lambda_client.update_alias(FunctionName=name, Name="other", Description="x")
    assert error_of(missing_update)[1] == f"Alias not found: {arn}:other"


def test_alias_routing_errors(lambda_client: Any, two_versions: str) -> None:
    name = two_versions
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    cases: list[tuple[dict[str, Any], str, str]] = [
        (
            {
                "FunctionVersion": "1",
                "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.5, "3": 0.1}},
            },
            "InvalidParameterValueException",
            "Number of items in AdditionalVersionWeights cannot be greater than 1",
        ),
        (
            {"FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"2": 2.0}}},
            "ValidationException",
            "1 validation error detected: Value '{2=2.0}' at"
            " 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value"
            " must satisfy constraint: [Member must have"
            " value less than or equal to 1.0, Member must have value greater than or equal to 0.0,"
            " Member must not be null]",
        ),
        (
            {"FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": {"1": 0.5}}},
            "InvalidParameterValueException",
            "Invalid function version 1. Function version 1 is already included in routing"
            " configuration.",
        ),
        ({"FunctionVersion": "10"}, "ResourceNotFoundException", f"Function not found: {arn}:10"),
        (
            {
                "FunctionVersion": "$LATEST",
                "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.5}},
            },
            "InvalidParameterValueException",
            "$LATEST is not supported for an alias pointing to more than 1 version",
        ),
    ]
    for params, code, message in cases:
        with pytest.raises(ClientError) as excinfo:
            lambda_client.create_alias(FunctionName=name, Name="custom", **params)
        assert error_of(excinfo)[:2] == (code, message), params
    with pytest.raises(ClientError) as numeric:
        lambda_client.create_alias(FunctionName=name, Name="2024", FunctionVersion="1")
    assert error_of(numeric)[:2] == (
        "ValidationException",
        "1 validation error detected: Value '2024' at 'name' failed to satisfy constraint:"
        " Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)",
    )
    lambda_client.create_alias(FunctionName=name, Name="custom", FunctionVersion="1")
    with pytest.raises(ClientError) as duplicate:
        lambda_client.create_alias(FunctionName=name, Name="custom", FunctionVersion="1")
    assert error_of(duplicate) == (
        "ResourceConflictException",
        f"Alias already exists: {arn}:custom",
        409,
    )


def test_tags(lambda_client: Any) -> None:
    name = create(lambda_client, Tags={"testtag": "x"})["FunctionName"]
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert lambda_client.list_tags(Resource=arn)["Tags"] == {"testtag": "x"}
    assert lambda_client.get_function(FunctionName=name)["Tags"] == {"testtag": "x"}
    assert (
        lambda_client.tag_resource(Resource=arn, Tags={"A": "a", "B": "b"})["ResponseMetadata"][
            "HTTPStatusCode"
        ]
        == 204
    )
    lambda_client.untag_resource(Resource=arn, TagKeys=["testtag", "missing"])
    assert lambda_client.list_tags(Resource=arn)["Tags"] == {"A": "a", "B": "b"}
    with pytest.raises(ClientError) as qualified:
        lambda_client.tag_resource(Resource=f"{arn}:1", Tags={"C": "c"})
    assert error_of(qualified)[:2] == (
        "InvalidParameterValueException",
        "Tags on function aliases and versions are not supported. Please specify a function ARN.",
    )
    with pytest.raises(ClientError) as too_many:
        lambda_client.tag_resource(Resource=arn, Tags={f"{i}_key": "v" for i in range(50)})
    assert error_of(too_many)[:2] == (
        "InvalidParameterValueException",
        "Number of tags exceeds resource tag limit.",
    )
    missing = f"arn:aws:lambda:us-east-1:000000000000:function:{name}-missing"
    with pytest.raises(ClientError) as not_found:
        lambda_client.list_tags(Resource=missing)
    assert error_of(not_found) == (
        "ResourceNotFoundException",
        f"Function not found: {missing}",
        404,
    )
