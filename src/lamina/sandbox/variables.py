"""The environment variables a runtime receives (spec 9.4): an allow-list, nothing from the host."""

from __future__ import annotations

from dataclasses import dataclass

from lamina.sandbox.records import FunctionImage

# Lambda hands out execution-role credentials; Lamina hands out fixed dummy ones so
# SDKs sign requests to AWS_ENDPOINT_URL without reaching for host credentials.
DUMMY_ACCESS_KEY_ID = "ASIALAMINAFUNCTION00"
DUMMY_SECRET_ACCESS_KEY = "lamina/dummy/secret/access/key/000000000"
DUMMY_SESSION_TOKEN = "lamina-dummy-session-token"

_DEFAULTS = {
    "PATH": "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin",
    "LD_LIBRARY_PATH": (
        "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:"
        "/var/task:/var/task/lib:/opt/lib"
    ),
    "LANG": "en_US.UTF-8",
    "LC_CTYPE": "C.UTF-8",
    "TZ": ":UTC",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
    "_AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129",
    "_AWS_XRAY_DAEMON_PORT": "2000",
}


@dataclass(frozen=True, slots=True)
class Layout:
    """Where the environment sees its code, runtime files and scratch space."""

    task_root: str
    runtime_dir: str
    tmp_dir: str | None  # set only when /tmp is not private (unisolated mode)


def build_environment(
    image: FunctionImage,
    *,
    runtime_api: str,
    log_stream: str,
    layout: Layout,
    initialization_type: str = "on-demand",
) -> dict[str, str]:
    env = dict(_DEFAULTS)
    env["PYTHONPATH"] = layout.runtime_dir
    env["AWS_ENDPOINT_URL"] = image.endpoint_url
    env.update(image.environment)
    reserved = {
        "_HANDLER": image.handler,
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "AWS_LAMBDA_FUNCTION_NAME": image.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": image.function_version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(image.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": image.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": initialization_type,
        "AWS_REGION": image.region,
        "AWS_DEFAULT_REGION": image.region,
        "AWS_ACCESS_KEY_ID": DUMMY_ACCESS_KEY_ID,
        "AWS_ACCESS_KEY": DUMMY_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": DUMMY_SECRET_ACCESS_KEY,
        "AWS_SESSION_TOKEN": DUMMY_SESSION_TOKEN,
        "LAMBDA_TASK_ROOT": layout.task_root,
        "LAMBDA_RUNTIME_DIR": layout.runtime_dir,
    }
    if not image.is_custom_runtime:
        reserved["AWS_EXECUTION_ENV"] = f"AWS_Lambda_{image.runtime}"
    if image.log_format == "JSON":
        reserved["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        env.setdefault("AWS_LAMBDA_LOG_LEVEL", "INFO")
    env.update(reserved)
    env.pop("_X_AMZN_TRACE_ID", None)  # set per invoke by the runtime
    if layout.tmp_dir is not None:
        env["TMPDIR"] = layout.tmp_dir
    return env
