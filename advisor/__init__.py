"""advisor: a rules-based partnership advisor built on the Guide to Strategic Partnering (CSPS, 2020)."""

__version__ = "0.2.0"

from typing import TYPE_CHECKING, Any  # noqa: E402

from .errors import AdvisorError, EngineError, KnowledgeError, ProfileError, RuleError, UsageError  # noqa: E402

#: The library's names, each imported from its module on first use (PEP 562), so that `import advisor` and the
#: command line's start-up load only what they use: the profile models, the rules and the report writers are
#: imported by the first name that needs them, the portfolio (with multiprocessing) by the portfolio names.
_LAZY = {
    "Advisor": "api", "evaluate": "api", "load_profile": "api", "load_rules": "api", "as_of_date": "api",
    "Rulebook": "rulebook",
    "Profile": "profile.models",
    "Report": "report.findings", "Finding": "report.findings", "Evidence": "report.findings",
    "PortfolioSummary": "portfolio", "ProfileRecord": "portfolio", "Outcome": "portfolio",
    "evaluate_portfolio": "portfolio", "summarize": "portfolio", "expand_inputs": "portfolio",
}

__all__ = [
    "Advisor", "evaluate", "load_profile", "load_rules", "as_of_date", "Rulebook",
    "Profile", "Report", "Finding", "Evidence",
    "PortfolioSummary", "ProfileRecord", "Outcome", "evaluate_portfolio", "summarize", "expand_inputs",
    "AdvisorError", "ProfileError", "RuleError", "KnowledgeError", "EngineError", "UsageError",
    "__version__",
]

if TYPE_CHECKING:
    from .api import Advisor, as_of_date, evaluate, load_profile, load_rules
    from .portfolio import Outcome, PortfolioSummary, ProfileRecord, evaluate_portfolio, expand_inputs, summarize
    from .profile.models import Profile
    from .report.findings import Evidence, Finding, Report
    from .rulebook import Rulebook


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'advisor' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value  # once imported, a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
