"""The Lambda control plane's records: snake_case, immutable, JSON-storable."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from lamina.arns import LATEST


class State(StrEnum):
    PENDING = "Pending"
    ACTIVE = "Active"
    INACTIVE = "Inactive"
    FAILED = "Failed"


class UpdateStatus(StrEnum):
    IN_PROGRESS = "InProgress"
    SUCCESSFUL = "Successful"
    FAILED = "Failed"


# Recorded on AWS: the same text for a create and for an update in progress.
CREATING_REASON = "The function is being created."


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    log_group: str
    log_format: str = "Text"
    application_log_level: str | None = None
    system_log_level: str | None = None


@dataclass(frozen=True, slots=True)
class VpcConfig:
    subnet_ids: tuple[str, ...] = ()
    security_group_ids: tuple[str, ...] = ()
    ipv6_allowed_for_dual_stack: bool = False


@dataclass(frozen=True, slots=True)
class FunctionConfig:
    """One version's configuration: $LATEST (mutable through updates) or a published one."""

    name: str
    version: str
    runtime: str
    role: str
    handler: str
    code_sha256: str  # base64, as AWS prints it
    code_size: int
    logging: LoggingConfig
    revision_id: str
    last_modified: str
    runtime_version_arn: str
    description: str = ""
    timeout: int = 3
    memory_size: int = 128
    ephemeral_storage: int = 512
    environment: dict[str, str] | None = None
    tracing_mode: str = "PassThrough"
    architectures: tuple[str, ...] = ("x86_64",)
    layers: tuple[str, ...] = ()
    dead_letter_target: str | None = None
    kms_key_arn: str | None = None
    vpc: VpcConfig | None = None
    state: State = State.PENDING
    state_reason: str | None = CREATING_REASON
    state_reason_code: str | None = "Creating"
    last_update_status: UpdateStatus | None = None
    last_update_status_reason: str | None = None
    last_update_status_reason_code: str | None = None

    @property
    def is_latest(self) -> bool:
        return self.version == LATEST

    @property
    def code_key(self) -> str:
        """The code store's name for this version's package."""
        return code_key(self.code_sha256)

    def replace(self, **changes: Any) -> FunctionConfig:
        return dataclasses.replace(self, **changes)

    def to_doc(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> FunctionConfig:
        values = dict(doc)
        values["logging"] = LoggingConfig(**doc["logging"])
        values["architectures"] = tuple(doc["architectures"])
        values["layers"] = tuple(doc["layers"])
        values["state"] = State(doc["state"])
        if doc["last_update_status"] is not None:
            values["last_update_status"] = UpdateStatus(doc["last_update_status"])
        if doc["vpc"] is not None:
            vpc = doc["vpc"]
            values["vpc"] = VpcConfig(
                tuple(vpc["subnet_ids"]),
                tuple(vpc["security_group_ids"]),
                vpc["ipv6_allowed_for_dual_stack"],
            )
        return cls(**values)

    def publishable_fields(self) -> tuple[Any, ...]:
        """What makes two versions the same; PublishVersion skips a version when equal."""
        skip = {
            "version",
            "revision_id",
            "last_modified",
            "state",
            "state_reason",
            "state_reason_code",
            "last_update_status",
            "last_update_status_reason",
            "last_update_status_reason_code",
        }
        return tuple(
            getattr(self, f.name)
            if not isinstance(getattr(self, f.name), dict)
            else tuple(sorted(getattr(self, f.name).items()))
            for f in dataclasses.fields(self)
            if f.name not in skip
        )


@dataclass(frozen=True, slots=True)
class Function:
    """Function-level record: what is not frozen into versions."""

    name: str
    latest: FunctionConfig
    tags: dict[str, str] = field(default_factory=dict)
    next_version: int = 1
    last_published: str | None = None  # the newest published version number
    # The $LATEST configuration invocations use: the last one that settled successfully,
    # so an update in progress keeps serving the previous code and settings.
    serving: FunctionConfig | None = None

    def to_doc(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "latest": self.latest.to_doc(),
            "tags": self.tags,
            "next_version": self.next_version,
            "last_published": self.last_published,
            "serving": None if self.serving is None else self.serving.to_doc(),
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Function:
        return cls(
            name=doc["name"],
            latest=FunctionConfig.from_doc(doc["latest"]),
            tags=doc["tags"],
            next_version=doc["next_version"],
            last_published=doc["last_published"],
            serving=None if doc.get("serving") is None else FunctionConfig.from_doc(doc["serving"]),
        )


@dataclass(frozen=True, slots=True)
class Alias:
    function_name: str
    name: str
    function_version: str
    revision_id: str
    description: str = ""
    additional_weights: dict[str, float] = field(default_factory=dict)

    def to_doc(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Alias:
        return cls(**doc)


def code_key(code_sha256_b64: str) -> str:
    """A file-name-safe form of the base64 SHA-256."""
    return code_sha256_b64.replace("/", "_").replace("+", "-").rstrip("=")
