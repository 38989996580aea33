"""The rest-json codec against the real Lambda model, botocore itself and AWS recordings.

Expected validation messages marked "recorded" are copied from real-AWS responses
(LocalStack's AWS-validated snapshot ``test_lambda_api.snapshot.json``); where the server's
pattern differs from botocore's model (the server adds ``(eusc-)?``), the model's is printed.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from typing import Any
from urllib.parse import urlsplit

import botocore.session
import pytest
from botocore.awsrequest import HeadersDict, create_request_object, prepare_request_dict
from botocore.model import ServiceModel
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from lamina.errors import (
    InvalidRequestContentException,
    SerializationException,
    ValidationException,
)
from lamina.gateway.restjson import RestJsonProtocol
from lamina.gateway.validation import java_double, java_hash_set_order, java_string

MODEL = botocore.session.get_session().get_service_model("lambda")
PROTOCOL = RestJsonProtocol(MODEL)
ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-function"
ROLE = "arn:aws:iam::123456789012:role/lambda-role"
NAMESPACED_PATTERN = MODEL.shape_for("NamespacedFunctionName").metadata["pattern"]
QUALIFIER_PATTERN = r"\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"


def op(name: str) -> Any:
    return MODEL.operation_model(name)


def botocore_request(
    name: str, params: dict[str, Any]
) -> tuple[str, str, str, dict[str, str], bytes]:
    """The request botocore itself would send for ``params``."""
    serialized = create_serializer("rest-json", include_validation=False).serialize_to_request(
        params, op(name)
    )
    prepare_request_dict(serialized, endpoint_url="https://lambda.us-east-1.amazonaws.com")
    prepared = create_request_object(serialized).prepare()
    url = urlsplit(prepared.url)
    headers = {
        k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in prepared.headers.items()
    }
    body = prepared.body or b""
    return (
        prepared.method,
        url.path,
        url.query,
        headers,
        body.encode() if isinstance(body, str) else body,
    )


def parse_like_server(name: str, params: dict[str, Any]) -> dict[str, Any]:
    method, path, query, headers, body = botocore_request(name, params)
    matched = PROTOCOL.match(method, path, query)
    assert matched is not None, (method, path, query)
    operation, labels = matched
    assert operation.name == name
    return PROTOCOL.parse_request(operation, labels, query, headers, body)


def parse(
    name: str,
    labels: dict[str, str] | None = None,
    query: str = "",
    body: Any = b"",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return PROTOCOL.parse_request(op(name), labels or {}, query, headers or {}, raw)


def validation_message(call: Any) -> str:
    with pytest.raises(ValidationException) as caught:
        call()
    return str(caught.value.message)


# --- routing ---------------------------------------------------------------------------------


def concrete_request(operation: Any) -> tuple[str, str, dict[str, str]]:
    """A path (+ fixed query) for an operation, built from its own requestUri."""
    path, _, query = operation.http["requestUri"].partition("?")
    labels: dict[str, str] = {}

    def fill(found: re.Match[str]) -> str:
        label = found.group(1)
        labels[label] = f"{label.lower()}-value"
        return labels[label]

    return re.sub(r"\{([^}+]+)\+?\}", fill, path), query, labels


@pytest.mark.parametrize("name", MODEL.operation_names)
def test_every_operation_matches_its_own_template(name: str) -> None:
    operation = op(name)
    path, query, labels = concrete_request(operation)
    matched = PROTOCOL.match(operation.http["method"], path, query)
    assert matched is not None
    assert matched[0].name == name
    assert matched[1] == labels


def test_route_table_covers_the_model() -> None:
    assert sorted(o.name for o in PROTOCOL.operations()) == sorted(MODEL.operation_names)


def test_tag_resource_takes_an_arn_raw_or_percent_encoded() -> None:
    for raw in (ARN, ARN.replace(":", "%3A")):
        matched = PROTOCOL.match("POST", f"/2017-03-31/tags/{raw}")
        assert matched is not None
        assert (matched[0].name, matched[1]) == ("TagResource", {"Resource": ARN})
    untag = PROTOCOL.match("DELETE", f"/2017-03-31/tags/{ARN}", "tagKeys=a")
    assert untag is not None and untag[0].name == "UntagResource"


def test_labels_are_percent_decoded() -> None:
    matched = PROTOCOL.match("GET", "/2015-03-31/functions/my-fn%3A%24LATEST/configuration")
    assert matched is not None
    assert matched[1] == {"FunctionName": "my-fn:$LATEST"}
    # An encoded slash is data inside a plain label, not a separator.
    slashed = PROTOCOL.match("GET", "/2015-03-31/functions/a%2Fb")
    assert slashed is not None and slashed[0].name == "GetFunction"
    assert slashed[1] == {"FunctionName": "a/b"}


def test_fixed_query_picks_the_list_operation() -> None:
    base = "/2019-09-30/functions/f/provisioned-concurrency"
    listed = PROTOCOL.match("GET", base, "List=ALL&MaxItems=5")
    single = PROTOCOL.match("GET", base, "Qualifier=1")
    other_value = PROTOCOL.match("GET", base, "List=SOME")
    assert listed is not None and listed[0].name == "ListProvisionedConcurrencyConfigs"
    assert single is not None and single[0].name == "GetProvisionedConcurrencyConfig"
    assert other_value is not None and other_value[0].name == "GetProvisionedConcurrencyConfig"
    by_arn = PROTOCOL.match("GET", "/2018-10-31/layers", "find=LayerVersion&Arn=x")
    listing = PROTOCOL.match("GET", "/2018-10-31/layers", "")
    assert by_arn is not None and by_arn[0].name == "GetLayerVersionByArn"
    assert listing is not None and listing[0].name == "ListLayers"


def test_literal_segments_and_method_select_the_operation() -> None:
    cases = {
        ("GET", "/2015-03-31/functions/f/policy"): "GetPolicy",
        ("POST", "/2015-03-31/functions/f/policy"): "AddPermission",
        ("DELETE", "/2015-03-31/functions/f/policy/sid"): "RemovePermission",
        (
            "GET",
            "/2019-09-25/functions/f/event-invoke-config/list",
        ): "ListFunctionEventInvokeConfigs",
        ("GET", "/2015-03-31/functions"): "ListFunctions",
        ("GET", "/2015-03-31/functions/"): "ListFunctions",
        ("POST", "/2015-03-31/functions/f/invocations"): "Invoke",
    }
    for (method, path), expected in cases.items():
        matched = PROTOCOL.match(method, path)
        assert matched is not None and matched[0].name == expected, (method, path)


def test_unknown_paths_and_methods_do_not_match() -> None:
    assert PROTOCOL.match("GET", "/2015-03-31/nothing") is None
    assert PROTOCOL.match("PATCH", "/2015-03-31/functions/f") is None
    assert PROTOCOL.match("GET", "/2015-03-31/functions//configuration") is None


SYNTHETIC = ServiceModel(
    {
        "metadata": {"protocol": "rest-json", "apiVersion": "2020-01-01", "endpointPrefix": "x"},
        "operations": {
            "GetObject": {
                "name": "GetObject",
                "http": {"method": "GET", "requestUri": "/{Bucket}/{Key+}"},
                "input": {"shape": "ObjectInput"},
            },
            "GetSpecial": {
                "name": "GetSpecial",
                "http": {"method": "GET", "requestUri": "/things/special"},
            },
            "GetThing": {
                "name": "GetThing",
                "http": {"method": "GET", "requestUri": "/things/{Id}"},
                "input": {"shape": "ThingInput"},
                "output": {"shape": "ThingOutput"},
            },
        },
        "shapes": {
            "ObjectInput": {
                "type": "structure",
                "members": {
                    "Bucket": {"shape": "S", "location": "uri", "locationName": "Bucket"},
                    "Key": {"shape": "S", "location": "uri", "locationName": "Key"},
                    "Meta": {"shape": "M", "location": "headers", "locationName": "x-meta-"},
                },
            },
            "ThingInput": {
                "type": "structure",
                "members": {"Id": {"shape": "S", "location": "uri", "locationName": "Id"}},
            },
            "ThingOutput": {
                "type": "structure",
                "members": {
                    "When": {"shape": "T"},
                    "Iso": {"shape": "TIso"},
                    "Data": {"shape": "B"},
                    "Since": {"shape": "T", "location": "header", "locationName": "X-Since"},
                    "Meta": {"shape": "M", "location": "headers", "locationName": "x-meta-"},
                },
            },
            "S": {"type": "string"},
            "B": {"type": "blob"},
            "T": {"type": "timestamp"},
            "TIso": {"type": "timestamp", "timestampFormat": "iso8601"},
            "M": {"type": "map", "key": {"shape": "S"}, "value": {"shape": "S"}},
        },
    },
    service_name="synthetic",
)


def test_greedy_labels_span_segments_and_literals_beat_labels() -> None:
    protocol = RestJsonProtocol(SYNTHETIC)
    greedy = protocol.match("GET", "/bucket/a/b%20c/d.txt")
    assert greedy is not None
    assert (greedy[0].name, greedy[1]) == ("GetObject", {"Bucket": "bucket", "Key": "a/b c/d.txt"})
    special = protocol.match("GET", "/things/special")
    thing = protocol.match("GET", "/things/other")
    assert special is not None and special[0].name == "GetSpecial"
    assert thing is not None and thing[0].name == "GetThing"


def test_header_maps_and_timestamps_in_synthetic_model() -> None:
    protocol = RestJsonProtocol(SYNTHETIC)
    operation = SYNTHETIC.operation_model("GetObject")
    params = protocol.parse_request(
        operation, {"Bucket": "b", "Key": "k"}, "", {"x-meta-color": "red", "other": "x"}, b""
    )
    assert params == {"Bucket": "b", "Key": "k", "Meta": {"color": "red"}}
    when = dt.datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=dt.UTC)
    status, headers, body = protocol.serialize_response(
        SYNTHETIC.operation_model("GetThing"),
        {"When": when, "Iso": when, "Data": b"\x00\x01", "Since": when, "Meta": {"a": "1"}},
    )
    assert status == 200
    assert ("X-Since", "Wed, 01 May 2024 12:00:00 GMT") in headers
    assert ("x-meta-a", "1") in headers
    assert json.loads(body) == {
        "When": 1714564800.5,
        "Iso": "2024-05-01T12:00:00.500Z",
        "Data": "AAE=",
    }


# --- parsing and type conversion -------------------------------------------------------------


def test_invoke_keeps_the_raw_payload_and_reads_headers_and_query() -> None:
    payload = b'{"key": "value"}'
    params = parse(
        "Invoke",
        {"FunctionName": "my-function"},
        "Qualifier=%24LATEST",
        payload,
        {"x-amz-invocation-type": "Event", "x-amz-log-type": "Tail", "x-amzn-trace-id": "Root=1"},
    )
    assert params == {
        "FunctionName": "my-function",
        "Qualifier": "$LATEST",
        "InvocationType": "Event",
        "LogType": "Tail",
        "Payload": payload,
    }
    assert params["Payload"] is payload


def test_query_values_are_typed_and_repeated_keys_make_lists() -> None:
    assert parse("ListFunctions", query="MaxItems=5&FunctionVersion=ALL&Marker=m") == {
        "MaxItems": 5,
        "FunctionVersion": "ALL",
        "Marker": "m",
    }
    assert parse("UntagResource", {"Resource": ARN}, "tagKeys=a&tagKeys=b") == {
        "Resource": ARN,
        "TagKeys": ["a", "b"],
    }
    history = parse(
        "GetDurableExecutionHistory",
        {"DurableExecutionArn": ARN + ":1/durable-execution/x/y"},
        "IncludeExecutionData=true&ReverseOrder=false&MaxItems=3",
    )
    assert (history["IncludeExecutionData"], history["ReverseOrder"], history["MaxItems"]) == (
        True,
        False,
        3,
    )
    listed = parse(
        "ListDurableExecutionsByFunction",
        {"FunctionName": "f"},
        "StartedAfter=2024-01-01T00%3A00%3A00Z",
    )
    assert listed["StartedAfter"] == "2024-01-01T00:00:00Z"


def test_bad_query_number_is_a_serialization_error() -> None:
    with pytest.raises(SerializationException):
        parse("ListFunctions", query="MaxItems=lots")


def test_json_body_members_are_typed_and_blobs_decoded() -> None:
    params = parse(
        "CreateFunction",
        body={
            "FunctionName": "f",
            "Role": ROLE,
            "Runtime": "python3.12",
            "Handler": "h.h",
            "Code": {"ZipFile": base64.b64encode(b"PK\x03\x04").decode()},
            "MemorySize": "256",
            "Timeout": 3.0,
            "Publish": "true",
            "Environment": {"Variables": {"AB": "1"}},
            "Unknown": {"ignored": True},
            "Description": None,
        },
    )
    assert params == {
        "FunctionName": "f",
        "Role": ROLE,
        "Runtime": "python3.12",
        "Handler": "h.h",
        "Code": {"ZipFile": b"PK\x03\x04"},
        "MemorySize": 256,
        "Timeout": 3,
        "Publish": True,
        "Environment": {"Variables": {"AB": "1"}},
    }


def test_weights_become_floats() -> None:
    params = parse(
        "UpdateAlias",
        {"FunctionName": "f", "Name": "live"},
        body={"RoutingConfig": {"AdditionalVersionWeights": {"2": 1}}},
    )
    weight = params["RoutingConfig"]["AdditionalVersionWeights"]["2"]
    assert weight == 1.0 and isinstance(weight, float)


def test_empty_body_is_an_empty_object() -> None:
    assert parse("PublishVersion", {"FunctionName": "f"}, body=b"") == {"FunctionName": "f"}


def test_bad_json_is_invalid_request_content() -> None:
    prefix = "Could not parse request body into json: Could not parse payload into json: "
    for raw in (b"{not json", b"\x87\x00", b"[1, 2]"):
        with pytest.raises(InvalidRequestContentException) as caught:
            parse("PublishVersion", {"FunctionName": "f"}, body=raw)
        assert str(caught.value.message).startswith(prefix)
    with pytest.raises(InvalidRequestContentException) as caught:
        parse("PublishVersion", {"FunctionName": "f"}, body=b"\x99")
    assert "Invalid UTF-8 start byte 0x99" in str(caught.value.message)


def test_wrong_json_types_are_invalid_request_content() -> None:
    for body in ({"Description": {"a": 1}}, {"RevisionId": ["x"]}):
        with pytest.raises(InvalidRequestContentException, match="Cannot deserialize"):
            parse("PublishVersion", {"FunctionName": "f"}, body=body)
    with pytest.raises(InvalidRequestContentException, match=r"java\.lang\.Integer"):
        parse(
            "PutFunctionConcurrency",
            {"FunctionName": "f"},
            body={"ReservedConcurrentExecutions": "x"},
        )


# --- validation messages ---------------------------------------------------------------------


def test_recorded_qualifier_pattern_message() -> None:
    message = validation_message(
        lambda: parse("GetFunction", {"FunctionName": "my-function"}, "Qualifier=invalid!")
    )
    assert message == (  # recorded
        "1 validation error detected: Value 'invalid!' at 'qualifier' failed to satisfy "
        f"constraint: Member must satisfy regular expression pattern: {QUALIFIER_PATTERN}"
    )


def test_recorded_qualifier_length_message() -> None:
    long = "a" * 129
    message = validation_message(
        lambda: parse("Invoke", {"FunctionName": "f"}, f"Qualifier={long}")
    )
    assert message == (  # recorded
        f"1 validation error detected: Value '{long}' at 'qualifier' failed to satisfy constraint: "
        "Member must have length less than or equal to 128"
    )


def test_recorded_two_errors_query_before_label() -> None:
    name = "arn:aws:lambda:invalid-region:111111111111:function:my-function-" + "a" * 170
    long = "a" * 129
    for operation in ("GetFunction", "Invoke", "DeleteFunction"):
        message = validation_message(
            lambda operation=operation: parse(
                operation, {"FunctionName": name}, f"Qualifier={long}"
            )
        )
        assert message == (  # recorded (server pattern differs only by "(eusc-)?")
            f"2 validation errors detected: Value '{long}' at 'qualifier' failed to satisfy "
            "constraint: Member must have length less than or equal to 128; "
            f"Value '{name}' at 'functionName' failed to satisfy constraint: "
            f"Member must satisfy regular expression pattern: {NAMESPACED_PATTERN}"
        )


def test_recorded_length_and_pattern_on_one_member() -> None:
    name = "arn:aws:lambda:invalid-region:111111111111:function:my-function" + "a" * 170
    message = validation_message(
        lambda: parse("CreateFunction", body={"FunctionName": name, "Role": ROLE, "Code": {}})
    )
    pattern = MODEL.shape_for("FunctionName").metadata["pattern"]
    assert message == (
        f"2 validation errors detected: Value '{name}' at 'functionName' failed to satisfy "
        "constraint: Member must have length less than or equal to 140; "
        f"Value '{name}' at 'functionName' failed to satisfy constraint: "
        f"Member must satisfy regular expression pattern: {pattern}"
    )


def test_recorded_enum_and_minimum_messages() -> None:
    assert validation_message(
        lambda: parse(
            "PutFunctionRecursionConfig",
            {"FunctionName": "f"},
            body={"RecursiveLoop": "InvalidValue"},
        )
    ) == (  # recorded
        "1 validation error detected: Value 'InvalidValue' at 'recursiveLoop' failed to satisfy "
        "constraint: Member must satisfy enum value set: [Terminate, Allow]"
    )
    assert validation_message(
        lambda: parse(
            "PutProvisionedConcurrencyConfig",
            {"FunctionName": "f"},
            "Qualifier=1",
            body={"ProvisionedConcurrentExecutions": 0},
        )
    ) == (  # recorded
        "1 validation error detected: Value '0' at 'provisionedConcurrentExecutions' failed to "
        "satisfy constraint: Member must have value greater than or equal to 1"
    )


def test_recorded_required_and_pattern_messages() -> None:
    assert validation_message(lambda: parse("UntagResource", {"Resource": ARN})) == (  # recorded
        "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: "
        "Member must not be null"
    )
    assert validation_message(
        lambda: parse(
            "AddPermission",
            {"FunctionName": "f"},
            body={
                "StatementId": "example.com",
                "Action": "lambda:InvokeFunction",
                "Principal": "*",
            },
        )
    ) == (  # recorded
        "1 validation error detected: Value 'example.com' at 'statementId' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)"
    )
    assert validation_message(
        lambda: parse(
            "CreateAlias", {"FunctionName": "f"}, body={"Name": "2024", "FunctionVersion": "1"}
        )
    ) == (  # recorded
        "1 validation error detected: Value '2024' at 'name' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)"
    )


def test_create_function_required_members_in_model_order() -> None:
    message = validation_message(lambda: parse("CreateFunction", body={}))
    assert message == (
        "3 validation errors detected: "
        "Value null at 'functionName' failed to satisfy constraint: Member must not be null; "
        "Value null at 'role' failed to satisfy constraint: Member must not be null; "
        "Value null at 'code' failed to satisfy constraint: Member must not be null"
    )


def create(**extra: Any) -> dict[str, Any]:
    return parse("CreateFunction", body={"FunctionName": "f", "Role": ROLE, "Code": {}, **extra})


def test_recorded_list_messages() -> None:
    assert validation_message(lambda: create(Architectures=["x86_64", "arm64"])) == (  # recorded
        "1 validation error detected: Value '[x86_64, arm64]' at 'architectures' failed to "
        "satisfy constraint: Member must have length less than or equal to 1"
    )
    assert validation_message(lambda: create(Architectures=["X86_64"])) == (  # recorded
        "1 validation error detected: Value '[X86_64]' at 'architectures' failed to satisfy "
        "constraint: Member must satisfy constraint: [Member must satisfy enum value set: "
        "[x86_64, arm64], Member must not be null]"
    )


def test_nested_paths_and_list_of_structures() -> None:
    message = validation_message(
        lambda: create(
            Environment={"Variables": {"1bad": "x"}},
            FileSystemConfigs=[{"Arn": "nope", "LocalMountPath": "/mnt/x"}],
        )
    )
    assert (
        "at 'environment.variables' failed to satisfy constraint: Map keys must satisfy" in message
    )
    assert "Value 'nope' at 'fileSystemConfigs.1.member.arn'" in message
    assert message.startswith("2 validation errors detected: ")


def test_recorded_map_messages() -> None:
    def alias(weights: dict[str, float]) -> Any:
        return lambda: parse(
            "UpdateAlias",
            {"FunctionName": "f", "Name": "live"},
            body={"RoutingConfig": {"AdditionalVersionWeights": weights}},
        )

    assert validation_message(alias({"2": 2})) == (  # recorded
        "1 validation error detected: Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' "
        "failed to satisfy constraint: Map value must satisfy constraint: [Member must have value "
        "less than or equal to 1.0, Member must have value greater than or equal to 0.0, "
        "Member must not be null]"
    )
    assert validation_message(alias({"$LATEST": 0.5})) == (  # recorded
        "1 validation error detected: Value '{$LATEST=0.5}' at "
        "'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must "
        "satisfy constraint: [Member must have length less than or equal to 1024, "
        "Member must have length greater than or equal to 1, "
        "Member must satisfy regular expression pattern: [0-9]+]"
    )


def test_valid_requests_pass() -> None:
    assert (
        parse("GetFunction", {"FunctionName": ARN + ":live"}, "Qualifier=live")["Qualifier"]
        == "live"
    )
    assert create(Architectures=["arm64"], MemorySize=128)["MemorySize"] == 128


# --- serialization ---------------------------------------------------------------------------

CONFIGURATION = {
    "FunctionName": "f",
    "FunctionArn": ARN,
    "Runtime": "python3.12",
    "Role": ROLE,
    "Handler": "h.h",
    "CodeSize": 123,
    "Description": "",
    "Timeout": 3,
    "MemorySize": 128,
    "LastModified": "2024-01-01T00:00:00.000+0000",
    "CodeSha256": "abc=",
    "Version": "$LATEST",
    "Environment": {"Variables": {"AB": "1"}},
    "TracingConfig": {"Mode": "PassThrough"},
    "RevisionId": "r",
    "State": "Pending",
    "StateReason": None,
    "Architectures": ["x86_64"],
    "EphemeralStorage": {"Size": 512},
    "LoggingConfig": {"LogFormat": "Text", "LogGroup": "/aws/lambda/f"},
}


def botocore_parse(
    name: str, status: int, headers: list[tuple[str, str]], body: bytes
) -> dict[str, Any]:
    shape = op(name).output_shape
    parsed = create_parser("rest-json").parse(
        {"status_code": status, "headers": HeadersDict(headers), "body": body}, shape
    )
    parsed.pop("ResponseMetadata", None)
    return dict(parsed)


def test_create_function_output() -> None:
    status, headers, body = PROTOCOL.serialize_response(op("CreateFunction"), CONFIGURATION)
    assert status == 201
    assert ("Content-Type", "application/json") in headers
    document = json.loads(body)
    assert "StateReason" not in document and document["Timeout"] == 3
    expected = {k: v for k, v in CONFIGURATION.items() if v is not None}
    assert botocore_parse("CreateFunction", status, headers, body) == expected


def test_invoke_output() -> None:
    output = {
        "StatusCode": 200,
        "FunctionError": "Unhandled",
        "LogResult": "U1RBUlQ=",
        "ExecutedVersion": "$LATEST",
        "Payload": b'{"errorMessage":"boom"}',
    }
    status, headers, body = PROTOCOL.serialize_response(op("Invoke"), output)
    assert status == 200
    assert body == b'{"errorMessage":"boom"}'
    assert sorted(headers) == [
        ("X-Amz-Executed-Version", "$LATEST"),
        ("X-Amz-Function-Error", "Unhandled"),
        ("X-Amz-Log-Result", "U1RBUlQ="),
    ]
    # botocore hands a non-streaming blob payload back as text
    assert botocore_parse("Invoke", status, headers, body) == {
        **output,
        "Payload": '{"errorMessage":"boom"}',
    }
    accepted = PROTOCOL.serialize_response(op("Invoke"), {"StatusCode": 202})
    assert accepted == (202, [], b"")


def test_status_defaults_to_model_and_empty_outputs_have_no_body() -> None:
    assert PROTOCOL.serialize_response(op("DeleteFunction"), {}) == (200, [], b"")
    assert PROTOCOL.serialize_response(op("DeleteFunction"), {"StatusCode": 204}) == (204, [], b"")
    assert PROTOCOL.serialize_response(op("TagResource"), {}) == (204, [], b"")
    assert PROTOCOL.serialize_response(op("GetFunctionConcurrency"), {})[2] == b"{}"


@pytest.mark.parametrize(
    ("name", "output"),
    [
        (
            "GetFunction",
            {
                "Configuration": CONFIGURATION,
                "Code": {"RepositoryType": "S3", "Location": "u"},
                "Tags": {"k": "v"},
                "Concurrency": {"ReservedConcurrentExecutions": 5},
            },
        ),
        (
            "GetAccountSettings",
            {
                "AccountLimit": {"TotalCodeSize": 80530636800, "ConcurrentExecutions": 1000},
                "AccountUsage": {"TotalCodeSize": 0, "FunctionCount": 0},
            },
        ),
        (
            "GetAlias",
            {
                "AliasArn": ARN + ":live",
                "Name": "live",
                "FunctionVersion": "1",
                "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.25}},
            },
        ),
        ("ListFunctions", {"Functions": [CONFIGURATION, CONFIGURATION], "NextMarker": "m"}),
        (
            "GetFunctionEventInvokeConfig",
            {
                "FunctionArn": ARN,
                "MaximumRetryAttempts": 0,
                "LastModified": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
                "DestinationConfig": {
                    "OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:q"}
                },
            },
        ),
    ],
)
def test_outputs_round_trip_through_botocore(name: str, output: dict[str, Any]) -> None:
    parsed = botocore_parse(name, *PROTOCOL.serialize_response(op(name), output))

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if v is not None}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    assert parsed == strip(output)


# --- requests built by botocore itself -------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "params"),
    [
        (
            "CreateFunction",
            {
                "FunctionName": "f",
                "Role": ROLE,
                "Runtime": "python3.12",
                "Handler": "h.h",
                "Code": {"ZipFile": b"PK\x03\x04zip"},
                "Timeout": 30,
                "Publish": True,
                "Environment": {"Variables": {"AB": "1"}},
                "Architectures": ["arm64"],
                "Layers": ["arn:aws:lambda:us-east-1:123456789012:layer:l:1"],
            },
        ),
        (
            "Invoke",
            {
                "FunctionName": ARN,
                "InvocationType": "RequestResponse",
                "LogType": "Tail",
                "ClientContext": "e30=",
                "Payload": b'{"a": 1}',
                "Qualifier": "7",
            },
        ),
        ("Invoke", {"FunctionName": "my-function:live"}),
        ("ListFunctions", {"MaxItems": 10, "Marker": "a b+c", "FunctionVersion": "ALL"}),
        ("UntagResource", {"Resource": ARN, "TagKeys": ["a", "b c"]}),
        ("TagResource", {"Resource": ARN, "Tags": {"k": "v"}}),
        (
            "UpdateAlias",
            {
                "FunctionName": "f",
                "Name": "live",
                "FunctionVersion": "2",
                "RoutingConfig": {"AdditionalVersionWeights": {"3": 0.5}},
            },
        ),
        (
            "PutProvisionedConcurrencyConfig",
            {"FunctionName": "f", "Qualifier": "live", "ProvisionedConcurrentExecutions": 2},
        ),
        ("ListProvisionedConcurrencyConfigs", {"FunctionName": "f", "MaxItems": 3}),
        ("GetLayerVersionByArn", {"Arn": "arn:aws:lambda:us-east-1:123456789012:layer:l:1"}),
        ("GetLayerVersion", {"LayerName": "l", "VersionNumber": 4}),
        (
            "AddPermission",
            {
                "FunctionName": "f",
                "StatementId": "s1",
                "Action": "lambda:InvokeFunction",
                "Principal": "sns.amazonaws.com",
                "SourceArn": "arn:aws:sns:us-east-1:123456789012:t",
            },
        ),
        (
            "PutFunctionEventInvokeConfig",
            {
                "FunctionName": "f",
                "MaximumRetryAttempts": 1,
                "MaximumEventAgeInSeconds": 60,
                "DestinationConfig": {
                    "OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:q"}
                },
            },
        ),
        (
            "CreateEventSourceMapping",
            {
                "FunctionName": "f",
                "EventSourceArn": "arn:aws:sqs:us-east-1:123456789012:q",
                "BatchSize": 10,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
            },
        ),
    ],
)
def test_botocore_requests_parse_back_to_their_params(name: str, params: dict[str, Any]) -> None:
    assert parse_like_server(name, params) == params


def test_invoke_async_stream_payload() -> None:
    parsed = parse_like_server("InvokeAsync", {"FunctionName": "f", "InvokeArgs": b'{"x": 1}'})
    assert parsed == {"FunctionName": "f", "InvokeArgs": b'{"x": 1}'}


def test_recorded_nested_enum_message() -> None:
    assert validation_message(
        lambda: create(SnapStart={"ApplyOn": "invalidOption"})
    ) == (  # recorded
        "1 validation error detected: Value 'invalidOption' at 'snapStart.applyOn' failed to "
        "satisfy constraint: Member must satisfy enum value set: [PublishedVersions, None]"
    )


def test_enums_print_in_java_hash_set_order() -> None:
    # Recorded CompatibleRuntimes message (AWS's list; two same-bucket pairs swapped here are
    # insertion-order details the model cannot tell us).
    recorded = [
        *("nodejs20.x", "python3.14", "provided.al2023", "python3.12", "python3.13", "nodejs24.x"),
        *("nodejs22.x", "java25", "python3.10", "python3.11", "java21", "ruby3.3", "ruby3.4"),
        *("ruby3.2", "python3.8", "python3.9", "java17", "nodejs16.x", "dotnet10", "dotnet8"),
        *("java11", "dotnet6", "nodejs18.x", "provided.al2", "java8.al2"),
    ]
    ordered = java_hash_set_order(sorted(recorded))
    assert set(ordered) == set(recorded)
    assert [name for name in ordered if name not in ("python3.14", "dotnet6")] == [
        name for name in recorded if name not in ("python3.14", "dotnet6")
    ]
    assert java_hash_set_order(["Allow", "Terminate"]) == ["Terminate", "Allow"]
    assert java_hash_set_order(["x86_64", "arm64"]) == ["x86_64", "arm64"]


def test_java_value_rendering() -> None:
    assert java_double(2.0) == "2.0"
    assert java_double(-1.0) == "-1.0"
    assert java_double(1e-5) == "1.0E-5"
    assert java_double(12345678.0) == "1.2345678E7"
    assert java_string({"a": [1, True, None]}) == "{a=[1, true, null]}"
