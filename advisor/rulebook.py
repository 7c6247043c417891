"""The Rulebook: the knowledge base, the checked rules and their compiled form, loaded (and cached) as one object."""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from . import __version__, cache
from .engine.facts import facts_code
from .engine.python import stage_code
from .errors import RuleError, UsageError
from .knowledge import KnowledgeBase, _knowledge_path, adopt, load_knowledge
from .language import Compiled, Derived, Rule, RuleSet, check_rules, compile_rules
from .language.loader import rule_file_names
from .language.syntax import ProblemDef
from .profile import schema, validation
from .profile.validation import Known
from .resources import data_dir, data_path
from .words import quoted

if TYPE_CHECKING:
    from pathlib import Path

PathLike = str | os.PathLike


def shipped_rules_dir() -> Path:
    """The folder of the rules shipped with advisor."""
    return data_path("rules")


@dataclass(frozen=True, eq=False)
class Rulebook:
    """Everything an evaluation needs besides the profile: the guide, the rules and their compiled form.

    Made once by load_rules() and handed to an Advisor, a portfolio, a summary or a rule
    document; nothing loads the knowledge base or the rules again behind it.
    """

    knowledge: KnowledgeBase
    compiled: Compiled
    #: advisor's version and the number of rules, e.g. '0.2.0+64'; rules from outside the shipped folder add '+custom'.
    version: str
    #: what durable-rules is given for the compiled stages (engine.durable_form.plan), worked out when the rules
    #: are checked against its limits and cached with them, so that starting the durable engine does not repeat it
    durable_plan: Any = None
    #: the python engine's stage functions, compiled (engine.python.stage_code) and cached with the rules: compiling
    #: them costs more than the rest of the python engine's start
    python_code: tuple[bytes, ...] | None = None
    #: the facts builder's generated functions, compiled (engine.facts.facts_code) and cached with the rules
    facts_code: dict[str, bytes] | None = None
    #: the profile's validator (profile.validation.profile_validator), kept with the rules so that a start builds no
    #: pydantic validator: the models defer building theirs, which takes ~45 ms. Pickled apart, since unpickling it
    #: imports the models: only a run that validates into them (the library's) does.
    profile_validator: bytes | None = None
    #: the durable engine's fact encoders for durable_plan, compiled (engine.durable_form.encoder_code) and cached with
    #: the rules, as the python engine's stages are
    durable_encoders: dict[str, bytes] | None = None
    #: the same validator into plain records (profile.validation.record_validator), for the commands that only read
    #: the profiles: a start that uses it imports none of the models, nor pydantic's machinery for them
    record_validator: Any = None
    #: the profile's field types and words (profile.schema.fields), which reports and rules read, derived from the
    #: models and kept with the rules, so that a run derives nothing from them
    profile_fields: Any = None

    def __getattr__(self, name: str) -> Any:
        """An engine's part of a rulebook from the cache (durable_plan with durable_encoders, or python_code), read
        from its section of the entry when first asked for: a run checks and unpickles only its engine's part."""
        group = _PART_OF.get(name)
        if group is None or "_sections" not in self.__dict__:
            raise AttributeError(f"'Rulebook' object has no attribute {name!r}")
        _load_part(self, group)
        return self.__dict__[name]

    def __getstate__(self) -> dict[str, Any]:
        """A rulebook pickled (for worker processes) is whole, without the cache's sections."""
        state = dict(self.__dict__)
        if state.pop("_sections", False) is not False:
            for name in _PART_OF:
                state[name] = getattr(self, name)
        return state

    @property
    def ruleset(self) -> RuleSet:
        return self.compiled.ruleset

    @property
    def rules(self) -> list[Rule]:
        return self.ruleset.rules

    @property
    def derived(self) -> list[Derived]:
        return self.ruleset.derived

    @property
    def problems(self) -> dict[str, ProblemDef]:
        return self.ruleset.problems

    @property
    def files(self) -> list[str]:
        return self.ruleset.files

    @property
    def ids(self) -> set[str]:
        return self.ruleset.ids

    @property
    def known(self) -> Known:
        """What a profile may name: the rule ids (waivers) and the guide's steps (not applicable)."""
        return Known(frozenset(self.ids), frozenset(self.knowledge.actionable_ids()))

    def rule(self, rule_id: str) -> Rule:
        """The rule with this id; KeyError when there is none."""
        return self.ruleset.rule(rule_id)


#: The parts of a rulebook that one engine alone uses, each group a section of the cache entry that is checked and
#: unpickled only when the engine asks for it: the durable engine's plan and fact encoders (~420 KB) and the python
#: engine's stage functions (~190 KB), of a ~1.07 MB entry a start checked (HMAC) and unpickled whole.
_PARTS = {"durable": ("durable_plan", "durable_encoders"), "python": ("python_code",)}
_PART_OF = {name: group for group, names in _PARTS.items() for name in names}
for _name in _PART_OF:  # dataclass defaults left as class attributes would answer for a part not read yet
    delattr(Rulebook, _name)
#: The first item of a cached rulebook's value: (_CACHED, its fields but the engines' parts)
_CACHED = "advisor.rulebook.Rulebook without its engines' parts"


def _store(digest: str | None, rulebook: Rulebook) -> None:
    state = {k: v for k, v in vars(rulebook).items() if k not in _PART_OF}
    cache.store(digest, (_CACHED, state), {group: tuple(getattr(rulebook, name) for name in names)
                                            for group, names in _PARTS.items()})


