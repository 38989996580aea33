"""Every setting, default and limit an operator may change, in one frozen object."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PORT = 4566
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "000000000000"


@dataclass(frozen=True, slots=True)
class Config:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    data_dir: Path = field(default_factory=lambda: Path(".lamina"))
    region: str = DEFAULT_REGION
    account_id: str = DEFAULT_ACCOUNT_ID
    log_level: str = "info"
    # Refuse a python3.x function whose exact interpreter is missing instead of using the nearest.
    strict_runtimes: bool = False
    # Seconds a new or updated function stays Pending / InProgress before it settles.
    # AWS takes about a second; 0 settles as soon as the code is unpacked.
    state_transition_delay: float = 0.0
    # Seconds an idle execution environment is kept warm before it is reaped.
    environment_idle_timeout: float = 300.0
    # "auto" uses the strongest isolation the host allows; "none" disables it.
    isolation: str = "auto"
    # Concurrent executions per account and region, and the part reservations must leave.
    account_concurrency: int = 1000
    min_unreserved_concurrency: int = 100
    # New execution environments a function may add per scaling window (AWS: 1,000 per 10 s).
    scaling_burst: int = 1000
    scaling_window: float = 10.0
    # Multiplies every platform-side wait (async retry delays, backoff, event ages), so that
    # tests and demos run the real policies in seconds: 0.01 turns a minute into 0.6 s.
    time_scale: float = 1.0

    @property
    def endpoint_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @classmethod
    def from_env(cls, **overrides: object) -> Config:
        """Settings from LAMINA_* environment variables, then explicit overrides (flags)."""
        env: dict[str, object] = {}
        casts: dict[str, Callable[[str], object]] = {
            "host": str,
            "port": int,
            "data_dir": Path,
            "region": str,
            "account_id": str,
            "log_level": str,
            "strict_runtimes": _flag,
            "state_transition_delay": float,
            "environment_idle_timeout": float,
            "isolation": str,
            "account_concurrency": int,
            "min_unreserved_concurrency": int,
            "scaling_burst": int,
            "scaling_window": float,
            "time_scale": float,
        }
        for name, cast in casts.items():
            raw = os.environ.get(f"LAMINA_{name.upper()}")
            if raw is not None:
                env[name] = cast(raw)
        env.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**env)  # type: ignore[arg-type]


def _flag(raw: str) -> bool:
    return raw.strip().lower() in ("1", "true", "yes", "on")
