"""Deployment packages: checked, stored once by content hash, unpacked for environments."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from lamina.errors import InvalidParameterValueException, RequestEntityTooLargeException
from lamina.lambda_.models import code_key

MAX_ZIPPED_BYTES = 52_428_800
MAX_UNZIPPED_BYTES = 262_144_000
BAD_ZIP_MESSAGE = "Could not unzip uploaded file. Please check your file, then try to upload again."


@dataclass(frozen=True, slots=True)
class CodePackage:
    sha256: str  # base64, as AWS prints CodeSha256
    size: int

    @property
    def key(self) -> str:
        return code_key(self.sha256)


class CodeStore:
    """Packages live at <root>/<key>.zip and are unpacked at <root>/<key>/."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def check(self, data: bytes) -> CodePackage:
        """AWS's checks on an uploaded zip; cheap enough to run before answering."""
        if len(data) > MAX_ZIPPED_BYTES:
            raise RequestEntityTooLargeException(
                f"Zipped size must be smaller than {MAX_ZIPPED_BYTES} bytes"
            )
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                unzipped = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            raise InvalidParameterValueException(BAD_ZIP_MESSAGE) from exc
        if unzipped > MAX_UNZIPPED_BYTES:
            raise InvalidParameterValueException(
                f"Unzipped size must be smaller than {MAX_UNZIPPED_BYTES} bytes"
            )
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
        return CodePackage(sha256=digest, size=len(data))

    def save(self, package: CodePackage, data: bytes) -> None:
        """Keep the zip durably (before the create is acknowledged)."""
        self.root.mkdir(parents=True, exist_ok=True)
        target = self.zip_path(package.key)
        if target.exists():
            return
        partial = target.with_suffix(".partial")
        with open(partial, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(target)

    def unpack(self, key: str) -> Path:
        """Unpack once; later calls return the existing tree. Raises on a corrupt zip."""
        target = self.code_dir(key)
        if target.is_dir():
            return target
        staging = target.with_name(target.name + ".unpacking")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        with zipfile.ZipFile(self.zip_path(key)) as archive:
            for info in archive.infolist():
                _extract(archive, info, staging)
        staging.replace(target)
        return target

    def zip_path(self, key: str) -> Path:
        return self.root / f"{key}.zip"

    def code_dir(self, key: str) -> Path:
        return self.root / key

    def read_zip(self, key: str) -> bytes | None:
        try:
            return self.zip_path(key).read_bytes()
        except FileNotFoundError:
            return None


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, root: Path) -> None:
    # Refuse paths that climb out of the package; keep the executable bits AWS keeps.
    destination = (root / info.filename).resolve()
    if not destination.is_relative_to(root.resolve()):
        raise InvalidParameterValueException(BAD_ZIP_MESSAGE)
    if info.is_dir():
        destination.mkdir(parents=True, exist_ok=True)
        return
    destination.parent.mkdir(parents=True, exist_ok=True)
    with archive.open(info) as source, open(destination, "wb") as out:
        shutil.copyfileobj(source, out)
    mode = (info.external_attr >> 16) & 0o777
    executable = mode & stat.S_IXUSR
    destination.chmod(0o755 if executable else 0o644)
