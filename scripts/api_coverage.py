"""Writes docs/api-coverage.md from the pinned botocore models and Lamina's handlers."""

from __future__ import annotations

import tempfile
from pathlib import Path

from lamina.app import Lamina
from lamina.config import Config
from lamina.gateway.coverage import coverage_markdown

TARGET = Path(__file__).resolve().parent.parent / "docs" / "api-coverage.md"


def render() -> str:
    with tempfile.TemporaryDirectory() as data_dir:
        lamina = Lamina(Config(data_dir=Path(data_dir)))
        return coverage_markdown([lamina.lambda_service])


if __name__ == "__main__":
    TARGET.write_text(render())
    print(f"wrote {TARGET}")
