"""Recorded AWS control-plane scenarios, replayed against a live server."""

from __future__ import annotations

from typing import Any

from tests.support.functions import ROLE, hello_zip, unique, zip_of
from tests.support.recorded import Replay


def _create(client: Any, name: str, **overrides: Any) -> Any:
    params: dict[str, Any] = {
        "FunctionName": name,
        "Runtime": "python3.12",
        "Role": ROLE,
        "Handler": "handler.handler",
        "Code": {"ZipFile": hello_zip()},
    }
    params.update(overrides)
    return client.create_function(**params)


def _active(client: Any, name: str) -> None:
    client.get_waiter("function_active_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100}
    )


def _updated(client: Any, name: str) -> None:
    client.get_waiter("function_updated_v2").wait(
        FunctionName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100}
    )


def test_function_lifecycle(lambda_client: Any) -> None:
    c, name = lambda_client, unique()
    replay = Replay("TestLambdaFunction::test_function_lifecycle")
    replay.check(
        "create_response",
        lambda: _create(c, name, Timeout=5, MemorySize=256, Environment={"Variables": {}}),
    )
    _active(c, name)
    replay.check("get_function_response", lambda: c.get_function(FunctionName=name))
    replay.check(
        "update_func_conf_response",
        lambda: c.update_function_configuration(
            FunctionName=name,
            Runtime="python3.11",
            Description="Changed-Description",
            MemorySize=512,
            Timeout=10,
            Environment={"Variables": {"ENV_A": "a"}},
        ),
    )
    _updated(c, name)
    replay.check("get_function_response_postupdate", lambda: c.get_function(FunctionName=name))
    replay.check(
        "update_code_response",
        lambda: c.update_function_code(
            FunctionName=name, ZipFile=zip_of({"handler.py": "def handler(e, c):\n    return 1\n"})
        ),
    )
    _updated(c, name)
    replay.check("get_function_response_postcodeupdate", lambda: c.get_function(FunctionName=name))
    replay.check("delete_response", lambda: c.delete_function(FunctionName=name))
    replay.check("delete_postdelete", lambda: c.delete_function(FunctionName=name))
    replay.assert_complete()


def test_version_lifecycle(lambda_client: Any) -> None:
    c, name = lambda_client, unique()
    replay = Replay("TestLambdaVersions::test_version_lifecycle")
    replay.check(
        "create_response",
        lambda: _create(c, name, Description="No version :(", Handler="index.handler"),
    )
    _active(c, name)
    replay.check("get_function_result", lambda: c.get_function(FunctionName=name))
    replay.check("list_versions_result", lambda: c.list_versions_by_function(FunctionName=name))
    replay.check(
        "first_update_response",
        lambda: c.update_function_configuration(FunctionName=name, Description="First version :)"),
    )
    _updated(c, name)
    replay.check("first_update_get_function", lambda: c.get_function(FunctionName=name))
    replay.check(
        "first_publish_response",
        lambda: c.publish_version(FunctionName=name, Description="First version description :)"),
    )
    replay.check(
        "first_publish_get_function", lambda: c.get_function(FunctionName=name, Qualifier="1")
    )
    replay.check(
        "first_publish_get_function_config",
        lambda: c.get_function_configuration(FunctionName=name, Qualifier="1"),
    )
    replay.check(
        "second_update_response",
        lambda: c.update_function_configuration(
            FunctionName=name, Description="Second version :))"
        ),
    )
    _updated(c, name)
    replay.check(
        "first_publish_get_function_after_update",
        lambda: c.get_function(FunctionName=name, Qualifier="1"),
    )
    replay.check("second_publish_response", lambda: c.publish_version(FunctionName=name))
    replay.check("third_publish_response", lambda: c.publish_version(FunctionName=name))
    replay.check(
        "list_versions_result_after_third_publish",
        lambda: c.list_versions_by_function(FunctionName=name),
    )
    c.delete_function(FunctionName=name, Qualifier="1")
    replay.check(
        "list_versions_result_after_deletion_of_first_version",
        lambda: c.list_versions_by_function(FunctionName=name),
    )
    replay.assert_complete()


