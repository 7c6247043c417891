"""A cache of checked and compiled rules, keyed by the files they came from (as Python caches bytecode).

Loading and checking ~30 rule files and compiling them costs ~100 ms, most of a command's
start-up; unpickling the result costs a few. The key covers every rule file, the knowledge
base and advisor's own modules (path, size, modification time), so any change recompiles.
A rule file with a mistake is never cached: it fails to load on every run. Set
ADVISOR_NO_CACHE=1 to switch the cache off, ADVISOR_CACHE_DIR to move it.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterable

FORMAT = 1


def cache_dir() -> Path | None:
    if os.environ.get("ADVISOR_NO_CACHE"):
        return None
    explicit = os.environ.get("ADVISOR_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "advisor"


def key(files: Iterable[Path], version: str) -> str:
    """A digest of the files' paths, sizes and modification times, with advisor's own modules."""
    digest = hashlib.sha256(f"{FORMAT}|{version}|{sys.version}".encode())
    own = sorted(Path(__file__).parent.rglob("*.py"))
    for path in list(files) + own:
        st = path.stat()
        digest.update(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:32]


def load(digest: str) -> Any | None:
    folder = cache_dir()
    if folder is None:
        return None
    try:
        with open(folder / f"rules-{digest}.pickle", "rb") as fh:
            return pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
        return None  # no cache yet, or one from another version: compile afresh


def store(digest: str, value: Any) -> None:
    folder = cache_dir()
    if folder is None:
        return
    tmp = None
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".rules-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, folder / f"rules-{digest}.pickle")
        tmp = None
        for old in folder.glob("rules-*.pickle"):  # keep the cache from growing with every edit
            if old.name != f"rules-{digest}.pickle" and old.stat().st_mtime < _a_day_ago():
                old.unlink(missing_ok=True)
    except (OSError, pickle.PicklingError, TypeError):
        pass  # a read-only home or a full disk only costs the next run its start-up time
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def _a_day_ago() -> float:
    import time

    return time.time() - 86400
