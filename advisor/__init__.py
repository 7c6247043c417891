"""advisor: a rules-based partnership advisor built on the Guide to Strategic Partnering (CSPS, 2020)."""

__version__ = "0.1.0"

from .errors import AdvisorError, EngineError, KnowledgeError, ProfileError, RuleError, UsageError  # noqa: E402
from .models import Profile  # noqa: E402
from .report import Evidence, Finding, Report  # noqa: E402
from .api import Advisor, evaluate, load_profile, load_rules  # noqa: E402

__all__ = [
    "Advisor", "evaluate", "load_profile", "load_rules",
    "Profile", "Report", "Finding", "Evidence",
    "AdvisorError", "ProfileError", "RuleError", "KnowledgeError", "EngineError", "UsageError",
    "__version__",
]
