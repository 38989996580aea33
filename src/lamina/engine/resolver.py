"""Which configuration an invocation runs: qualifier → version, with a warm cache.

The cache holds each function's records as last read from storage and is dropped whenever
the control plane reports a change, so the hot path reads no database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lamina.arns import LATEST
from lamina.engine.routing import pick_version
from lamina.errors import InvalidZipFileException
from lamina.lambda_ import messages
from lamina.lambda_.aliases import AliasService
from lamina.lambda_.functions import FunctionService
from lamina.lambda_.models import Alias, Function, FunctionConfig, State, UpdateStatus
from lamina.lambda_.scope import Scope

MAX_BARE_NAME = 64


@dataclass(frozen=True, slots=True)
class Target:
    config: FunctionConfig  # the version that runs
    invoked_arn: str  # as the caller addressed it: unqualified, or with its qualifier

    @property
    def executed_version(self) -> str:
        return self.config.version


@dataclass(slots=True)
class _Entry:
    function: Function
    versions: dict[str, FunctionConfig] = field(default_factory=dict)
    aliases: dict[str, Alias | None] = field(default_factory=dict)


class FunctionResolver:
    def __init__(
        self,
        functions: FunctionService,
        aliases: AliasService,
        draw: Callable[[], float] | None = None,
    ) -> None:
        self._functions = functions
        self._aliases = aliases
        self._draw = draw
        self._cache: dict[tuple[str, str], _Entry] = {}
        functions.on_change.append(self.forget)
        aliases.on_change.append(self.forget)

    def forget(self, scope: Scope, name: str) -> None:
        self._cache.pop((scope.key, name), None)

    async def resolve(self, scope: Scope, name: str, qualifier: str | None) -> Target:
        entry = await self._entry(scope, name, qualifier)
        invoked_arn = scope.function_arn(name, qualifier)
        if qualifier is None or qualifier == LATEST:
            return Target(_invocable(entry.function), invoked_arn)
        if qualifier.isdigit():
            return Target(await self._version(scope, entry, qualifier), invoked_arn)
        alias = await self._alias(scope, entry, qualifier)
        if alias is None:
            raise messages.function_not_found(invoked_arn)
        version = alias.function_version
        if alias.additional_weights:
            version = pick_version(version, alias.additional_weights, *_draws(self._draw))
        if version == LATEST:
            return Target(_invocable(entry.function), invoked_arn)
        return Target(await self._version(scope, entry, version), invoked_arn)

    async def _entry(self, scope: Scope, name: str, qualifier: str | None) -> _Entry:
        entry = self._cache.get((scope.key, name))
        if entry is not None:
            return entry
        function = await self._functions.find(scope, name) if len(name) <= MAX_BARE_NAME else None
        if function is None:
            raise messages.function_not_found(scope.function_arn(name, qualifier or LATEST))
        entry = _Entry(function)
        self._cache[(scope.key, name)] = entry
        return entry

    async def _version(self, scope: Scope, entry: _Entry, version: str) -> FunctionConfig:
        config = entry.versions.get(version)
        if config is None:
            config = await self._functions.get_version(scope, entry.function.name, version)
            entry.versions[version] = config
        _check_state(config)
        return config

    async def _alias(self, scope: Scope, entry: _Entry, name: str) -> Alias | None:
        if name not in entry.aliases:
            entry.aliases[name] = await self._aliases.find(scope, entry.function.name, name)
        return entry.aliases[name]


def _draws(draw: Callable[[], float] | None) -> tuple[Callable[[], float], ...]:
    return () if draw is None else (draw,)


def _invocable(function: Function) -> FunctionConfig:
    """$LATEST as invocations see it: the previous settings while an update is in progress."""
    latest = function.latest
    if latest.last_update_status is UpdateStatus.IN_PROGRESS and function.serving is not None:
        return function.serving
    _check_state(latest)
    if latest.last_update_status is UpdateStatus.FAILED and function.serving is not None:
        return function.serving
    return latest


def _check_state(config: FunctionConfig) -> None:
    if config.state is State.ACTIVE:
        return
    if config.state is State.FAILED and config.state_reason_code == "InvalidZipFileException":
        raise InvalidZipFileException(config.state_reason)
    raise messages.function_in_state(config.state.value)
