"""Asynchronous invocation settings per function, version and alias (event invoke configs)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from lamina.arns import LATEST, parse_function_ref
from lamina.clock import Clock
from lamina.errors import InvalidParameterValueException, ResourceNotFoundException
from lamina.lambda_.aliases import AliasService
from lamina.lambda_.functions import EVENT_INVOKE_CONFIG, FunctionService
from lamina.lambda_.scope import Scope
from lamina.storage import Delete, Put, Storage

FUNCTION_MISSING = "The function doesn't exist."
# Services an asynchronous destination may name (S3 only for failures).
DESTINATION_SERVICES = ("sqs", "sns", "lambda", "events", "s3")
_ARN = re.compile(r"arn:[^:]+:([^:]+):")


@dataclass(frozen=True, slots=True)
class EventInvokeConfig:
    function_name: str
    qualifier: str  # $LATEST, a version number or an alias
    last_modified: float  # epoch seconds
    maximum_retry_attempts: int | None = None
    maximum_event_age: int | None = None
    on_success: str | None = None
    on_failure: str | None = None


class EventInvokeConfigService:
    def __init__(
        self, storage: Storage, functions: FunctionService, aliases: AliasService, clock: Clock
    ) -> None:
        self._storage = storage
        self._functions = functions
        self._aliases = aliases
        self._clock = clock
        # Read on every asynchronous attempt, written rarely: kept in memory once read.
        self._cache: dict[tuple[str, str], EventInvokeConfig | None] = {}
        functions.on_delete.append(self._forget_function)

    def _forget_function(self, scope: Scope, name: str) -> None:
        prefix = f"{name}\x1f"
        for key in [k for k in self._cache if k[0] == scope.key and k[1].startswith(prefix)]:
            del self._cache[key]

    async def find(
        self, scope: Scope, name: str, qualifier: str | None
    ) -> EventInvokeConfig | None:
        key = (scope.key, _key(name, qualifier))
        if key not in self._cache:
            doc = await self._storage.get(EVENT_INVOKE_CONFIG, scope.key, key[1])
            self._cache[key] = None if doc is None else EventInvokeConfig(**doc)
        return self._cache[key]

    async def get(self, scope: Scope, name: str, qualifier: str | None) -> EventInvokeConfig:
        config = await self.find(scope, name, qualifier)
        if config is None:
            raise _missing(scope, name, qualifier)
        return config

    async def list(self, scope: Scope, name: str) -> list[EventInvokeConfig]:
        if await self._functions.find(scope, name) is None:
            raise ResourceNotFoundException(FUNCTION_MISSING)
        rows = await self._storage.scan(EVENT_INVOKE_CONFIG, scope.key, prefix=f"{name}\x1f")
        return [EventInvokeConfig(**doc) for _, _, doc in rows]

    async def put(
        self, scope: Scope, name: str, qualifier: str | None, settings: dict[str, Any]
    ) -> EventInvokeConfig:
        """Replace: whatever is not given is removed."""
        await self._check_target(scope, name, qualifier)
        if not settings:
            raise InvalidParameterValueException(
                "You must specify at least one of error handling or destination setting."
            )
        config = EventInvokeConfig(name, qualifier or LATEST, self._clock.now(), **settings)
        await self._check_destinations(scope, name, config)
        await self._save(scope, config)
        return config

    async def update(
        self, scope: Scope, name: str, qualifier: str | None, settings: dict[str, Any]
    ) -> EventInvokeConfig:
        """Merge: only what is given changes."""
        await self._check_target(scope, name, qualifier)
        current = await self.get(scope, name, qualifier)
        config = replace(current, last_modified=self._clock.now(), **settings)
        await self._check_destinations(scope, name, config)
        await self._save(scope, config)
        return config

    async def delete(self, scope: Scope, name: str, qualifier: str | None) -> None:
        await self.get(scope, name, qualifier)
        await self._storage.write([Delete(EVENT_INVOKE_CONFIG, scope.key, _key(name, qualifier))])
        self._cache.pop((scope.key, _key(name, qualifier)), None)

    async def _save(self, scope: Scope, config: EventInvokeConfig) -> None:
        key = _key(config.function_name, config.qualifier)
        await self._storage.write([Put(EVENT_INVOKE_CONFIG, scope.key, key, asdict(config))])
        self._cache[(scope.key, key)] = config

    async def _check_target(self, scope: Scope, name: str, qualifier: str | None) -> None:
        if await self._functions.find(scope, name) is None:
            raise ResourceNotFoundException(FUNCTION_MISSING)
        if qualifier is None or qualifier == LATEST:
            return
        if qualifier.isdigit():
            try:
                await self._functions.get_version(scope, name, qualifier)
            except ResourceNotFoundException as missing:
                raise ResourceNotFoundException(FUNCTION_MISSING) from missing
        elif await self._aliases.find(scope, name, qualifier) is None:
            raise ResourceNotFoundException(FUNCTION_MISSING)

    async def _check_destinations(self, scope: Scope, name: str, config: EventInvokeConfig) -> None:
        for side, arn in (("onSuccess", config.on_success), ("onFailure", config.on_failure)):
            if not arn:
                continue
            match = _ARN.match(arn)
            service = match[1] if match else ""
            if service not in DESTINATION_SERVICES or (service == "s3" and side == "onSuccess"):
                raise InvalidParameterValueException(
                    f"The provided destination config {_java_config(config)} is invalid."
                )
            if service == "lambda":
                ref = parse_function_ref(arn)
                if ref is not None and ref.name == name:
                    raise InvalidParameterValueException(
                        "You can't specify the function as a destination for itself."
                    )
                owner = (
                    Scope(ref.account_id or scope.account_id, ref.region or scope.region)
                    if (ref is not None)
                    else scope
                )
                if ref is None or await self._functions.find(owner, ref.name) is None:
                    raise InvalidParameterValueException(f"The destination ARN {arn} is invalid.")


def _key(name: str, qualifier: str | None) -> str:
    return f"{name}\x1f{qualifier or LATEST}"


def _missing(scope: Scope, name: str, qualifier: str | None) -> ResourceNotFoundException:
    arn = scope.function_arn(name, qualifier or LATEST)
    return ResourceNotFoundException(f"The function {arn} doesn't have an EventInvokeConfig")


def _java_config(config: EventInvokeConfig) -> str:
    """How AWS prints the DestinationConfig it refuses (Java toString)."""

    def side(label: str, arn: str | None) -> str:
        return f"{label}(destination={arn})" if arn else "null"

    return (
        f"DestinationConfig(onSuccess={side('OnSuccess', config.on_success)},"
        f" onFailure={side('OnFailure', config.on_failure)})"
    )
