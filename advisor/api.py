"""The public library API: load profiles and rules, evaluate with an Advisor."""

from __future__ import annotations

import os
from datetime import date, datetime, timezone
from typing import Any, Iterable, Iterator, Sequence

from . import engine as engines
from .errors import AdvisorError, UsageError
from .evaluation import Evaluator
from .knowledge import KnowledgeBase
from .language import Compiled, RuleSet
from .profile.reading import load_profile as _load_profile, read_profiles
from .profile.validation import LoadedProfile
from .report.findings import Report
from .rulebook import PathLike, Rulebook, load_rules, shipped_rules_dir
from .words import quoted

__all__ = ["Advisor", "evaluate", "load_profile", "load_rules", "as_of_date", "shipped_rules_dir"]


def load_profile(source: Any, rules: Rulebook | RuleSet | None = None) -> LoadedProfile:
    """Load and validate the one profile of a path, dict or Profile; waiver rule ids are checked against rules."""
    known = rules.known if isinstance(rules, Rulebook) else rules.ids if rules is not None else None
    return _load_profile(source, known)


def as_of_date(value: date | str | None) -> date:
    """The date an evaluation is as of: a date, an ISO date string, or None for SOURCE_DATE_EPOCH when it
    is set (reproducible builds) or else today. A string that is not a date is a UsageError."""
    if value is None:
        epoch = os.environ.get("SOURCE_DATE_EPOCH")
        if epoch:
            try:
                return datetime.fromtimestamp(int(epoch), tz=timezone.utc).date()
            except (ValueError, OverflowError):
                raise UsageError(f"SOURCE_DATE_EPOCH={epoch!r} is not a whole number of seconds") from None
        return date.today()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise UsageError(f"as-of date {quoted(value)} is not a date (YYYY-MM-DD)") from None
    if isinstance(value, datetime):  # a moment: its day
        return value.date()
    if isinstance(value, date):
        return value
    raise UsageError(f"as-of date {quoted(value)} is not a date; give a datetime.date or 'YYYY-MM-DD'")


class Advisor:
    """A Rulebook bound to one engine, evaluating any number of profiles.

    >>> advisor = Advisor(engine="python")
    >>> report = advisor.evaluate({"name": "Test", "partners": [{"name": "SAPS"}]})
    """

    def __init__(self, rules: Sequence[PathLike] | Rulebook = (), *, engine: str | None = None, shipped: bool = True):
        self.rulebook = rules if isinstance(rules, Rulebook) else load_rules(rules, shipped=shipped)
        self._rule_ids = self.rulebook.known
        # only the chosen engine's part of the rulebook: one from the cache reads it when first asked for
        name = engines.check(engine)
        stages = self.rulebook.compiled.stages
        self.backend = (engines.create(name, stages, python_code=self.rulebook.python_code) if name == "python" else
                        engines.create(name, stages, durable_plan=self.rulebook.durable_plan))
        self.engine: str = self.backend.name
        self._evaluator = Evaluator(self.rulebook, self.backend)

    @property
    def ruleset(self) -> RuleSet:
        return self.rulebook.ruleset

    @property
    def knowledge(self) -> KnowledgeBase:
        return self.rulebook.knowledge

    @property
    def compiled(self) -> Compiled:
        return self.rulebook.compiled

    @property
    def rules_version(self) -> str:
        """advisor's version and the number of rules, e.g. '0.2.0+64'; extra rule folders add '+custom'."""
        return self.rulebook.version

    def load(self, profile: Any) -> LoadedProfile:
        """Validate the one profile of a path, dict or Profile against the model and this advisor's rule ids."""
        return _load_profile(profile, self._rule_ids)

    def evaluate(self, profile: Any, *, as_of: date | str | None = None) -> Report:
        """Evaluate one profile and return its report."""
        return self._evaluator.evaluate(self.load(profile), as_of_date(as_of))

    def evaluate_many(self, profiles: Iterable[Any], *, as_of: date | str | None = None) -> Iterator[Report | AdvisorError]:
        """Evaluate every profile the sources hold, in order (a file of several YAML documents or a JSON Lines
        file gives one report per profile); a bad profile yields its error instead of stopping the rest."""
        day = as_of_date(as_of)
        for source in profiles:
            for _, loaded in read_profiles(source, self._rule_ids):
                yield loaded if isinstance(loaded, AdvisorError) else self.report(loaded, day)

    def report(self, loaded: LoadedProfile, as_of: date) -> Report:
        """The report of a profile already read and validated; an engine failure raises EngineError."""
        return self._evaluator.evaluate(loaded, as_of)

    def close(self) -> None:
        self.backend.close()


_advisors: dict[tuple, Advisor] = {}


def evaluate(profile: Any, rules: Sequence[PathLike] = (), engine: str | None = None, as_of: date | str | None = None) -> Report:
    """Evaluate one profile with the shipped rules (plus extra rule folders); reuses one Advisor per settings."""
    key = (tuple(str(r) for r in rules), engine)
    advisor = _advisors.get(key)
    if advisor is None:
        advisor = _advisors[key] = Advisor(rules, engine=engine)
    return advisor.evaluate(profile, as_of=as_of)