def test_alias_lifecycle(lambda_client: Any) -> None:
    c, name = lambda_client, unique()
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    replay = Replay("TestLambdaAlias::test_alias_lifecycle")
    replay.check(
        "create_response",
        lambda: _create(
            c, name, Environment={"Variables": {"testenv": "staging"}}, Handler="index.handler"
        ),
    )
    _active(c, name)
    replay.check("publish_v1", lambda: c.publish_version(FunctionName=name))
    c.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"testenv": "prod"}}
    )
    _updated(c, name)
    replay.check("publish_v2", lambda: c.publish_version(FunctionName=name))
    replay.check(
        "create_alias_1_1",
        lambda: c.create_alias(
            FunctionName=name,
            Name="aliasname1_1",
            FunctionVersion="1",
            Description="custom-alias",
            RoutingConfig={"AdditionalVersionWeights": {"2": 0.2}},
        ),
    )
    replay.check("get_alias_1_1", lambda: c.get_alias(FunctionName=name, Name="aliasname1_1"))
    replay.check(
        "get_function_alias_1_1",
        lambda: c.get_function(FunctionName=name, Qualifier="aliasname1_1"),
    )
    replay.check(
        "get_function_byarn_alias_1_1", lambda: c.get_function(FunctionName=f"{arn}:aliasname1_1")
    )
    replay.check(
        "get_function_alias_notfound_exc",
        lambda: c.get_function(FunctionName=name, Qualifier="aliasdoesnotexist"),
    )
    replay.check(
        "get_function_alias_byarn_notfound_exc",
        lambda: c.get_function(FunctionName=f"{arn}:aliasdoesnotexist"),
    )
    replay.check(
        "create_alias_1_2",
        lambda: c.create_alias(
            FunctionName=name, Name="aliasname1_2", FunctionVersion="1", Description="custom-alias"
        ),
    )
    replay.check("get_alias_1_2", lambda: c.get_alias(FunctionName=name, Name="aliasname1_2"))
    replay.check(
        "create_alias_1_3",
        lambda: c.create_alias(FunctionName=name, Name="aliasname1_3", FunctionVersion="1"),
    )
    replay.check("get_alias_1_3", lambda: c.get_alias(FunctionName=name, Name="aliasname1_3"))
    replay.check(
        "create_alias_2",
        lambda: c.create_alias(
            FunctionName=name, Name="aliasname2", FunctionVersion="2", Description="custom-alias"
        ),
    )
    replay.check("get_alias_2", lambda: c.get_alias(FunctionName=name, Name="aliasname2"))
    replay.check("list_aliases_for_fnname", lambda: c.list_aliases(FunctionName=name))
    replay.check(
        "update_alias_1_1",
        lambda: c.update_alias(
            FunctionName=name, Name="aliasname1_1", RoutingConfig={"AdditionalVersionWeights": {}}
        ),
    )
    replay.check(
        "get_alias_1_1_after_update", lambda: c.get_alias(FunctionName=name, Name="aliasname1_1")
    )
    replay.check("list_aliases_for_fnname_after_update", lambda: c.list_aliases(FunctionName=name))
    replay.check(
        "update_alias_1_2",
        lambda: c.update_alias(
            FunctionName=name, Name="aliasname1_2", RoutingConfig={"AdditionalVersionWeights": {}}
        ),
    )
    replay.check(
        "get_alias_1_2_after_update", lambda: c.get_alias(FunctionName=name, Name="aliasname1_2")
    )
    replay.check(
        "list_aliases_for_fnname_after_update_2", lambda: c.list_aliases(FunctionName=name)
    )
    replay.check(
        "list_aliases_for_version", lambda: c.list_aliases(FunctionName=name, FunctionVersion="1")
    )
    replay.check(
        "delete_alias_response", lambda: c.delete_alias(FunctionName=name, Name="aliasname1_1")
    )
    replay.check("list_aliases_for_fnname_afterdelete", lambda: c.list_aliases(FunctionName=name))
    replay.assert_complete()


