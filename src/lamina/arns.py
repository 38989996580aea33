"""ARNs, names and qualifiers as Lambda forms and parses them."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Name or (partial) ARN, with an optional qualifier; the groups pick out the parts.
_FUNCTION_REF = re.compile(
    r"(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?"
    r"(?:(?P<region>(?:eusc-)?[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d):)?"
    r"(?:(?P<account>\d{12}):)?"
    r"(?:function:)?"
    r"(?P<name>[a-zA-Z0-9-_.]+)"
    r"(?::(?P<qualifier>\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)

LATEST = "$LATEST"


@dataclass(frozen=True, slots=True)
class FunctionRef:
    """What a FunctionName parameter says: a name, maybe a qualifier, region and account."""

    name: str
    qualifier: str | None = None
    region: str | None = None
    account_id: str | None = None


def parse_function_ref(value: str) -> FunctionRef | None:
    """Split a FunctionName value; None when it is not a name or function ARN at all."""
    match = _FUNCTION_REF.fullmatch(value)
    if match is None:
        return None
    return FunctionRef(
        name=match["name"],
        qualifier=match["qualifier"],
        region=match["region"],
        account_id=match["account"],
    )


def function_arn(region: str, account_id: str, name: str, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{region}:{account_id}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn
