from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.sandbox.harness import write_code


@pytest.fixture
def code(tmp_path: Path) -> Callable[..., Path]:
    counter = iter(range(1000))

    def make(files: dict[str, str]) -> Path:
        return write_code(tmp_path / f"code{next(counter)}", files)

    return make