def test_publish_preconditions(lambda_client: Any) -> None:
    c, name = lambda_client, unique()
    replay = Replay("TestLambdaVersions::test_publish_with_wrong_sha256")
    replay.check("create_response", lambda: _create(c, name, Handler="index.handler"))
    _active(c, name)
    replay.check("get_fn_response", lambda: c.get_function(FunctionName=name))
    replay.check(
        "publish_wrong_sha256_exc",
        lambda: c.publish_version(FunctionName=name, CodeSha256="somenonexistentsha256"),
    )
    replay.check("publish_result", lambda: c.publish_version(FunctionName=name))
    replay.assert_complete()
    # Recorded in 2022, before LoggingConfig and SnapStart existed: only its error still holds.
    name = unique()
    replay = Replay("TestLambdaVersions::test_publish_with_wrong_revisionid")
    _create(c, name)
    _active(c, name)
    replay.check(
        "publish_wrong_revisionid_exc",
        lambda: c.publish_version(FunctionName=name, RevisionId="abc"),
    )
    old_shapes = "recorded in 2022 with the function shape of the time"
    replay.assert_complete(
        skipped={k: old_shapes for k in ("create_response", "get_fn_response", "publish_result")}
    )


def test_tag_lifecycle(lambda_client: Any) -> None:
    c, name = lambda_client, unique()
    _create(c, name)
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    replay = Replay("TestLambdaTag::test_tag_lifecycle[lambda_function]")
    steps: list[tuple[str, Any]] = [
        ("tag_single_response", lambda: c.tag_resource(Resource=arn, Tags={"A": "tag-a"})),
        (
            "tag_multiple_response",
            lambda: c.tag_resource(Resource=arn, Tags={"B": "tag-b", "C": "tag-c"}),
        ),
        (
            "tag_overlap_response",
            lambda: c.tag_resource(Resource=arn, Tags={"C": "tag-c-newsuffix", "D": "tag-d"}),
        ),
        ("untag_single_response", lambda: c.untag_resource(Resource=arn, TagKeys=["A"])),
        ("untag_multiple_response", lambda: c.untag_resource(Resource=arn, TagKeys=["B", "C"])),
        ("untag_nonexisting_response", lambda: c.untag_resource(Resource=arn, TagKeys=["F"])),
        (
            "untag_existing_and_nonexisting_response",
            lambda: c.untag_resource(Resource=arn, TagKeys=["D", "F"]),
        ),
    ]
    for key, call in steps:
        replay.check(key, call)
        replay.check(f"{key}_listtags", lambda: c.list_tags(Resource=arn))
    replay.assert_complete()


def test_missing_functions_and_regions(lambda_client: Any) -> None:
    c = lambda_client
    for op in ("get_function", "get_function_configuration", "delete_function"):
        replay = Replay(f"TestLambdaFunction::test_ops_on_nonexisting_fn[{op}]")
        replay.check("not_found_exception", lambda o=op: getattr(c, o)(FunctionName="doesnotexist"))
        replay.assert_complete()
        replay = Replay(f"TestLambdaFunction::test_get_function_wrong_region[{op}]")
        wrong = "arn:aws:lambda:ap-southeast-1:000000000000:function:doesnotexist"
        replay.check("wrong_region_exception", lambda o=op, w=wrong: getattr(c, o)(FunctionName=w))
        replay.assert_complete()
        replay = Replay(f"TestLambdaFunction::test_ops_with_arn_qualifier_mismatch[{op}]")
        arn = "arn:aws:lambda:us-east-1:000000000000:function:some-function"
        if op == "delete_function":
            c.create_function(
                FunctionName="some-function",
                Runtime="python3.12",
                Role=ROLE,
                Handler="handler.handler",
                Code={"ZipFile": hello_zip()},
            )
            _active(c, "some-function")
        replay.check(
            "not_match_exception",
            lambda o=op, a=arn: getattr(c, o)(FunctionName=f"{a}:1", Qualifier="$LATEST"),
        )
        replay.check(
            "match_exception",
            lambda o=op, a=arn: getattr(c, o)(FunctionName=f"{a}:$LATEST", Qualifier="$LATEST"),
        )
        replay.assert_complete()
        if op == "delete_function":
            c.delete_function(FunctionName="some-function")


