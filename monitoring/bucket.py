"""Objects in the bucket the Go functions share, named by URL.

A bucket is a URL, as on the Go side (gocloud.dev/blob): file:///abs/path
or a plain directory locally, s3://bucket/prefix or gs://bucket/prefix in
production. Local buckets are plain directories; remote ones are read
through fsspec, whose protocol packages (s3fs, gcsfs) are imported only
when such a URL is given, so a local run needs neither.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote, urlparse

from monitoring.errors import MonitoringError, ObjectNotFound

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

# fsspec protocols and the package each one needs.
_REMOTE_PROTOCOLS = {"s3": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs", "memory": "fsspec"}


class Bucket(Protocol):
    """The few object operations the job needs. Keys use '/' and no leading slash."""

    url: str

    def read(self, key: str) -> bytes:
        """The object's bytes; ObjectNotFound if it does not exist."""
        ...

    def write(self, key: str, data: bytes) -> None:
        """Create or replace an object."""
        ...

    def list(self, prefix: str) -> list[str]:
        """The keys of all objects under prefix, recursively, sorted."""
        ...


def open_bucket(url: str) -> Bucket:
    """Open the bucket named by url: a file:// URL, a directory, or an fsspec URL."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise MonitoringError(f"bucket {url}: a file URL needs an absolute path, e.g. file:///srv/bucket")
        return LocalBucket(url, Path(unquote(parsed.path)))
    if parsed.scheme == "":
        return LocalBucket(url, Path(url).expanduser())
    if parsed.scheme in _REMOTE_PROTOCOLS:
        return FsspecBucket.open(url, parsed.scheme)
    raise MonitoringError(
        f"bucket {url}: unsupported scheme {parsed.scheme!r}; use file://, a directory, s3:// or gs://"
    )


class LocalBucket:
    """A bucket that is a directory on this machine."""

    def __init__(self, url: str, root: Path) -> None:
        if not root.is_dir():
            raise MonitoringError(f"bucket {url}: {root} is not a directory")
        self.url = url
        self._root = root

    def _path(self, key: str) -> Path:
        path = (self._root / key).resolve()
        if not path.is_relative_to(self._root.resolve()):
            raise MonitoringError(f"bucket {self.url}: key {key!r} leaves the bucket")
        return path

    def read(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise ObjectNotFound(f"{key} not found in bucket {self.url}") from None
        except OSError as e:
            raise MonitoringError(f"read {key} from bucket {self.url}: {e.strerror or e}") from None

    def write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)  # readers never see half an object
        except OSError as e:
            raise MonitoringError(f"write {key} to bucket {self.url}: {e.strerror or e}") from None

    def list(self, prefix: str) -> list[str]:
        base = self._path(prefix) if prefix else self._root
        if not base.is_dir():
            return []
        root = self._root.resolve()
        return sorted(p.resolve().relative_to(root).as_posix() for p in base.rglob("*") if p.is_file())


class FsspecBucket:
    """A remote bucket read through fsspec; url is protocol://bucket[/prefix]."""

    def __init__(self, url: str, fs: AbstractFileSystem, root: str) -> None:
        self.url = url
        self._fs = fs
        self._root = root.rstrip("/")

    @classmethod
    def open(cls, url: str, protocol: str) -> FsspecBucket:
        """Import fsspec and the protocol's package only now, so local runs need neither."""
        package = _REMOTE_PROTOCOLS[protocol]
        try:
            import fsspec

            fs = fsspec.filesystem(protocol)
        except ImportError:
            raise MonitoringError(
                f"bucket {url}: reading {protocol}:// needs the {package} package (pip install {package})"
            ) from None
        parsed = urlparse(url)
        return cls(url, fs, f"{parsed.netloc}{parsed.path}")

    def _path(self, key: str) -> str:
        return f"{self._root}/{key}"

    def read(self, key: str) -> bytes:
        try:
            data: bytes = self._fs.cat_file(self._path(key))
            return data
        except FileNotFoundError:
            raise ObjectNotFound(f"{key} not found in bucket {self.url}") from None
        except OSError as e:
            raise MonitoringError(f"read {key} from bucket {self.url}: {e}") from None

    def write(self, key: str, data: bytes) -> None:
        try:
            self._fs.pipe_file(self._path(key), data)
        except OSError as e:
            raise MonitoringError(f"write {key} to bucket {self.url}: {e}") from None

    def list(self, prefix: str) -> list[str]:
        try:
            found = self._fs.find(self._path(prefix))
        except FileNotFoundError:
            return []
        except OSError as e:
            raise MonitoringError(f"list {prefix} in bucket {self.url}: {e}") from None
        root = self._fs._strip_protocol(self._root).rstrip("/") + "/"
        return sorted(p[len(root) :] for p in found if p.startswith(root))
