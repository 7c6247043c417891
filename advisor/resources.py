"""Where advisor's shipped data (knowledge, rules, report templates) lives, installed or in a source checkout."""

from __future__ import annotations

import errno
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pathlib

#: The package's folder, resolved (as pathlib.Path(__file__).resolve().parent: pathlib is imported only when a
#: Path is asked for, since a start that reads the rules from their cache needs none).
_PACKAGE_DIR = os.path.dirname(os.path.realpath(__file__))


#: The errors on which pathlib's exists(), is_file() and is_dir() answer False; any other (a folder that may not be
#: searched: EACCES) is raised, as pathlib raises it.
_ABSENT = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)


def path_mode(path: str) -> int | None:
    """The mode of path, following links, as pathlib's exists(), is_file() and is_dir() read it: None where they
    answer False (for the paths a start reads without importing pathlib)."""
    try:
        return os.stat(path).st_mode
    except OSError as exc:
        if exc.errno not in _ABSENT:
            raise
        return None
    except ValueError:  # a NUL in the path
        return None


def data_dir(name: str) -> str:
    """data_path(name) as a string: the same path, without pathlib."""
    installed = os.path.join(_PACKAGE_DIR, "_data", name)
    if path_mode(installed) is not None:  # as Path.exists() answers
        return installed
    return os.path.join(os.path.dirname(_PACKAGE_DIR), name)


def data_path(name: str) -> pathlib.Path:
    """The directory of shipped data `name` (e.g. "knowledge", "rules", "reports").

    An installed wheel carries it in `advisor/_data/<name>`; a source checkout
    keeps it at the top of the repository, next to the package directory.
    """
    import pathlib

    return pathlib.Path(data_dir(name))
