"""Lambda control-plane operations: wire parameters in, wire shapes out."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from lamina.arns import LATEST, parse_function_ref
from lamina.engine.admission import LocalAdmission
from lamina.errors import InvalidParameterValueException
from lamina.lambda_ import messages, wire
from lamina.lambda_.aliases import AliasService
from lamina.lambda_.code_store import MAX_UNZIPPED_BYTES, MAX_ZIPPED_BYTES
from lamina.lambda_.concurrency import ConcurrencyService
from lamina.lambda_.functions import FunctionService, FunctionSettings
from lamina.lambda_.scope import Scope

Params = dict[str, Any]
Output = dict[str, Any]
T = TypeVar("T")

TOTAL_CODE_SIZE_LIMIT = 80_530_636_800
DEFAULT_PAGE = 50


@dataclass(frozen=True, slots=True)
class RequestContext:
    scope: Scope
    request_id: str
    base_url: str  # how the client reached us, for URLs we hand back
    headers: Mapping[str, str]  # lower-case names; for what the model does not carry


Handler = Callable[[RequestContext, Params], Awaitable[Output]]


class LambdaControlPlane:
    """One method per operation, named as in the service model."""

    def __init__(
        self,
        functions: FunctionService,
        aliases: AliasService,
        concurrency: ConcurrencyService,
        admission: LocalAdmission,
    ) -> None:
        self.functions = functions
        self.aliases = aliases
        self._concurrency = concurrency
        self._admission = admission

    def handlers(self) -> dict[str, Handler]:
        return {
            "CreateFunction": self.create_function,
            "GetFunction": self.get_function,
            "GetFunctionConfiguration": self.get_function_configuration,
            "ListFunctions": self.list_functions,
            "DeleteFunction": self.delete_function,
            "UpdateFunctionCode": self.update_function_code,
            "UpdateFunctionConfiguration": self.update_function_configuration,
            "PublishVersion": self.publish_version,
            "ListVersionsByFunction": self.list_versions_by_function,
            "CreateAlias": self.create_alias,
            "GetAlias": self.get_alias,
            "UpdateAlias": self.update_alias,
            "DeleteAlias": self.delete_alias,
            "ListAliases": self.list_aliases,
            "GetAccountSettings": self.get_account_settings,
            "TagResource": self.tag_resource,
            "UntagResource": self.untag_resource,
            "ListTags": self.list_tags,
        }

    # --- functions --------------------------------------------------------------------

    async def create_function(self, ctx: RequestContext, p: Params) -> Output:
        name, qualifier = ctx.scope.resolve(p["FunctionName"])
        if qualifier is not None:
            raise InvalidParameterValueException(
                "Function name cannot include a qualifier when creating a function."
            )  # UNVERIFIED wording
        if p.get("PackageType", "Zip") != "Zip":
            raise InvalidParameterValueException(
                "Lamina cannot run container image functions yet; use PackageType Zip."
            )
        zip_file = _zip_from(p.get("Code", {}))
        config = await self.functions.create(
            ctx.scope,
            name,
            _settings(p),
            zip_file,
            tags=p.get("Tags") or {},
            publish=bool(p.get("Publish")),
        )
        return wire.function_configuration(config, ctx.scope)

    async def get_function(self, ctx: RequestContext, p: Params) -> Output:
        name, qualifier = ctx.scope.resolve(p["FunctionName"], p.get("Qualifier"))
        config = await self._config(ctx.scope, name, qualifier)
        function = await self.functions.get(ctx.scope, name)
        out: Output = {
            "Configuration": wire.function_configuration(config, ctx.scope, qualifier=qualifier),
            "Code": {
                "RepositoryType": "S3",
                "Location": f"{ctx.base_url}/_lamina/code/{config.code_key}.zip",
            },
        }
        if function.tags:
            out["Tags"] = dict(function.tags)
        reserved = await self._concurrency.get_reserved(ctx.scope, name)
        if reserved is not None:
            out["Concurrency"] = {"ReservedConcurrentExecutions": reserved}
        return out

    async def get_function_configuration(self, ctx: RequestContext, p: Params) -> Output:
        name, qualifier = ctx.scope.resolve(p["FunctionName"], p.get("Qualifier"))
        config = await self._config(ctx.scope, name, qualifier)
        return wire.function_configuration(config, ctx.scope, qualifier=qualifier)

    async def list_functions(self, ctx: RequestContext, p: Params) -> Output:
        every_version = p.get("FunctionVersion") == "ALL"
        items: list[tuple[str, Output]] = []
        for function in await self.functions.list_functions(ctx.scope, after=None, limit=None):
            items.append(
                (
                    f"{function.name}\x1f",
                    wire.function_configuration(
                        function.latest,
                        ctx.scope,
                        qualifier=LATEST if every_version else None,
                        listing=True,
                    ),
                )
            )
            if every_version:
                for version in await self.functions.list_versions(ctx.scope, function.name):
                    items.append(
                        (
                            f"{function.name}\x1f{int(version.version):010d}",
                            wire.function_configuration(version, ctx.scope, listing=True),
                        )
                    )
        found, marker = page(items, p.get("Marker"), p.get("MaxItems"))
        return _with_marker({"Functions": found}, marker)

    async def delete_function(self, ctx: RequestContext, p: Params) -> Output:
        name, qualifier = ctx.scope.resolve(p["FunctionName"], p.get("Qualifier"))
        await self.functions.delete(ctx.scope, name, qualifier)
        return {"StatusCode": 204}

    async def update_function_code(self, ctx: RequestContext, p: Params) -> Output:
        name, _ = ctx.scope.resolve(p["FunctionName"])
        zip_file = _zip_from(p)
        architectures = p.get("Architectures")
        config = await self.functions.update_code(
            ctx.scope,
            name,
            zip_file,
            architectures=tuple(architectures) if architectures else None,
            publish=bool(p.get("Publish")),
            dry_run=bool(p.get("DryRun")),
            revision_id=p.get("RevisionId"),
        )
        return wire.function_configuration(config, ctx.scope)

    async def update_function_configuration(self, ctx: RequestContext, p: Params) -> Output:
        name, _ = ctx.scope.resolve(p["FunctionName"])
        config = await self.functions.update_configuration(
            ctx.scope, name, _settings(p), p.get("RevisionId")
        )
        return wire.function_configuration(config, ctx.scope)

    async def publish_version(self, ctx: RequestContext, p: Params) -> Output:
        name, _ = ctx.scope.resolve(p["FunctionName"])
        version = await self.functions.publish_version(
            ctx.scope, name, p.get("CodeSha256"), p.get("Description"), p.get("RevisionId")
        )
        return wire.function_configuration(version, ctx.scope)

    async def list_versions_by_function(self, ctx: RequestContext, p: Params) -> Output:
        name, _ = ctx.scope.resolve(p["FunctionName"])
        function = await self.functions.get(ctx.scope, name)
        configs = [function.latest, *await self.functions.list_versions(ctx.scope, name)]
        items = [
            (
                f"{i:010d}",
                wire.function_configuration(c, ctx.scope, qualifier=c.version, listing=True),
            )
            for i, c in enumerate(configs)
        ]
        found, marker = page(items, p.get("Marker"), p.get("MaxItems"))
        return _with_marker({"Versions": found}, marker)

    # --- aliases ----------------------------------------------------------------------

    async def create_alias(self, ctx: RequestContext, p: Params) -> Output:
        name, _ = ctx.scope.resolve(p["FunctionName"])
        alias = await self.aliases.create(
            ctx.scope,
            name,
            p["Name"],
            p["FunctionVersion"],
            p.get("Description", ""),
            _weights(p),
        )
        return wire.alias_configuration(alias, ctx.scope)

    async def get_alias(self, ctx: RequestContext, p: Params) -> Output:
        name, _ = ctx.scope.resolve(p["FunctionName"])
        alias = await self.aliases.get(ctx.scope, name, p["Name"])
        return wire.alias_configuration(alias, ctx.scope)

    async def update_alias(self, ctx: RequestContext, p: Params) -> Output:
        name, _ = ctx.scope.resolve(p["FunctionName"])
        alias = await self.aliases.update(
            ctx.scope,
            name,
            p["Name"],
            function_version=p.get("FunctionVersion"),
            description=p.get("Description"),
            weights=_weights(p),
            revision_id=p.get("RevisionId"),
        )
        return wire.alias_configuration(alias, ctx.scope)

    async def delete_alias(self, ctx: RequestContext, p: Params) -> Output:
        name, _ = ctx.scope.resolve(p["FunctionName"])
        await self.aliases.delete(ctx.scope, name, p["Name"])
        return {}

    async def list_aliases(self, ctx: RequestContext, p: Params) -> Output:
        name, _ = ctx.scope.resolve(p["FunctionName"])
        wanted = p.get("FunctionVersion")
        items = [
            (alias.name, wire.alias_configuration(alias, ctx.scope))
            for alias in await self.aliases.list(ctx.scope, name)
            if wanted is None
            or alias.function_version == wanted
            or wanted in alias.additional_weights
        ]
        found, marker = page(items, p.get("Marker"), p.get("MaxItems"))
        return _with_marker({"Aliases": found}, marker)

    # --- account and tags -------------------------------------------------------------

    async def get_account_settings(self, ctx: RequestContext, p: Params) -> Output:
        functions = await self.functions.list_functions(ctx.scope, after=None, limit=None)
        total = 0
        for function in functions:
            total += function.latest.code_size
            for version in await self.functions.list_versions(ctx.scope, function.name):
                total += version.code_size
        return {
            "AccountLimit": {
                "TotalCodeSize": TOTAL_CODE_SIZE_LIMIT,
                "CodeSizeUnzipped": MAX_UNZIPPED_BYTES,
                "CodeSizeZipped": MAX_ZIPPED_BYTES,
                "ConcurrentExecutions": self._admission.limits.account,
                "UnreservedConcurrentExecutions": self._admission.unreserved_pool(ctx.scope.key),
            },
            "AccountUsage": {"TotalCodeSize": total, "FunctionCount": len(functions)},
        }

    async def tag_resource(self, ctx: RequestContext, p: Params) -> Output:
        await self.functions.put_tags(ctx.scope, self._tagged(ctx, p["Resource"]), p["Tags"])
        return {}

    async def untag_resource(self, ctx: RequestContext, p: Params) -> Output:
        await self.functions.remove_tags(ctx.scope, self._tagged(ctx, p["Resource"]), p["TagKeys"])
        return {}

    async def list_tags(self, ctx: RequestContext, p: Params) -> Output:
        function = await self.functions.get(ctx.scope, self._tagged(ctx, p["Resource"]))
        return {"Tags": dict(function.tags)}

    # --- helpers ----------------------------------------------------------------------

    def _tagged(self, ctx: RequestContext, resource: str) -> str:
        ref = parse_function_ref(resource)
        if ref is None:
            raise messages.function_not_found(resource)
        ctx.scope.check_owner(ref)
        if ref.qualifier is not None:
            raise InvalidParameterValueException(
                "Tags on function aliases and versions are not supported. Please specify a"
                " function ARN."
            )
        return ref.name

    async def _config(self, scope: Scope, name: str, qualifier: str | None) -> Any:
        """The configuration a qualifier (none, $LATEST, version or alias) points at."""
        if qualifier is None or qualifier == LATEST or qualifier.isdigit():
            if qualifier is None:
                return (await self.functions.get(scope, name)).latest
            return await self.functions.get_version(scope, name, qualifier)
        alias = await self.aliases.find(scope, name, qualifier)
        if alias is None:
            raise messages.function_not_found(scope.function_arn(name, qualifier))
        config = await self.functions.get_version(scope, name, alias.function_version)
        return config


def _settings(p: Params) -> FunctionSettings:
    environment = p.get("Environment")
    tracing = p.get("TracingConfig")
    storage = p.get("EphemeralStorage")
    dlq = p.get("DeadLetterConfig")
    layers = p.get("Layers")
    architectures = p.get("Architectures")
    return FunctionSettings(
        runtime=p.get("Runtime"),
        role=p.get("Role"),
        handler=p.get("Handler"),
        description=p.get("Description"),
        timeout=p.get("Timeout"),
        memory_size=p.get("MemorySize"),
        ephemeral_storage=storage["Size"] if storage else None,
        environment=(environment.get("Variables") or {}) if environment is not None else None,
        tracing_mode=tracing.get("Mode") if tracing else None,
        architectures=tuple(architectures) if architectures else None,
        layers=tuple(layers) if layers is not None else None,
        dead_letter_target=dlq.get("TargetArn", "") if dlq is not None else None,
        kms_key_arn=p.get("KMSKeyArn"),
        logging=p.get("LoggingConfig"),
    )


def _zip_from(code: Params) -> bytes:
    zip_file = code.get("ZipFile")
    if zip_file is not None:
        return bytes(zip_file)
    if code.get("S3Bucket"):
        raise InvalidParameterValueException(
            "Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message:"
            " The specified bucket does not exist"
        )
    if code.get("ImageUri"):
        raise InvalidParameterValueException(
            "Lamina cannot run container image functions yet; use PackageType Zip."
        )
    raise InvalidParameterValueException("Please provide a source for function code.")


def _weights(p: Params) -> dict[str, float] | None:
    routing = p.get("RoutingConfig")
    if routing is None:
        return None
    return dict(routing.get("AdditionalVersionWeights") or {})


def page(
    items: Sequence[tuple[str, T]], marker: str | None, max_items: int | None
) -> tuple[list[T], str | None]:
    """Marker pagination over (sort key, item); the marker is the last key, encoded."""
    limit = max_items or DEFAULT_PAGE
    try:
        start_after = base64.urlsafe_b64decode(marker.encode()).decode() if marker else None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidParameterValueException(f"Invalid marker: {marker}") from exc
    remaining = [(k, v) for k, v in items if start_after is None or k > start_after]
    chosen = remaining[:limit]
    more = len(remaining) > limit
    next_marker = base64.urlsafe_b64encode(chosen[-1][0].encode()).decode() if more else None
    return [v for _, v in chosen], next_marker


def _with_marker(out: Output, marker: str | None) -> Output:
    if marker is not None:
        out["NextMarker"] = marker
    return out
