"""Weighted alias routing: a small pure policy."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping


def pick_version(
    primary: str, additional: Mapping[str, float], draw: Callable[[], float] = random.random
) -> str:
    """The primary version gets 1 - (sum of extra weights); each extra version its weight."""
    point = draw()
    for version, weight in additional.items():
        if point < weight:
            return version
        point -= weight
    return primary
