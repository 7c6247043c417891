"""Problems found in a YAML document's data, reported as one error at the first of them in file order."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import AdvisorError
from .words import Path, path_text
from .yamlio import YamlDocument

if TYPE_CHECKING:
    from pydantic import ValidationError

E = TypeVar("E", bound=AdvisorError)

#: A problem found in checked data: where it is in the document, and what is wrong there (or a function
#: that says it, called only for the problem reported: a did-you-mean over thousands of names costs time).
Problem = tuple[Path, "str | Callable[[], str]"]

#: What a value of the wrong type should have been, by pydantic's error type.
TYPE_WORDS = {
    "string_type": "text", "bool_type": "true or false", "int_type": "a whole number",
    "float_type": "a number", "list_type": "a list", "tuple_type": "a list", "model_type": "a mapping of fields",
    "model_attributes_type": "a mapping of fields", "dict_type": "a mapping of fields",
    "date_type": "a date (YYYY-MM-DD)", "int_from_float": "a whole number", "finite_number": "a finite number",
}


def first_problem(error: type[E], document: YamlDocument, problems: Sequence[Problem]) -> E:
    """The error (of the caller's class) for the problem that comes first in the file, counting the others."""
    path, message = min(problems, key=lambda problem: _position(document, problem[0]))
    return _error_at(error, document, path, message() if callable(message) else message, len(problems))


def first_invalid(error: type[E], document: YamlDocument, exc: ValidationError,
                  describe: Callable[[dict[str, Any]], str], *, at: Path = (),
                  locate: Callable[[dict[str, Any]], Path] | None = None,
                  rank: Callable[[dict[str, Any]], int] | None = None, more: bool = True, field: bool = True) -> E:
    """The error for pydantic's complaint that comes first in the file, put in words by `describe`.

    The data validated sits at path `at` of the document; `locate` says where in it an error
    is (default: pydantic's loc); `rank`, when given, orders complaints before their position
    (a wrong key before a wrong value); `more` adds "(and N more problems)"; `field` names the field
    (a rule file's errors name the rule in their message instead).
    """
    errors = exc.errors(include_url=False)
    where = locate or (lambda err: tuple(err["loc"]))

    def order(err: dict[str, Any]) -> tuple:
        return ((rank(err) if rank else 0), *_position(document, at + where(err)))

    first = min(errors, key=order)
    return _error_at(error, document, at + where(first), describe(first), len(errors) if more else 1, field)


def _position(document: YamlDocument, path: Path) -> tuple[int, int]:
    location = document.location(path)
    return (location.line or 0, location.column or 0)


def _error_at(error: type[E], document: YamlDocument, path: Path, message: str, count: int, field: bool = True) -> E:
    more = f" (and {count - 1} more problem{'s' if count > 2 else ''})" if count > 1 else ""
    return error(message + more, document.location(path), (path_text(path) or None) if field else None)
