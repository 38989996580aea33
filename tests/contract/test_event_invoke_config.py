"""Event invoke configs: recorded AWS scenarios replayed, and the seed's CLI commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.contract.test_cli import aws
from tests.support.functions import create
from tests.support.recorded import Replay
from tests.support.server import LiveServer


def test_lifecycle_matches_aws(lambda_client: Any) -> None:
    c = lambda_client
    name = str(create(c, Environment={"Variables": {}})["FunctionName"])
    replay = Replay("TestLambdaEventInvokeConfig::test_lambda_eventinvokeconfig_lifecycle")
    replay.check(
        "put_invokeconfig_retries_0",
        lambda: c.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0),
    )
    replay.check(
        "put_invokeconfig_eventage_60",
        lambda: c.put_function_event_invoke_config(FunctionName=name, MaximumEventAgeInSeconds=60),
    )
    replay.check(
        "update_invokeconfig_eventage_nochange",
        lambda: c.update_function_event_invoke_config(
            FunctionName=name, MaximumEventAgeInSeconds=60
        ),
    )
    replay.check(
        "update_invokeconfig_retries",
        lambda: c.update_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1),
    )
    replay.check("get_invokeconfig", lambda: c.get_function_event_invoke_config(FunctionName=name))
    replay.check(
        "get_invokeconfig_latest",
        lambda: c.get_function_event_invoke_config(FunctionName=name, Qualifier="$LATEST"),
    )
    replay.check(
        "list_single_invokeconfig", lambda: c.list_function_event_invoke_configs(FunctionName=name)
    )
    publish = c.publish_version(FunctionName=name)
    assert publish["Version"] == "1"
    replay.check(
        "get_invokeconfig_postpublish",
        lambda: c.get_function_event_invoke_config(FunctionName=name, Qualifier="1"),
    )
    replay.check(
        "put_published_invokeconfig",
        lambda: c.put_function_event_invoke_config(
            FunctionName=name, Qualifier="1", MaximumEventAgeInSeconds=120
        ),
    )
    replay.check(
        "get_published_invokeconfig",
        lambda: c.get_function_event_invoke_config(FunctionName=name, Qualifier="1"),
    )
    c.delete_function_event_invoke_config(FunctionName=name)
    replay.check(
        "list_paging_nolimit_postdelete",
        lambda: c.list_function_event_invoke_configs(FunctionName=name),
    )
    replay.assert_complete(skipped={"publish_version_result": "checked in test_recorded"})


def test_errors_match_aws(server: LiveServer) -> None:
    c = server.client(validate=False)
    name = str(create(c, Environment={"Variables": {}})["FunctionName"])
    c.publish_version(FunctionName=name)
    c.create_alias(FunctionName=name, Name="eventinvokealias", FunctionVersion="1")
    other = str(create(c)["FunctionName"])
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    replay = Replay("TestLambdaEventInvokeConfig::test_lambda_eventinvokeconfig_exceptions")
    put = c.put_function_event_invoke_config
    steps: dict[str, Any] = {
        "put_functionname_name_notfound": lambda: put(
            FunctionName="doesnotexist", MaximumRetryAttempts=1
        ),
        "put_functionname_arn_notfound": lambda: put(
            FunctionName=f"{arn}-doesnotexist", MaximumRetryAttempts=1
        ),
        "put_functionname_nootherargs": lambda: put(FunctionName=name),
        "put_destination_lambda_doesntexist": lambda: put(
            FunctionName=name,
            DestinationConfig={
                "OnSuccess": {
                    "Destination": "arn:aws:lambda:us-east-1:000000000000:function:doesnotexist"
                }
            },
        ),
        "put_destination_recursive": lambda: put(
            FunctionName=name, DestinationConfig={"OnSuccess": {"Destination": arn}}
        ),
        "put_destination_other_lambda": lambda: put(
            FunctionName=name,
            DestinationConfig={
                "OnSuccess": {
                    "Destination": f"arn:aws:lambda:us-east-1:000000000000:function:{other}"
                }
            },
        ),
        "put_destination_invalid_service_arn": lambda: put(
            FunctionName=name,
            DestinationConfig={
                "OnSuccess": {"Destination": f"arn:aws:iam:us-east-1:000000000000:function:{name}"}
            },
        ),
        "put_destination_success_no_destination_arn": lambda: put(
            FunctionName=name, DestinationConfig={"OnSuccess": {}}
        ),
        "put_destination_failure_no_destination_arn": lambda: put(
            FunctionName=name, DestinationConfig={"OnFailure": {}}
        ),
        "put_destination_invalid_arn_pattern": lambda: put(
            FunctionName=name,
            DestinationConfig={
                "OnFailure": {
                    "Destination": f"arn:aws:_-/!lambda:us-east-1:000000000000:function:{name}"
                }
            },
        ),
        "put_destination_latest": lambda: put(FunctionName=name, MaximumRetryAttempts=1),
        "put_destination_latest_explicit_qualifier": lambda: put(
            FunctionName=name, Qualifier="$LATEST", MaximumRetryAttempts=1
        ),
        "put_destination_version": lambda: put(
            FunctionName=name, Qualifier="1", MaximumRetryAttempts=1
        ),
        "put_alias_functionname_qualifier": lambda: put(
            FunctionName=name, Qualifier="eventinvokealias", MaximumRetryAttempts=1
        ),
        "put_alias_doesnotexist": lambda: put(
            FunctionName=name, Qualifier="doesnotexist", MaximumRetryAttempts=1
        ),
        "put_alias_qualifiedarn": lambda: put(
            FunctionName=f"{arn}:eventinvokealias", MaximumRetryAttempts=1
        ),
        "put_alias_qualifiedarn_qualifier": lambda: put(
            FunctionName=f"{arn}:eventinvokealias",
            Qualifier="eventinvokealias",
            MaximumRetryAttempts=1,
        ),
        "put_alias_qualifiedarn_qualifierconflict": lambda: put(
            FunctionName=f"{arn}:eventinvokealias", Qualifier="$LATEST", MaximumRetryAttempts=1
        ),
        "put_alias_shorthand": lambda: put(
            FunctionName=f"{name}:eventinvokealias", MaximumRetryAttempts=1
        ),
        "put_alias_shorthand_qualifier": lambda: put(
            FunctionName=f"{name}:eventinvokealias",
            Qualifier="eventinvokealias",
            MaximumRetryAttempts=1,
        ),
        "put_alias_shorthand_qualifierconflict": lambda: put(
            FunctionName=f"{name}:eventinvokealias", Qualifier="$LATEST", MaximumRetryAttempts=1
        ),
        "put_version_shorthand": lambda: put(FunctionName=f"{name}:1", MaximumRetryAttempts=1),
        "put_shorthand_qualifier_match": lambda: put(
            FunctionName=f"{name}:$LATEST", Qualifier="$LATEST", MaximumRetryAttempts=1
        ),
        "put_shorthand_qualifier_mismatch_1": lambda: put(
            FunctionName=f"{name}:$LATEST", Qualifier="1", MaximumRetryAttempts=1
        ),
        "put_shorthand_qualifier_mismatch_2": lambda: put(
            FunctionName=f"{name}:1", Qualifier="$LATEST", MaximumRetryAttempts=1
        ),
        "put_shorthand_qualifier_mismatch_3": lambda: put(
            FunctionName=f"{name}:1", Qualifier="eventinvokealias", MaximumRetryAttempts=1
        ),
        "put_maxevent_maxvalue_result": lambda: put(
            FunctionName=name, MaximumRetryAttempts=2, MaximumEventAgeInSeconds=21600
        ),
        "put_pre_overwrite": lambda: put(
            FunctionName=name, MaximumRetryAttempts=2, MaximumEventAgeInSeconds=60
        ),
        "put_post_overwrite": lambda: put(FunctionName=name, MaximumRetryAttempts=0),
        "second_overwrite_existing_response": lambda: put(
            FunctionName=name, MaximumRetryAttempts=0
        ),
        "get_post_overwrite": lambda: c.get_function_event_invoke_config(FunctionName=name),
        "pre_update_response": lambda: put(
            FunctionName=name, MaximumRetryAttempts=2, MaximumEventAgeInSeconds=60
        ),
        "update_response": lambda: c.update_function_event_invoke_config(
            FunctionName=name, MaximumRetryAttempts=0
        ),
        "update_response_existing": lambda: c.update_function_event_invoke_config(
            FunctionName=name, MaximumRetryAttempts=0
        ),
    }
    for key, call in steps.items():
        replay.check(key, call)
    replay.assert_complete(
        skipped={
            k: "covered by the cleanup steps of the recorded scenario, not replayed"
            for k in replay.expected
            if k not in steps
        }
    )


def test_seed_commands_work_verbatim(server: LiveServer, tmp_path: Path) -> None:
    """Seed 004's commands, with only --endpoint-url added."""
    client = server.client()
    create(client, "error")
    create(client, "my-function")
    out = tmp_path / "response.json"
    invoked = aws(
        server,
        "lambda",
        "invoke",
        "--function-name",
        "my-function",
        "--invocation-type",
        "Event",
        "--cli-binary-format",
        "raw-in-base64-out",
        "--payload",
        '{ "key": "value" }',
        str(out),
    )
    assert json.loads(invoked.stdout) == {"StatusCode": 202}
    put = json.loads(
        aws(
            server,
            "lambda",
            "put-function-event-invoke-config",
            "--function-name",
            "error",
            "--maximum-event-age-in-seconds",
            "3600",
            "--maximum-retry-attempts",
            "0",
        ).stdout
    )
    assert set(put) == {
        "LastModified",
        "FunctionArn",
        "MaximumRetryAttempts",
        "MaximumEventAgeInSeconds",
        "DestinationConfig",
    }
    assert put["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:error:$LATEST"
    assert (put["MaximumRetryAttempts"], put["MaximumEventAgeInSeconds"]) == (0, 3600)
    assert put["DestinationConfig"] == {"OnSuccess": {}, "OnFailure": {}}
    # CLI v2 prints timestamps in ISO 8601 unless cli_timestamp_format says otherwise.
    assert put["LastModified"].startswith("20")
    destination = "arn:aws:sqs:us-east-2:123456789012:destination"  # as the seed writes it
    updated = json.loads(
        aws(
            server,
            "lambda",
            "update-function-event-invoke-config",
            "--function-name",
            "error",
            "--destination-config",
            json.dumps({"OnFailure": {"Destination": destination}}),
        ).stdout
    )
    assert updated["MaximumRetryAttempts"] == 0 and updated["MaximumEventAgeInSeconds"] == 3600
    assert updated["DestinationConfig"] == {
        "OnSuccess": {},
        "OnFailure": {"Destination": destination},
    }
    dlq = "arn:aws:sns:us-east-2:123456789012:my-topic"  # as the seed writes it
    configured = json.loads(
        aws(
            server,
            "lambda",
            "update-function-configuration",
            "--function-name",
            "my-function",
            "--dead-letter-config",
            f"TargetArn={dlq}",
        ).stdout
    )
    assert configured["DeadLetterConfig"] == {"TargetArn": dlq}
