"""Aliases: named pointers to a version, optionally splitting traffic with a second one."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from lamina.arns import LATEST
from lamina.errors import (
    InvalidParameterValueException,
    ResourceConflictException,
    ResourceNotFoundException,
)
from lamina.lambda_ import messages
from lamina.lambda_.functions import ALIAS, PROVISIONED, FunctionService
from lamina.lambda_.models import Alias
from lamina.lambda_.scope import Scope
from lamina.storage import Delete, Put, Storage


def alias_key(function_name: str, alias: str) -> str:
    return f"{function_name}\x1f{alias}"


class AliasService:
    def __init__(self, storage: Storage, functions: FunctionService) -> None:
        self._storage = storage
        self._functions = functions
        # Told when an alias changes (the invoke engine's cache).
        self.on_change: list[Callable[[Scope, str], None]] = []

    async def find(self, scope: Scope, function_name: str, name: str) -> Alias | None:
        doc = await self._storage.get(ALIAS, scope.key, alias_key(function_name, name))
        return None if doc is None else Alias.from_doc(doc)

    async def get(self, scope: Scope, function_name: str, name: str) -> Alias:
        await self._functions.get(scope, function_name)
        alias = await self.find(scope, function_name, name)
        if alias is None:
            raise messages.alias_not_found(scope.function_arn(function_name, name))
        return alias

    async def list(self, scope: Scope, function_name: str) -> list[Alias]:
        await self._functions.get(scope, function_name)
        rows = await self._storage.scan(ALIAS, scope.key, prefix=f"{function_name}\x1f")
        return [Alias.from_doc(doc) for _, _, doc in rows]

    async def create(
        self,
        scope: Scope,
        function_name: str,
        name: str,
        function_version: str,
        description: str,
        weights: dict[str, float] | None,
    ) -> Alias:
        await self._check_target(scope, function_name, function_version, weights or {})
        if await self.find(scope, function_name, name) is not None:
            raise ResourceConflictException(
                f"Alias already exists: {scope.function_arn(function_name, name)}"
            )
        alias = Alias(
            function_name,
            name,
            function_version,
            str(uuid.uuid4()),
            description,
            dict(weights or {}),
        )
        await self._save(scope, alias)
        return alias

    async def update(
        self,
        scope: Scope,
        function_name: str,
        name: str,
        *,
        function_version: str | None,
        description: str | None,
        weights: dict[str, float] | None,
        revision_id: str | None,
    ) -> Alias:
        await self._functions.get(scope, function_name)
        alias = await self.find(scope, function_name, name)
        if alias is None:
            raise ResourceNotFoundException(
                f"Alias not found: {scope.function_arn(function_name, name)}"
            )
        if revision_id is not None and revision_id != alias.revision_id:
            raise messages.revision_mismatch()
        version = function_version if function_version is not None else alias.function_version
        new_weights = alias.additional_weights if weights is None else dict(weights)
        await self._check_target(scope, function_name, version, new_weights)
        updated = Alias(
            function_name,
            name,
            version,
            str(uuid.uuid4()),
            description if description is not None else alias.description,
            new_weights,
        )
        await self._save(scope, updated)
        return updated

    async def delete(self, scope: Scope, function_name: str, name: str) -> None:
        await self._functions.get(scope, function_name)
        await self._storage.write(
            [
                Delete(ALIAS, scope.key, alias_key(function_name, name)),
                Delete(PROVISIONED, scope.key, alias_key(function_name, name)),
            ]
        )
        self._changed(scope, function_name)

    async def _save(self, scope: Scope, alias: Alias) -> None:
        key = alias_key(alias.function_name, alias.name)
        await self._storage.write([Put(ALIAS, scope.key, key, alias.to_doc())])
        self._changed(scope, alias.function_name)

    def _changed(self, scope: Scope, function_name: str) -> None:
        for listener in self.on_change:
            listener(scope, function_name)

    async def _check_target(
        self, scope: Scope, function_name: str, version: str, weights: dict[str, float]
    ) -> None:
        if len(weights) > 1:
            raise InvalidParameterValueException(
                "Number of items in AdditionalVersionWeights cannot be greater than 1"
            )
        await self._functions.get_version(scope, function_name, version)
        for extra in weights:
            if version == LATEST:
                raise InvalidParameterValueException(
                    "$LATEST is not supported for an alias pointing to more than 1 version"
                )
            if extra == version:
                raise InvalidParameterValueException(
                    f"Invalid function version {version}. Function version {version} is already"
                    " included in routing configuration."
                )
            await self._functions.get_version(scope, function_name, extra)
