"""Where advisor's shipped data (knowledge, rules, report templates) lives, installed or in a source checkout."""

from __future__ import annotations

import pathlib

_PACKAGE_DIR = pathlib.Path(__file__).resolve().parent


def data_path(name: str) -> pathlib.Path:
    """The directory of shipped data `name` (e.g. "knowledge", "rules", "reports").

    An installed wheel carries it in `advisor/_data/<name>`; a source checkout
    keeps it at the top of the repository, next to the package directory.
    """
    installed = _PACKAGE_DIR / "_data" / name
    if installed.exists():
        return installed
    return _PACKAGE_DIR.parent / name
