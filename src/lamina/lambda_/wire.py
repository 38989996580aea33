"""Lambda records in AWS's wire shapes (PascalCase lives here and in api.py only)."""

from __future__ import annotations

from typing import Any

from lamina.lambda_.models import Alias, FunctionConfig
from lamina.lambda_.scope import Scope


def function_configuration(
    config: FunctionConfig, scope: Scope, *, qualifier: str | None = None, listing: bool = False
) -> dict[str, Any]:
    """FunctionConfiguration. The ARN carries the qualifier the caller used (a published
    version always carries its number); lists leave out state and runtime version."""
    if qualifier is None and not config.is_latest:
        qualifier = config.version
    out: dict[str, Any] = {
        "FunctionName": config.name,
        "FunctionArn": scope.function_arn(config.name, qualifier),
        "Runtime": config.runtime,
        "Role": config.role,
        "Handler": config.handler,
        "CodeSize": config.code_size,
        "Description": config.description,
        "Timeout": config.timeout,
        "MemorySize": config.memory_size,
        "LastModified": config.last_modified,
        "CodeSha256": config.code_sha256,
        "Version": config.version,
        "TracingConfig": {"Mode": config.tracing_mode},
        "RevisionId": config.revision_id,
        "PackageType": "Zip",
        "Architectures": list(config.architectures),
        "EphemeralStorage": {"Size": config.ephemeral_storage},
        "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
        "LoggingConfig": _logging(config),
    }
    if config.environment is not None:
        out["Environment"] = {"Variables": dict(config.environment)}
    if config.layers:
        out["Layers"] = [{"Arn": arn} for arn in config.layers]
    if config.dead_letter_target:
        out["DeadLetterConfig"] = {"TargetArn": config.dead_letter_target}
    if config.kms_key_arn:
        out["KMSKeyArn"] = config.kms_key_arn
    if config.vpc is not None:
        out["VpcConfig"] = {
            "SubnetIds": list(config.vpc.subnet_ids),
            "SecurityGroupIds": list(config.vpc.security_group_ids),
            "Ipv6AllowedForDualStack": config.vpc.ipv6_allowed_for_dual_stack,
            "VpcId": "",
        }
    if listing:
        return out
    out["RuntimeVersionConfig"] = {"RuntimeVersionArn": config.runtime_version_arn}
    out["State"] = config.state.value
    for key, value in (
        ("StateReason", config.state_reason),
        ("StateReasonCode", config.state_reason_code),
        ("LastUpdateStatus", config.last_update_status),
        ("LastUpdateStatusReason", config.last_update_status_reason),
        ("LastUpdateStatusReasonCode", config.last_update_status_reason_code),
    ):
        if value is not None:
            out[key] = str(value)
    return out


def alias_configuration(alias: Alias, scope: Scope) -> dict[str, Any]:
    out: dict[str, Any] = {
        "AliasArn": scope.function_arn(alias.function_name, alias.name),
        "Name": alias.name,
        "FunctionVersion": alias.function_version,
        "Description": alias.description,
        "RevisionId": alias.revision_id,
    }
    if alias.additional_weights:
        out["RoutingConfig"] = {"AdditionalVersionWeights": dict(alias.additional_weights)}
    return out


def _logging(config: FunctionConfig) -> dict[str, Any]:
    logging = config.logging
    out: dict[str, Any] = {"LogFormat": logging.log_format, "LogGroup": logging.log_group}
    if logging.application_log_level is not None:
        out["ApplicationLogLevel"] = logging.application_log_level
    if logging.system_log_level is not None:
        out["SystemLogLevel"] = logging.system_log_level
    return out