def test_routing_config_errors(server: Any) -> None:
    # Some of these requests are refused by botocore itself unless it is told not to check.
    c, name = server.client(validate=False), unique()
    replay = Replay("TestLambdaAlias::test_notfound_and_invalid_routingconfigs")
    replay.check(
        "create_response",
        lambda: _create(
            c,
            name,
            Environment={"Variables": {"testenv": "staging"}},
            Publish=True,
            Handler="index.handler",
        ),
    )
    _active(c, name)
    replay.check("publish_v1", lambda: c.publish_version(FunctionName=name))
    c.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"testenv": "prod"}}
    )
    _updated(c, name)
    replay.check("publish_v2", lambda: c.publish_version(FunctionName=name))

    def alias(
        version: str,
        weights: dict[str, float] | None = None,
        fn: str = name,
        alias_name: str = "custom",
    ) -> Any:
        extra = {} if weights is None else {"RoutingConfig": {"AdditionalVersionWeights": weights}}
        return c.create_alias(FunctionName=fn, Name=alias_name, FunctionVersion=version, **extra)

    replay.check("routing_config_exc_toomany", lambda: alias("1", {"2": 0.5, "3": 0.5}))
    replay.check("routing_config_exc_toohigh", lambda: alias("1", {"2": 2.0}))
    replay.check("routing_config_exc_subzero", lambda: alias("1", {"2": -1.0}))
    replay.check("routing_config_exc_sameversion", lambda: alias("1", {"1": 0.5}))
    replay.check("target_version_doesnotexist", lambda: alias("10", {"2": 0.5}))
    replay.check("routing_config_exc_version_doesnotexist", lambda: alias("1", {"10": 0.5}))
    replay.check("target_version_exc_version_latest", lambda: alias("$LATEST", {"1": 0.5}))
    replay.check("routing_config_exc_version_latest", lambda: alias("1", {"$LATEST": 0.5}))
    replay.check("create-alias-latest", lambda: alias("$LATEST", alias_name="custom-latest"))
    replay.check(
        "routing_config_exc_fn_doesnotexist", lambda: alias("1", {"2": 0.5}, fn=f"{name}-unknown")
    )
    replay.check(
        "create_alias_empty_routingconfig",
        lambda: alias("1", {}, alias_name="custom-empty-routingconfig"),
    )
    replay.check("create_alias_response", lambda: alias("1", {"2": 0.5}))
    replay.check("routing_config_exc_already_exist", lambda: alias("1", {"2": 0.5}))
    replay.check(
        "alias_does_not_exist_esc", lambda: c.get_alias(FunctionName=name, Name="non-existent")
    )
    replay.assert_complete()


def test_create_exceptions(lambda_client: Any) -> None:
    c = lambda_client
    replay = Replay("TestLambdaFunction::test_create_lambda_exceptions")
    replay.check("invalid_role_arn_exc", lambda: _create(c, unique(), Role="r1"))
    replay.check(
        "invalid_runtime_exc", lambda: _create(c, unique(), Runtime="non-existent-runtime")
    )
    replay.check("uppercase_runtime_exc", lambda: _create(c, unique(), Runtime="PYTHON3.9"))
    replay.check(
        "multiple_architectures", lambda: _create(c, unique(), Architectures=["x86_64", "arm64"])
    )
    replay.check("uppercase_architecture", lambda: _create(c, unique(), Architectures=["X86_64"]))
    replay.check("invalid_zip_exc", lambda: _create(c, unique(), Code={"ZipFile": b"invalid"}))
    # empty_architectures is refused by botocore itself before any request is sent.
    replay.assert_complete(skipped={"empty_architectures": "client-side validation"})
