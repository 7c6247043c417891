"""advisor: a rules-based partnership advisor built on the Guide to Strategic Partnering (CSPS, 2020)."""

__version__ = "0.2.0"

from typing import Any  # noqa: E402

from .errors import AdvisorError, EngineError, KnowledgeError, ProfileError, RuleError, UsageError  # noqa: E402
from .profile.models import Profile  # noqa: E402
from .report.findings import Evidence, Finding, Report  # noqa: E402
from .api import Advisor, as_of_date, evaluate, load_profile, load_rules  # noqa: E402
from .rulebook import Rulebook  # noqa: E402

#: Portfolio names, imported on first use: the portfolio module brings in multiprocessing, which a
#: single evaluation (and the command line's start-up) does not need.
_PORTFOLIO = ("PortfolioSummary", "ProfileRecord", "Outcome", "evaluate_portfolio", "summarize", "expand_inputs")

__all__ = [
    "Advisor", "evaluate", "load_profile", "load_rules", "as_of_date", "Rulebook",
    "Profile", "Report", "Finding", "Evidence",
    *_PORTFOLIO,
    "AdvisorError", "ProfileError", "RuleError", "KnowledgeError", "EngineError", "UsageError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name in _PORTFOLIO:
        from . import portfolio

        return getattr(portfolio, name)
    raise AttributeError(f"module 'advisor' has no attribute {name!r}")
