"""The library's named errors: every user mistake is one of these, with a one-line message."""

from __future__ import annotations

import bisect
import os
import re
from dataclasses import dataclass
from typing import ClassVar, Iterable


@dataclass(frozen=True)
class Location:
    """Where in a file something is: a source name and a 1-based line and column."""

    source: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        if self.line is None:
            return self.source
        if self.column is None:
            return f"{self.source}:{self.line}"
        return f"{self.source}:{self.line}:{self.column}"


class AdvisorError(Exception):
    """Base class of every error advisor raises for bad input or usage."""

    #: Whether a YAML error in a file of this kind names the field it is in (a rule file's errors
    #: name the rule instead, in the message).
    yaml_field: ClassVar[bool] = True

    def __init__(self, message: str, location: Location | None = None, field: str | None = None):
        self.message = message
        self.location = location
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = []
        if self.location is not None:
            parts.append(str(self.location))
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return printable(": ".join(parts))


def printable(text: str) -> str:
    """Text safe to print on a terminal, on one line, whatever a file name or a value holds: every control
    character (line breaks, ESC that starts an escape sequence, BEL, the C1 controls) and every character
    that reorders text (U+202E) is written as its escape, as repr writes it: \\x1b, \\u202e."""
    return text.translate(_CONTROLS)


#: The characters str.splitlines() breaks at, as escapes.
_LINE_BREAKS = {c: repr(chr(c))[1:-1] for c in (0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029)}
#: Those, every other C0 and C1 control character and DEL, and the bidirectional controls, as escapes.
_CONTROLS = {**{c: f"\\x{c:02x}" for c in [*range(0x20), *range(0x7F, 0xA0)]},
             **{c: f"\\u{c:04x}" for c in [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]},
             **_LINE_BREAKS}


class YamlError(AdvisorError):
    """A YAML file that cannot be read, when the reader did not say what the file is (a profile, a rule file, ...)."""


class ProfileError(AdvisorError):
    """A partnership profile that cannot be read or is not valid."""


class RuleError(AdvisorError):
    """A rule file that cannot be read or holds a mistake."""

    yaml_field = False


class KnowledgeError(AdvisorError):
    """The knowledge base of the guide is missing or inconsistent."""

    yaml_field = False


class EngineError(AdvisorError):
    """A rules engine failed while evaluating a profile."""


class UsageError(AdvisorError):
    """The library or command line was called with impossible arguments."""


#: With more choices than this, did_you_mean compares the word with the choices nearest it in
#: alphabetical order, forwards and backwards (a typo seldom changes both ends of a word), this
#: many in all, so that a profile of 40,000 partner names costs milliseconds, not seconds.
MAX_CANDIDATES = 1000


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return '; did you mean X?' for the closest choice, or '' when none is close."""
    word = str(word)
    candidates = sorted(set(choices))
    if len(candidates) > MAX_CANDIDATES:
        candidates = sorted(set(_nearest(word, candidates) + _nearest(word[::-1], sorted(c[::-1] for c in candidates),
                                                                        reverse=True)))
    shortened = [c for c in candidates if _abbreviates(word, c)]
    if shortened:  # `risk.lack-of-comms` is short for `risk.lack-of-communication`, not a typo of `...-of-trust`
        return f"; did you mean '{min(shortened, key=len)}'?"
    import difflib  # only for a mistake

    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


_WORD_PARTS = re.compile(r"[.\-_ ]")


def _abbreviates(word: str, choice: str) -> bool:
    """Whether word is choice with some of its parts (between dots, dashes, underscores) cut short: each part
    of word starts the same part of choice, but perhaps for its last letter (`comms` for `communication`)."""
    parts, full = _WORD_PARTS.split(word), _WORD_PARTS.split(choice)
    if len(parts) != len(full) or word == choice:
        return False
    return all(f.startswith(p) if len(p) < 4 else len(os.path.commonprefix([p, f])) >= len(p) - 1
               for p, f in zip(parts, full))


def _nearest(word: str, ordered: list[str], reverse: bool = False) -> list[str]:
    """The MAX_CANDIDATES // 2 entries of a sorted list around where word would be (reversed back when reverse)."""
    half = MAX_CANDIDATES // 4
    at = bisect.bisect_left(ordered, word)
    near = ordered[max(0, at - half): at + half]
    return [c[::-1] for c in near] if reverse else near