def _from_cache(hit: Any) -> Rulebook | None:
    """The rulebook in a cache entry (its engines' parts read when asked for), or None."""
    if not (isinstance(hit, tuple) and len(hit) == 2):
        return None
    (tag, state), sections = hit
    if tag != _CACHED or not isinstance(state, dict):
        return None
    rulebook = object.__new__(Rulebook)
    rulebook.__dict__.update(state, _sections=sections)
    return rulebook


def _load_part(rulebook: Rulebook, group: str) -> None:
    """Set a cached rulebook's part from its section, or (the section damaged) work it out as _build does."""
    names = _PARTS[group]
    sections = rulebook.__dict__["_sections"]
    values = sections.get(group)
    if not (isinstance(values, tuple) and len(values) == len(names)):
        values = _engine_part(rulebook.compiled, group)
    for name, value in zip(names, values):
        object.__setattr__(rulebook, name, value)
    if group == "durable":
        from .engine import durable_form

        durable_form.adopt_encoders(rulebook.durable_encoders)


def load_rules(extra: Sequence[PathLike] = (), *, shipped: bool = True, knowledge: KnowledgeBase | None = None) -> Rulebook:
    """The shipped rules (unless shipped=False) and every rule folder in extra, checked completely and compiled.

    The result is cached per user (see advisor.cache) while the files are unchanged; a rule
    file with a mistake raises RuleError every time. A knowledge base given explicitly checks
    the rules' guide refs against it instead of the shipped one (and skips the cache).
    """
    # The folders as Paths print them, without pathlib for the shipped folder: a start that finds the rules in
    # the cache lists the files (rule_file_names) and reads them for the key, and needs no Path.
    folders = ([data_dir("rules")] if shipped else []) + [str(p) for p in _folders(extra)]
    if knowledge is not None:
        return _build(folders, knowledge)
    files = [_knowledge_path(None)] + [f for folder in folders for f in rule_file_names(folder)]
    digest = cache.key(files, __version__)
    cached = _from_cache(cache.load(digest, sections=True))
    if cached is not None:
        adopt(files[0], cached.knowledge)  # the guide the reports quote: read from the same bytes, not read again
        return _hand_over(cached)
    rulebook = _build(folders, load_knowledge())
    if digest is not None:
        _store(digest, rulebook)
    return _hand_over(rulebook)


def _hand_over(rulebook: Rulebook) -> Rulebook:
    """The rulebook, once what it keeps compiled is handed to those that use it: the profile's validators and
    fields, the durable engine's fact encoders."""
    validation.adopt(rulebook.profile_validator, rulebook.record_validator)
    schema.adopt(rulebook.profile_fields)
    if "durable_encoders" in vars(rulebook):  # else with the durable part, when it is read
        from .engine import durable_form

        durable_form.adopt_encoders(rulebook.durable_encoders)
    return rulebook


def _folders(extra: Any) -> list[Path]:
    """Rule folders as paths: a list of them, or one folder given alone."""
    if isinstance(extra, (str, os.PathLike)):
        extra = [extra]
    elif isinstance(extra, (tuple, list)) and not extra:
        return []
    from pathlib import Path

    try:
        return [Path(p) for p in extra]
    except TypeError:
        raise UsageError(f"rule folders are paths (a folder or a list of folders), not {quoted(extra)}") from None


def _build(folders: Sequence[str], knowledge: KnowledgeBase) -> Rulebook:
    from pathlib import Path

    ruleset = check_rules(folders, knowledge)
    shipped = shipped_rules_dir().resolve()
    custom = any(not Path(f).resolve().is_relative_to(shipped) for f in ruleset.files)
    version = f"{__version__}+{len(ruleset.rules)}{'+custom' if custom else ''}"
    compiled = compile_rules(ruleset)
    plan, encoders = _engine_part(compiled, "durable")
    (python_code,) = _engine_part(compiled, "python")
    validator = validation.profile_validator()
    return Rulebook(knowledge, compiled, version, plan, python_code, facts_code(compiled),
                    pickle.dumps(validator, protocol=pickle.HIGHEST_PROTOCOL), encoders,
                    validation.record_validator(validator), schema.fields())


def _engine_part(compiled: Compiled, group: str) -> tuple:
    """One engine's part of a rulebook (_PARTS), worked out from the compiled rules: the python engine's stage
    functions, or the durable engine's plan (refused when durable-rules cannot take the rules) and fact encoders."""
    if group == "python":
        return (tuple(stage_code(stage) for stage in compiled.stages),)
    from .engine import durable_form

    plan = check_engine_limits(compiled)
    return plan, durable_form.encoder_code(plan)


def check_engine_limits(compiled: Compiled) -> Any:
    """A RuleError naming the rule when durable-rules could not run the compiled rules, whichever engine is
    used: rules that load, load for both engines, and a rule past durable-rules' limits is refused here,
    once, rather than in every worker process that builds the engine. Returns the plan for durable-rules."""
    from .engine import durable_form

    try:
        return durable_form.plan(compiled.stages)
    except durable_form.DurableLimit as exc:
        engine_id = exc.rule_id or ""
        variant = compiled.variants.get(engine_id)
        case = compiled.cases.get(engine_id)
        if variant is not None:
            what, where = f"rule '{variant.rule.id}'", variant.rule.source
        elif case is not None:
            derived = next(d for d in compiled.ruleset.derived if d.name == case[0])
            what, where = f"derived fact '{derived.name}'", derived.source
        else:
            raise RuleError(f"the rules are too many for the durable engine: {exc.reason}; load fewer rules") from None
        raise RuleError(f"{what}: {exc.reason}", where) from None
