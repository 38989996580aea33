"""Real packages from PyPI, installed for functions' deployment packages in tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def pip_install(target: Path, *packages: str) -> Path:
    """`pip install --target`; a failure fails the test with pip's own words."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-warn-script-location",
            "--target",
            str(target),
            *packages,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        pytest.fail(f"pip install {' '.join(packages)} failed:\n{done.stderr[-3000:]}")
    return target
