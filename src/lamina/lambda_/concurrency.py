"""Reserved and provisioned concurrency settings, with AWS's checks and messages."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace

from lamina.arns import LATEST
from lamina.background import BackgroundTasks
from lamina.clock import Clock, lambda_timestamp
from lamina.engine.admission import LocalAdmission
from lamina.errors import (
    InvalidParameterValueException,
    ProvisionedConcurrencyConfigNotFoundException,
    ResourceConflictException,
)
from lamina.lambda_ import messages
from lamina.lambda_.aliases import AliasService
from lamina.lambda_.functions import PROVISIONED, RESERVED, FunctionService
from lamina.lambda_.models import FunctionConfig
from lamina.lambda_.scope import Scope
from lamina.storage import Delete, Put, Storage

log = logging.getLogger("lamina.concurrency")

FUNCTIONS_ONLY = (
    "This operation is permitted on Lambda functions only. Aliases and versions do not support"
    " this operation. Please specify either a function name or an unqualified function ARN."
)

# Starts the environments of a provisioned configuration; True when all of them initialised.
Provisioner = Callable[[Scope, FunctionConfig, int], Awaitable[bool]]
# Releases a function's provisioned environments except those of the given image keys.
Releaser = Callable[[Scope, str, set[str]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ProvisionedConfig:
    function_name: str
    qualifier: str
    requested: int
    status: str  # IN_PROGRESS | READY | FAILED
    last_modified: str
    allocated: int = 0
    status_reason: str | None = None


class ConcurrencyService:
    def __init__(
        self,
        storage: Storage,
        functions: FunctionService,
        aliases: AliasService,
        admission: LocalAdmission,
        clock: Clock,
    ) -> None:
        self._storage = storage
        self._functions = functions
        self._aliases = aliases
        self._admission = admission
        self._clock = clock
        self.provisioner: Provisioner | None = None
        self.releaser: Releaser | None = None
        self.image_key: Callable[[Scope, FunctionConfig], str] | None = None
        self._tasks = BackgroundTasks()
        functions.on_change.append(self._changed)
        aliases.on_change.append(self._changed)

    # --- reserved -----------------------------------------------------------------------

    async def load(self) -> None:
        """At start-up: reservations into admission, provisioned environments started again."""
        for scope_key, name, doc in await self._storage.scan(RESERVED):
            self._admission.set_reserved(scope_key, name, doc["reserved"])
        for scope_key, _, doc in await self._storage.scan(PROVISIONED):
            account, region = scope_key.split("/", 1)
            config = ProvisionedConfig(**doc)
            self._start_provisioning(Scope(account, region), config)

    async def functions_get(self, scope: Scope, name: str) -> None:
        """404 with AWS's text when the function does not exist."""
        await self._functions.get(scope, name)

    async def get_reserved(self, scope: Scope, name: str) -> int | None:
        doc = await self._storage.get(RESERVED, scope.key, name)
        return None if doc is None else int(doc["reserved"])

    async def put_reserved(self, scope: Scope, name: str, qualifier: str | None, n: int) -> int:
        if qualifier is not None:
            raise InvalidParameterValueException(FUNCTIONS_ONLY)
        if await self._functions.find(scope, name) is None:
            raise messages.function_not_found(scope.function_arn(name, LATEST))
        current = await self.get_reserved(scope, name) or 0
        limits = self._admission.limits
        others = self._admission.reserved_total(scope.key) - current
        if limits.account - others - n < limits.min_unreserved:
            raise InvalidParameterValueException(
                "Specified ReservedConcurrentExecutions for function decreases account's"
                f" UnreservedConcurrentExecution below its minimum value of"
                f" [{limits.min_unreserved}]."
            )
        provisioned = sum(c.requested for c in await self.list_provisioned(scope, name))
        if n < provisioned:
            raise InvalidParameterValueException(
                f" ReservedConcurrentExecutions  {n} should not be lower than function's total"
                f" provisioned concurrency [{provisioned}]."
            )
        await self._storage.write([Put(RESERVED, scope.key, name, {"reserved": n})])
        self._admission.set_reserved(scope.key, name, n)
        return n

    async def delete_reserved(self, scope: Scope, name: str, qualifier: str | None) -> None:
        if qualifier is not None:
            raise InvalidParameterValueException(FUNCTIONS_ONLY)
        if await self._functions.find(scope, name) is None:
            raise messages.function_not_found(scope.function_arn(name, LATEST))
        await self._storage.write([Delete(RESERVED, scope.key, name)])
        self._admission.set_reserved(scope.key, name, None)

    def forget(self, scope: Scope, name: str) -> None:
        """The function is gone: so is its reservation (its records went with it)."""
        self._admission.set_reserved(scope.key, name, None)
        self._admission.set_provisioned(scope.key, name, 0)

    # --- provisioned --------------------------------------------------------------------

    async def get_provisioned(self, scope: Scope, name: str, qualifier: str) -> ProvisionedConfig:
        await self._target(scope, name, qualifier, for_put=False)
        doc = await self._storage.get(PROVISIONED, scope.key, f"{name}\x1f{qualifier}")
        if doc is None:
            raise ProvisionedConcurrencyConfigNotFoundException(
                "No Provisioned Concurrency Config found for this function"
            )
        return ProvisionedConfig(**doc)

    async def list_provisioned(self, scope: Scope, name: str) -> list[ProvisionedConfig]:
        rows = await self._storage.scan(PROVISIONED, scope.key, prefix=f"{name}\x1f")
        return [ProvisionedConfig(**doc) for _, _, doc in rows]

    async def put_provisioned(
        self, scope: Scope, name: str, qualifier: str, n: int
    ) -> ProvisionedConfig:
        version = await self._target(scope, name, qualifier, for_put=True)
        existing = await self.list_provisioned(scope, name)
        aliases = {a.name: a for a in await self._aliases.list(scope, name)}
        for other in existing:
            if other.qualifier == qualifier:
                continue
            other_version = (
                aliases[other.qualifier].function_version
                if (other.qualifier in aliases)
                else other.qualifier
            )
            if other_version == version.version:
                raise ResourceConflictException(
                    "Alias can't be used for Provisioned Concurrency configuration on an already"
                    " Provisioned version"
                    if qualifier in aliases
                    else "Version is pointed by a Provisioned Concurrency alias"
                )
        self._check_provisioned_limits(
            scope, await self.get_reserved(scope, name), n, existing, qualifier
        )
        config = ProvisionedConfig(
            name, qualifier, n, "IN_PROGRESS", lambda_timestamp(self._clock.utcnow())
        )
        await self._save(scope, config)
        self._start_provisioning(scope, config)
        return config

    async def delete_provisioned(self, scope: Scope, name: str, qualifier: str) -> None:
        await self._target(scope, name, qualifier, for_put=False)
        await self._storage.write([Delete(PROVISIONED, scope.key, f"{name}\x1f{qualifier}")])
        self._changed(scope, name)

    def _changed(self, scope: Scope, name: str) -> None:
        """Versions or aliases changed: provisioned environments nobody configures go."""
        if self.releaser is not None:
            self._tasks.spawn(self._release_unwanted(scope, name))

    async def _release_unwanted(self, scope: Scope, name: str) -> None:
        wanted: set[str] = set()
        for config in await self.list_provisioned(scope, name):
            try:
                version = await self._target(scope, name, config.qualifier, for_put=True)
            except Exception:
                continue
            if self.image_key is not None:
                wanted.add(self.image_key(scope, version))
        assert self.releaser is not None
        await self.releaser(scope, name, wanted)
        await self._count_ready(scope, name)

    async def close(self) -> None:
        """Stop provisioning; the next start provisions every stored configuration again."""
        await self._tasks.cancel_all()

    def _check_provisioned_limits(
        self,
        scope: Scope,
        reserved: int | None,
        n: int,
        existing: list[ProvisionedConfig],
        qualifier: str,
    ) -> None:
        if reserved is not None:
            total = n + sum(c.requested for c in existing if c.qualifier != qualifier)
            if total > reserved:
                raise InvalidParameterValueException(
                    "Requested Provisioned Concurrency should not be greater than the"
                    " reservedConcurrentExecution for function"
                )
            return
        limits = self._admission.limits
        unreserved = self._admission.unreserved_pool(scope.key)
        if n > unreserved:
            raise InvalidParameterValueException(
                "Specified ConcurrentExecutions for function is greater than account's unreserved"
                f" concurrency [{unreserved}]."
            )
        if unreserved - n < limits.min_unreserved:
            raise InvalidParameterValueException(
                "Specified ConcurrentExecutions for function decreases account's"
                f" UnreservedConcurrentExecution below its minimum value of"
                f" [{limits.min_unreserved}]."
            )

    async def _target(
        self, scope: Scope, name: str, qualifier: str, *, for_put: bool
    ) -> FunctionConfig:
        """The published version a qualifier names; AWS's errors for anything else."""
        if qualifier == LATEST:
            raise InvalidParameterValueException(
                "Provisioned Concurrency Configs cannot be applied to unpublished function"
                " versions."
                if for_put
                else "The function resource provided must be an alias or a published version."
            )
        if qualifier.isdigit():
            return await self._functions.get_version(scope, name, qualifier)
        alias = None
        if await self._functions.find(scope, name) is not None:
            alias = await self._aliases.find(scope, name, qualifier)
        if alias is None:
            raise messages.alias_not_found(scope.function_arn(name, qualifier))
        return await self._functions.get_version(scope, name, alias.function_version)

    async def _save(self, scope: Scope, config: ProvisionedConfig) -> None:
        key = f"{config.function_name}\x1f{config.qualifier}"
        await self._storage.write([Put(PROVISIONED, scope.key, key, asdict(config))])

    def _start_provisioning(self, scope: Scope, config: ProvisionedConfig) -> None:
        self._tasks.spawn(self._provision(scope, config))

    async def _provision(self, scope: Scope, config: ProvisionedConfig) -> None:
        if self.provisioner is None:
            return
        try:
            version = await self._target(
                scope, config.function_name, config.qualifier, for_put=True
            )
            ready = await self.provisioner(scope, version, config.requested)
        except Exception:
            log.exception("provisioning %s:%s failed", config.function_name, config.qualifier)
            ready = False
        current = await self._storage.get(
            PROVISIONED, scope.key, f"{config.function_name}\x1f{config.qualifier}"
        )
        if current is None or ProvisionedConfig(**current) != config:
            return  # deleted or replaced meanwhile
        if ready:
            settled = replace(config, status="READY", allocated=config.requested)
        else:
            settled = replace(config, status="FAILED", status_reason="FUNCTION_ERROR_INIT_FAILURE")
        await self._save(scope, settled)
        await self._count_ready(scope, config.function_name)

    async def _count_ready(self, scope: Scope, name: str) -> None:
        """Tell admission how much of the reservation the ready environments set aside."""
        total = sum(
            c.allocated for c in await self.list_provisioned(scope, name) if c.status == "READY"
        )
        self._admission.set_provisioned(scope.key, name, total)
