"""The account and region every Lambda resource belongs to, and name resolution within it."""

from __future__ import annotations

from dataclasses import dataclass

from lamina.arns import FunctionRef, function_arn, parse_function_ref
from lamina.errors import AccessDeniedException, ResourceNotFoundException, ValidationException
from lamina.lambda_ import messages


@dataclass(frozen=True, slots=True)
class Scope:
    account_id: str
    region: str

    @property
    def key(self) -> str:
        return f"{self.account_id}/{self.region}"

    def function_arn(self, name: str, qualifier: str | None = None) -> str:
        return function_arn(self.region, self.account_id, name, qualifier)

    def resolve(self, function_name: str, qualifier: str | None = None) -> tuple[str, str | None]:
        """(name, qualifier) that a FunctionName (name, partial or full ARN) addresses here."""
        ref = parse_function_ref(function_name)
        if ref is None:  # the codec's pattern check normally catches this first
            raise ValidationException(f"Invalid function name: {function_name}")
        self.check_owner(ref)
        if ref.qualifier is not None and qualifier is not None and ref.qualifier != qualifier:
            raise messages.qualifier_mismatch()
        return ref.name, ref.qualifier if ref.qualifier is not None else qualifier

    def check_owner(self, ref: FunctionRef) -> None:
        if ref.region is not None and ref.region != self.region:
            raise ResourceNotFoundException(
                f"Functions from '{ref.region}' are not reachable in this region ('{self.region}')"
            )
        if ref.account_id is not None and ref.account_id != self.account_id:
            raise AccessDeniedException(None)
