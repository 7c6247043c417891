"""The public library API: load profiles and rules, evaluate with an Advisor."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from . import __version__
from .compiler import Compiled, compile_rules
from .errors import AdvisorError, UsageError
from .knowledge import KnowledgeBase, load_knowledge
from .language import RuleSet, load_rules as _load_rules
from .profile import LoadedProfile, load_profile as _load_profile
from .report import Report
from .resources import data_path

PathLike = str | os.PathLike


def shipped_rules_dir() -> Path:
    """The folder of the rules shipped with advisor."""
    return data_path("rules")


def load_rules(extra: Sequence[PathLike] = (), *, shipped: bool = True, knowledge: KnowledgeBase | None = None) -> RuleSet:
    """Load the shipped rules (unless shipped=False) and every rule folder in extra, checking them completely."""
    folders = ([shipped_rules_dir()] if shipped else []) + [Path(p) for p in extra]
    return _load_rules(folders, knowledge or load_knowledge())


def load_profile(source: Any, rules: RuleSet | None = None) -> LoadedProfile:
    """Load and validate a profile from a path, dict or Profile; waiver rule ids are checked against rules."""
    return _load_profile(source, rules.ids if rules is not None else None)


def as_of_date(value: date | str | None) -> date:
    """The date an evaluation is as of: a date, an ISO date string, or None for SOURCE_DATE_EPOCH when it
    is set (reproducible builds) or else today. A string that is not a date is a UsageError."""
    if value is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        if epoch:
            from datetime import datetime, timezone

            try:
                return datetime.fromtimestamp(int(epoch), tz=timezone.utc).date()
            except (ValueError, OverflowError):
                raise UsageError(f"SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds") from None
        return date.today()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise UsageError(f"as-of date {value!r} is not a date (YYYY-MM-DD)") from None
    return value


#: Compiled forms of the rule sets this process loaded, so an Advisor given one does not compile it again.
_compiled_for: dict[int, tuple[RuleSet, Compiled, KnowledgeBase]] = {}


def compiled_rules(extra: Sequence[PathLike] = (), shipped: bool = True) -> tuple[KnowledgeBase, RuleSet, Compiled]:
    """The knowledge base, the checked rules and their compiled form, from the cache when unchanged."""
    result = _compiled_rules(extra, shipped)
    _compiled_for[id(result[1])] = (result[1], result[2], result[0])
    return result


def _compiled_rules(extra: Sequence[PathLike], shipped: bool) -> tuple[KnowledgeBase, RuleSet, Compiled]:
    from . import cache
    from .knowledge import knowledge_file
    from .language import rule_files

    folders = ([shipped_rules_dir()] if shipped else []) + [Path(p) for p in extra]
    files = [knowledge_file()] + [f for folder in folders for f in rule_files(folder)]
    digest = cache.key(files, __version__)
    hit = cache.load(digest)
    if hit is not None:
        return hit
    knowledge = load_knowledge()
    ruleset = _load_rules(folders, knowledge)
    result = (knowledge, ruleset, compile_rules(ruleset))
    cache.store(digest, result)
    return result


class Advisor:
    """Rules compiled once, bound to one engine, evaluating any number of profiles.

    >>> advisor = Advisor(engine="python")
    >>> report = advisor.evaluate({"name": "Test", "partners": [{"name": "SAPS"}]})
    """

    def __init__(self, rules: Sequence[PathLike] | RuleSet = (), *, engine: str | None = None, shipped: bool = True):
        from . import engine as engines

        if isinstance(rules, RuleSet):
            known = _compiled_for.get(id(rules))
            if known and known[0] is rules:
                self.ruleset, self.compiled, self.knowledge = known
            else:
                self.knowledge, self.ruleset, self.compiled = load_knowledge(), rules, compile_rules(rules)
        else:
            self.knowledge, self.ruleset, self.compiled = compiled_rules(rules, shipped)
        self._rule_ids = frozenset(self.ruleset.ids)
        self.backend = engines.create(engine, self.compiled.stages)
        self.engine: str = self.backend.name
        from .evaluation import Evaluator

        self._evaluator = Evaluator(self.compiled, self.backend, self.knowledge, __version__, self.rules_version)

    @property
    def rules_version(self) -> str:
        """advisor's version and the number of rules, e.g. '0.1.0+64'; extra rule folders add '+custom'."""
        shipped = shipped_rules_dir()
        custom = any(not Path(f).resolve().is_relative_to(shipped.resolve()) for f in self.ruleset.files)
        return f"{__version__}+{len(self.ruleset.rules)}{'+custom' if custom else ''}"

    def load(self, profile: Any) -> LoadedProfile:
        """Validate a profile (path, dict, Profile) against the model and this advisor's rule ids."""
        return _load_profile(profile, self._rule_ids)

    def evaluate(self, profile: Any, *, as_of: date | str | None = None) -> Report:
        """Evaluate one profile and return its report."""
        return self._evaluator.evaluate(self.load(profile), as_of_date(as_of))

    def evaluate_many(self, profiles: Iterable[Any], *, as_of: date | str | None = None) -> Iterator[Report | AdvisorError]:
        """Evaluate profiles one by one, in order; a bad profile yields its error instead of stopping the rest."""
        day = as_of_date(as_of)
        for profile in profiles:
            try:
                yield self._evaluator.evaluate(self.load(profile), day)
            except AdvisorError as exc:
                yield exc

    def close(self) -> None:
        self.backend.close()


_cache: dict[tuple, Advisor] = {}


def evaluate(profile: Any, rules: Sequence[PathLike] = (), engine: str | None = None, as_of: date | str | None = None) -> Report:
    """Evaluate one profile with the shipped rules (plus extra rule folders); reuses one Advisor per settings."""
    key = (tuple(str(r) for r in rules), engine)
    advisor = _cache.get(key)
    if advisor is None:
        advisor = _cache[key] = Advisor(rules, engine=engine)
    return advisor.evaluate(profile, as_of=as_of)
