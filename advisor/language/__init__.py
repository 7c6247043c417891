"""The rule language: rule files read, checked completely and compiled for the engines.

The road through this room: ``loader`` finds the rule files and reads their YAML; each record
(a rule, a derived fact) is checked as a pydantic model in ``records``; ``parser`` parses what
the records say in the language (conditions, templates, computations) into the syntax tree of
``syntax``, refusing with ``contradiction`` a condition no profile can meet; ``compiler`` turns
the checked RuleSet into staged engine rules (``advisor.engine.ir``) and a plan of the facts
they read. ``docs`` writes the rules out in words for the rule reference.
"""

from .compiler import Compiled, Variant, compile_rules
from .loader import check_rules, rule_files
from .syntax import Derived, Ref, Rule, RuleSet, Template

__all__ = [
    "Compiled",
    "Derived",
    "Ref",
    "Rule",
    "RuleSet",
    "Template",
    "Variant",
    "check_rules",
    "compile_rules",
    "rule_files",
]
