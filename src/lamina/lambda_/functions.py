"""The function registry: create, read, update, delete, and the Pending → Active lifecycle."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lamina.arns import LATEST
from lamina.background import BackgroundTasks
from lamina.clock import Clock, lambda_timestamp
from lamina.errors import (
    InvalidParameterValueException,
    ResourceConflictException,
    ValidationException,
)
from lamina.lambda_ import messages
from lamina.lambda_.code_store import CodePackage, CodeStore
from lamina.lambda_.models import (
    CREATING_REASON,
    Function,
    FunctionConfig,
    LoggingConfig,
    State,
    UpdateStatus,
)
from lamina.lambda_.runtimes import RuntimeCatalog
from lamina.lambda_.scope import Scope
from lamina.storage import Delete, DeletePrefix, Put, Storage

log = logging.getLogger("lamina.functions")

FUNCTION = "function"
VERSION = "version"
ALIAS = "alias"
RESERVED = "reserved"  # reserved concurrency, by function name
PROVISIONED = "provisioned"  # provisioned concurrency configs, by name and qualifier
EVENT_INVOKE_CONFIG = "event_invoke_config"  # asynchronous settings, by name and qualifier
MAX_ENVIRONMENT_BYTES = 4 * 1024
MAX_TIMEOUT = 900
MAX_MEMORY = 10_240
MAX_LAYERS = 5
MAX_TAGS = 50
RESERVED_ENV_KEYS = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
    }
)


def version_key(name: str, version: str) -> str:
    return f"{name}\x1f{int(version):010d}"


@dataclass(frozen=True, slots=True)
class FunctionSettings:
    """Version-level settings a create or an update may set (None: leave as is)."""

    runtime: str | None = None
    role: str | None = None
    handler: str | None = None
    description: str | None = None
    timeout: int | None = None
    memory_size: int | None = None
    ephemeral_storage: int | None = None
    environment: dict[str, str] | None = None
    tracing_mode: str | None = None
    architectures: tuple[str, ...] | None = None
    layers: tuple[str, ...] | None = None
    dead_letter_target: str | None = None
    kms_key_arn: str | None = None
    logging: dict[str, str] | None = (
        None  # LogFormat, ApplicationLogLevel, SystemLogLevel, LogGroup
    )


class FunctionService:
    def __init__(
        self,
        storage: Storage,
        code: CodeStore,
        runtimes: RuntimeCatalog,
        clock: Clock,
        *,
        settle_delay: float = 0.0,
    ) -> None:
        self._storage = storage
        self._code = code
        self._runtimes = runtimes
        self._clock = clock
        self._settle_delay = settle_delay
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._settling = BackgroundTasks()
        # Listeners told when a function's configuration changes (the invoke engine's cache).
        self.on_change: list[Callable[[Scope, str], None]] = []
        self.on_delete: list[Callable[[Scope, str], None]] = []  # the whole function went

    # --- reads ------------------------------------------------------------------------

    async def find(self, scope: Scope, name: str) -> Function | None:
        doc = await self._storage.get(FUNCTION, scope.key, name)
        return None if doc is None else Function.from_doc(doc)

    async def get(self, scope: Scope, name: str) -> Function:
        function = await self.find(scope, name)
        if function is None:
            raise messages.function_not_found(scope.function_arn(name))
        return function

    async def get_version(self, scope: Scope, name: str, version: str) -> FunctionConfig:
        """$LATEST or a published version; 404 with the qualified ARN when missing."""
        if version == LATEST:
            function = await self.find(scope, name)
            if function is not None:
                return function.latest
        elif version.isdigit():
            doc = await self._storage.get(VERSION, scope.key, version_key(name, version))
            if doc is not None:
                return FunctionConfig.from_doc(doc)
        raise messages.function_not_found(scope.function_arn(name, version))

    async def list_versions(self, scope: Scope, name: str) -> list[FunctionConfig]:
        rows = await self._storage.scan(VERSION, scope.key, prefix=f"{name}\x1f")
        return [FunctionConfig.from_doc(doc) for _, _, doc in rows]

    async def list_functions(
        self, scope: Scope, *, after: str | None = None, limit: int | None = None
    ) -> list[Function]:
        rows = await self._storage.scan(FUNCTION, scope.key, after=after, limit=limit)
        return [Function.from_doc(doc) for _, _, doc in rows]

    async def all_functions(self) -> list[tuple[str, Function]]:
        return [(s, Function.from_doc(d)) for s, _, d in await self._storage.scan(FUNCTION)]

    # --- writes -----------------------------------------------------------------------

    async def create(
        self,
        scope: Scope,
        name: str,
        settings: FunctionSettings,
        zip_file: bytes,
        *,
        tags: dict[str, str],
        publish: bool,
    ) -> FunctionConfig:
        if len(name) > 64:
            raise messages.name_too_long(name)
        if settings.runtime is None or settings.handler is None:
            raise InvalidParameterValueException(
                "Runtime and Handler are mandatory parameters for functions created with"
                " deployment packages."
            )
        if len(tags) > MAX_TAGS:
            raise InvalidParameterValueException("Number of tags exceeds resource tag limit.")
        package = self._code.check(zip_file)
        async with self._lock(scope, name):
            if await self.find(scope, name) is not None:
                raise messages.function_exists(name)
            config = self._apply(
                scope,
                _blank_config(name, package, settings, self._now()),
                settings,
            )
            await asyncio.to_thread(self._code.save, package, zip_file)
            function = Function(name=name, latest=config, tags=dict(tags))
            ops: list[Put | Delete] = []
            if publish:
                function, version = self._publish(function, None)
                ops.append(
                    Put(VERSION, scope.key, version_key(name, version.version), version.to_doc())
                )
            ops.append(Put(FUNCTION, scope.key, name, function.to_doc()))
            await self._storage.write(ops)
        self._settle_later(scope, name)
        return function.latest.replace(version=function.last_published) if publish else config

    async def update_configuration(
        self, scope: Scope, name: str, settings: FunctionSettings, revision_id: str | None
    ) -> FunctionConfig:
        async with self._lock(scope, name):
            function = await self._get_for_update(scope, name, revision_id)
            config = self._apply(scope, function.latest, settings)
            return await self._start_update(scope, function, config)

    async def update_code(
        self,
        scope: Scope,
        name: str,
        zip_file: bytes,
        *,
        architectures: tuple[str, ...] | None,
        publish: bool,
        dry_run: bool,
        revision_id: str | None,
    ) -> FunctionConfig:
        package = self._code.check(zip_file)
        async with self._lock(scope, name):
            function = await self._get_for_update(scope, name, revision_id)
            config = function.latest.replace(code_sha256=package.sha256, code_size=package.size)
            if architectures is not None:
                config = config.replace(architectures=architectures)
            if dry_run:
                return config
            await asyncio.to_thread(self._code.save, package, zip_file)
            updated = await self._start_update(scope, function, config)
            if not publish:
                return updated
        # Publishing waits for the update to settle, as AWS publishes the new code.
        await self._settle(scope, name)
        return await self.publish_version(scope, name, None, None, None)

    async def publish_version(
        self,
        scope: Scope,
        name: str,
        code_sha256: str | None,
        description: str | None,
        revision_id: str | None,
    ) -> FunctionConfig:
        async with self._lock(scope, name):
            function = await self._get_for_update(scope, name, revision_id)
            if code_sha256 and code_sha256 != function.latest.code_sha256:
                raise InvalidParameterValueException(
                    f"CodeSHA256 ({code_sha256}) is different from current CodeSHA256 in $LATEST"
                    f" ({function.latest.code_sha256}). Please try again with the CodeSHA256 in"
                    " $LATEST."
                )
            if function.last_published is not None:
                newest = await self.get_version(scope, name, function.last_published)
                candidate = function.latest.replace(
                    description=description
                    if description is not None
                    else function.latest.description
                )
                if newest.publishable_fields() == candidate.publishable_fields():
                    return newest
            function, version = self._publish(function, description)
            await self._storage.write(
                [
                    Put(VERSION, scope.key, version_key(name, version.version), version.to_doc()),
                    Put(FUNCTION, scope.key, name, function.to_doc()),
                ]
            )
        return version

    async def delete(self, scope: Scope, name: str, qualifier: str | None) -> None:
        async with self._lock(scope, name):
            function = await self.get(scope, name)
            if qualifier is None:
                await self._storage.write(
                    [
                        Delete(FUNCTION, scope.key, name),
                        DeletePrefix(VERSION, scope.key, f"{name}\x1f"),
                        DeletePrefix(ALIAS, scope.key, f"{name}\x1f"),
                        Delete(RESERVED, scope.key, name),
                        DeletePrefix(PROVISIONED, scope.key, f"{name}\x1f"),
                        DeletePrefix(EVENT_INVOKE_CONFIG, scope.key, f"{name}\x1f"),
                    ]
                )
                for listener in self.on_delete:
                    listener(scope, name)
            else:
                await self._delete_version(scope, function, qualifier)
        self._changed(scope, name)

    async def put_tags(self, scope: Scope, name: str, tags: dict[str, str]) -> None:
        async with self._lock(scope, name):
            function = await self.get(scope, name)
            merged = {**function.tags, **tags}
            if len(merged) > MAX_TAGS:
                raise InvalidParameterValueException("Number of tags exceeds resource tag limit.")
            await self._save(scope, Function(**{**_fields(function), "tags": merged}))

    async def remove_tags(self, scope: Scope, name: str, keys: list[str]) -> None:
        async with self._lock(scope, name):
            function = await self.get(scope, name)
            kept = {k: v for k, v in function.tags.items() if k not in keys}
            await self._save(scope, Function(**{**_fields(function), "tags": kept}))

    # --- lifecycle --------------------------------------------------------------------

    async def settle_all(self) -> None:
        """At start-up: finish every create or update a stop interrupted."""
        for scope_key, function in await self.all_functions():
            latest = function.latest
            if (
                latest.state is State.PENDING
                or latest.last_update_status is UpdateStatus.IN_PROGRESS
            ):
                account, region = scope_key.split("/", 1)
                self._settle_later(Scope(account, region), function.name)

    async def close(self) -> None:
        """Stop background settling; what it had not finished, the next start finishes."""
        await self._settling.cancel_all()

    def _settle_later(self, scope: Scope, name: str) -> None:
        self._settling.spawn(self._settle(scope, name, delay=True))

    async def _settle(self, scope: Scope, name: str, *, delay: bool = False) -> None:
        """Prepare the code, then flip Pending → Active or InProgress → Successful."""
        if delay and self._settle_delay:
            await asyncio.sleep(self._settle_delay)
        function = await self.find(scope, name)
        if function is None:
            return
        latest = function.latest
        if (
            latest.state is not State.PENDING
            and latest.last_update_status is not UpdateStatus.IN_PROGRESS
        ):
            return
        failure: tuple[str, str] | None = None
        try:
            await asyncio.to_thread(self._code.unpack, latest.code_key)
        except Exception as exc:  # a zip that passed the checks but cannot be unpacked
            log.warning("unpacking %s failed: %s", name, exc)
            failure = ("InvalidZipFileException", f"Could not unpack the deployment package: {exc}")
        async with self._lock(scope, name):
            current = await self.find(scope, name)
            if current is None or current.latest.revision_id != latest.revision_id:
                return
            if failure is None:
                settled = latest.replace(
                    state=State.ACTIVE,
                    state_reason=None,
                    state_reason_code=None,
                    last_update_status=UpdateStatus.SUCCESSFUL,
                    last_update_status_reason=None,
                    last_update_status_reason_code=None,
                    revision_id=_revision(),
                )
            elif latest.state is State.PENDING:
                settled = latest.replace(
                    state=State.FAILED,
                    state_reason=failure[1],
                    state_reason_code=failure[0],
                    last_update_status=UpdateStatus.FAILED,
                    last_update_status_reason=failure[1],
                    last_update_status_reason_code=failure[0],
                    revision_id=_revision(),
                )
            else:
                settled = latest.replace(
                    last_update_status=UpdateStatus.FAILED,
                    last_update_status_reason=failure[1],
                    last_update_status_reason_code=failure[0],
                    revision_id=_revision(),
                )
            ops: list[Put | Delete] = [
                Put(
                    FUNCTION,
                    scope.key,
                    name,
                    Function(
                        **{
                            **_fields(current),
                            "latest": settled,
                            "serving": settled if failure is None else current.serving,
                        }
                    ).to_doc(),
                )
            ]
            if latest.state is State.PENDING and current.last_published is not None:
                # A version published by the create itself settles with $LATEST.
                version = settled.replace(version=current.last_published)
                ops.append(
                    Put(VERSION, scope.key, version_key(name, version.version), version.to_doc())
                )
            await self._storage.write(ops)
        self._changed(scope, name)

    # --- helpers ----------------------------------------------------------------------

    def _lock(self, scope: Scope, name: str) -> asyncio.Lock:
        return self._locks.setdefault((scope.key, name), asyncio.Lock())

    def _now(self) -> str:
        return lambda_timestamp(self._clock.utcnow())

    def _changed(self, scope: Scope, name: str) -> None:
        for listener in self.on_change:
            listener(scope, name)

    async def _save(self, scope: Scope, function: Function) -> None:
        await self._storage.write([Put(FUNCTION, scope.key, function.name, function.to_doc())])
        self._changed(scope, function.name)

    async def _get_for_update(self, scope: Scope, name: str, revision_id: str | None) -> Function:
        function = await self.get(scope, name)
        latest = function.latest
        if latest.state is State.PENDING:
            raise messages.function_in_state(latest.state.value)
        if latest.last_update_status is UpdateStatus.IN_PROGRESS:
            raise messages.update_in_progress(scope.function_arn(name))
        if revision_id is not None and revision_id != latest.revision_id:
            raise messages.revision_mismatch()
        return function

    async def _start_update(
        self, scope: Scope, function: Function, config: FunctionConfig
    ) -> FunctionConfig:
        config = config.replace(
            last_modified=self._now(),
            revision_id=_revision(),
            last_update_status=UpdateStatus.IN_PROGRESS,
            last_update_status_reason=CREATING_REASON,
            last_update_status_reason_code="Creating",
        )
        await self._save(scope, Function(**{**_fields(function), "latest": config}))
        self._settle_later(scope, function.name)
        return config

    def _publish(
        self, function: Function, description: str | None
    ) -> tuple[Function, FunctionConfig]:
        number = str(function.next_version)
        version = function.latest.replace(
            version=number,
            description=description if description is not None else function.latest.description,
            revision_id=_revision(),
        )
        if version.state is State.ACTIVE:
            version = version.replace(last_update_status=UpdateStatus.SUCCESSFUL)
        updated = Function(
            **{
                **_fields(function),
                "next_version": function.next_version + 1,
                "last_published": number,
            }
        )
        return updated, version

    async def _delete_version(self, scope: Scope, function: Function, qualifier: str) -> None:
        if qualifier == LATEST:
            raise InvalidParameterValueException(
                "$LATEST version cannot be deleted without deleting the function."
            )
        if not qualifier.isdigit():
            raise InvalidParameterValueException("Deletion of aliases is not currently supported.")
        key = version_key(function.name, qualifier)
        if await self._storage.get(VERSION, scope.key, key) is None:
            raise messages.function_not_found(scope.function_arn(function.name))
        aliases = await self._storage.scan(ALIAS, scope.key, prefix=f"{function.name}\x1f")
        users = sorted(
            doc["name"]
            for _, _, doc in aliases
            if doc["function_version"] == qualifier or qualifier in doc["additional_weights"]
        )
        if users:
            # UNVERIFIED wording (spec 12.7).
            raise ResourceConflictException(
                "Unable to delete version because the following aliases reference it:"
                f" [{', '.join(users)}]"
            )
        await self._storage.write(
            [
                Delete(VERSION, scope.key, key),
                Delete(PROVISIONED, scope.key, f"{function.name}\x1f{qualifier}"),
            ]
        )

    def _apply(
        self, scope: Scope, config: FunctionConfig, settings: FunctionSettings
    ) -> FunctionConfig:
        """Check settings as AWS does and fold them into a configuration."""
        changes: dict[str, Any] = {}
        if settings.runtime is not None:
            self._runtimes.check(settings.runtime)
            changes["runtime"] = settings.runtime
            changes["runtime_version_arn"] = runtime_version_arn(scope.region, settings.runtime)
        for field in (
            "role",
            "handler",
            "description",
            "ephemeral_storage",
            "tracing_mode",
            "architectures",
            "dead_letter_target",
            "kms_key_arn",
        ):
            value = getattr(settings, field)
            if value is not None:
                # An empty DLQ target or key ARN clears the setting.
                clears = field in ("dead_letter_target", "kms_key_arn")
                changes[field] = (value or None) if clears else value
        if settings.timeout is not None:
            _check_max("timeout", settings.timeout, MAX_TIMEOUT)
            changes["timeout"] = settings.timeout
        if settings.memory_size is not None:
            _check_max("memorySize", settings.memory_size, MAX_MEMORY)
            changes["memory_size"] = settings.memory_size
        if settings.environment is not None:
            _check_environment(settings.environment)
            changes["environment"] = dict(settings.environment)
        if settings.layers is not None:
            changes["layers"] = _check_layers(settings.layers)
        if settings.logging is not None:
            changes["logging"] = _logging(config.logging, settings.logging)
        return config.replace(**changes)


def runtime_version_arn(region: str, runtime: str) -> str:
    digest = hashlib.sha256(f"lamina:{runtime}".encode()).hexdigest()
    return f"arn:aws:lambda:{region}::runtime:{digest}"


def _blank_config(
    name: str, package: CodePackage, settings: FunctionSettings, now: str
) -> FunctionConfig:
    assert settings.runtime is not None and settings.handler is not None
    return FunctionConfig(
        name=name,
        version=LATEST,
        runtime=settings.runtime,
        role=settings.role or "",
        handler=settings.handler,
        code_sha256=package.sha256,
        code_size=package.size,
        logging=LoggingConfig(log_group=f"/aws/lambda/{name}"),
        revision_id=_revision(),
        last_modified=now,
        runtime_version_arn="",
    )


def _fields(function: Function) -> dict[str, Any]:
    return {
        "name": function.name,
        "latest": function.latest,
        "tags": function.tags,
        "next_version": function.next_version,
        "last_published": function.last_published,
        "serving": function.serving,
    }


def _revision() -> str:
    return str(uuid.uuid4())


def _check_max(member: str, value: int, limit: int) -> None:
    if value > limit:
        raise ValidationException(
            f"1 validation error detected: Value '{value}' at '{member}' failed to satisfy"
            f" constraint: Member must have value less than or equal to {limit}"
        )


def _check_environment(variables: dict[str, str]) -> None:
    reserved = [key for key in variables if key in RESERVED_ENV_KEYS]
    if reserved:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment"
            " variables you have provided contains reserved keys that are currently not"
            " supported for modification. Reserved keys used in this request:"
            f" {', '.join(reserved)}"
        )
    measured = json.dumps(variables, separators=(",", ":"))
    if len(measured.encode()) > MAX_ENVIRONMENT_BYTES:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment"
            f" variables you have provided exceeded the 4KB limit. String measured: {measured}"
        )


def _check_layers(layers: tuple[str, ...]) -> tuple[str, ...]:
    if len(layers) > MAX_LAYERS:
        raise InvalidParameterValueException("Cannot reference more than 5 layers.")
    for arn in layers:
        # No layer has been published here yet, so every referenced version is unknown.
        raise InvalidParameterValueException(f"Layer version {arn} does not exist.")
    return layers


def _logging(current: LoggingConfig, wire: dict[str, str]) -> LoggingConfig:
    log_format = wire.get("LogFormat", current.log_format)
    app_level = wire.get("ApplicationLogLevel", current.application_log_level)
    system_level = wire.get("SystemLogLevel", current.system_log_level)
    if log_format == "JSON":
        app_level = app_level or "INFO"
        system_level = system_level or "INFO"
    elif "ApplicationLogLevel" in wire or "SystemLogLevel" in wire:
        raise InvalidParameterValueException(
            "Advanced logging controls can only be configured when the log format is JSON."
        )  # UNVERIFIED wording
    else:
        app_level = system_level = None
    return LoggingConfig(
        log_group=wire.get("LogGroup", current.log_group),
        log_format=log_format,
        application_log_level=app_level,
        system_log_level=system_level,
    )
