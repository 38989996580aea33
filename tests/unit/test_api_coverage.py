"""The route table against botocore's model, and the coverage page kept current."""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

from lamina.app import Lamina
from lamina.config import Config

ROOT = Path(__file__).resolve().parents[2]


def test_every_handler_is_an_operation_of_the_model() -> None:
    with tempfile.TemporaryDirectory() as data_dir:
        service = Lamina(Config(data_dir=Path(data_dir))).lambda_service
    model_names = {op.name for op in service.protocol.operations()}
    assert set(service.handlers) <= model_names
    assert len(model_names) == 85  # the pinned botocore's Lambda model


def test_coverage_page_is_current() -> None:
    spec = importlib.util.spec_from_file_location("api_coverage", ROOT / "scripts/api_coverage.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "docs/api-coverage.md").read_text() == module.render(), (
        "docs/api-coverage.md is stale: run python scripts/api_coverage.py"
    )
