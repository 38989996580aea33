"""What a request's SigV4 credential scope says: access key, region, service.

Signatures are read, not verified yet; verification belongs here when it comes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")


@dataclass(frozen=True, slots=True)
class CredentialScope:
    access_key_id: str
    region: str
    service: str


def credential_scope(headers: dict[str, str], query: str) -> CredentialScope | None:
    """From the Authorization header, or from X-Amz-Credential of a presigned URL."""
    authorization = headers.get("authorization", "")
    match = _CREDENTIAL.search(authorization)
    if match:
        return CredentialScope(match[1], match[3], match[4])
    if "X-Amz-Credential" in query:
        values = parse_qs(query).get("X-Amz-Credential")
        if values:
            parts = values[0].split("/")
            if len(parts) == 5:
                return CredentialScope(parts[0], parts[2], parts[3])
    return None


def account_for(access_key_id: str | None, default: str) -> str:
    """A 12-digit access key id names the account; anything else means the default one."""
    if access_key_id and len(access_key_id) == 12 and access_key_id.isdigit():
        return access_key_id
    return default
