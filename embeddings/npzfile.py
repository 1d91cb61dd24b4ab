"""The index files: JSON metadata and named arrays in one ``.npz`` file, written atomically.

The temporary file is ``<name>.<process id>.<random>.tmp`` beside the target, replaced into
place once written and synced: a reader sees the old file or the new one, never half of one,
and a later process can tell a file left by a process killed while saving
(``IndexSet.remove_temporary_files``).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np


def write_atomic(path: str | Path, meta: dict[str, Any], **arrays: np.ndarray) -> None:
    """Write ``meta`` (as JSON) and ``arrays`` to ``path``, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{path.name}.{os.getpid()}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The JSON metadata of a file written by ``write_atomic``."""
    with np.load(path) as data:
        return json.loads(data["meta"].tobytes().decode())
