"""What a partnership is for (its focus): for each focus a profile of its own (tests/focus/<focus>.yaml) where
the focus changes the severity or the wording of a finding, compared with the same profile without it; no
finding names a situation the partnership does not have; advice beyond the guide is labelled as such in every
format; `advisor rules list` counts the rules that read each focus."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import advisor
from advisor.cli import cli
from advisor.knowledge import load_knowledge
from advisor.language.docs import focus_readers
from advisor.report import document as documents
from advisor.report.text import format_text
from advisor.vocabulary import FOCUSES
from advisor.yamlio import load_file

from conftest import AS_OF, ENGINES, EXAMPLES, get_advisor

FOCUS_DIR = Path(__file__).parent / "focus"
SITUATIONS = Path(__file__).parent / "situations"
sys.path.insert(0, str(FOCUS_DIR))
from compare import compare  # noqa: E402  (the side-by-side script, tests/focus/compare.py)

ALL_PROFILES = sorted(EXAMPLES.glob("*.yaml")) + sorted(FOCUS_DIR.glob("*.yaml")) + sorted(SITUATIONS.glob("*.yaml"))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("focus", FOCUSES)
def test_each_focus_changes_a_finding_of_its_own_profile(focus: str, engine: str) -> None:
    path = FOCUS_DIR / f"{focus}.yaml"
    assert load_file(path).data["focus"] == [focus]
    changed, _, _ = compare(get_advisor(engine), path)
    assert changed, f"the focus {focus} changes no finding of {path.name}"
    # the finding read the focus: its case says why it is adapted to this partnership
    assert all(after.note for _, after in changed)


def test_the_focus_profiles_give_the_figures_of_the_side_by_side_script() -> None:
    """The figures the closing note reports: findings changed per focus, and how many rise or fall."""
    adv = get_advisor("python")
    figures = {}
    for focus in FOCUSES:
        changed, only_with, _ = compare(adv, FOCUS_DIR / f"{focus}.yaml")
        figures[focus] = (len(changed), sum(b.severity != a.severity for b, a in changed), len(only_with))
    assert all(n >= 1 for n, _, _ in figures.values()), figures
    assert sum(s for _, s, _ in figures.values()) >= 6, figures  # most foci change a severity, not only words


def _texts(report) -> list[tuple[str, str]]:
    out = [(f.rule, f"{f.title} {f.message} {f.advice}") for f in (*report.findings, *report.later)]
    out += [(p.id, f"{p.title} {p.message} {p.advice}") for p in report.problems]
    return out


@pytest.mark.parametrize("path", ALL_PROFILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_no_finding_names_a_situation_the_partnership_does_not_have(path: Path) -> None:
    data = load_file(path).data
    report = get_advisor("python").evaluate(path, as_of=AS_OF)
    focus = set(data.get("focus") or ())
    sectors = {p.get("sector") for p in data["partners"]}
    texts = _texts(report)
    wrong = []
    if "surveillance" in focus and not focus & {"victim_support", "schools"}:  # no victims in a CCTV partnership
        wrong += [(rule, word) for rule, text in texts for word in ("victim", "survivor", "learner") if word in text.lower()]
    if not sectors & {"academic", "media"}:  # intellectual property only where partners produce it
        wrong += [(rule, "intellectual property") for rule, text in texts if "intellectual property" in text.lower()]
    if report.recommendation.term == "event":  # no formal MOU for a one-day event
        assert report.recommendation.formality == "informal" and report.recommendation.agreement in (None, "verbal", "letter")
        wrong += [(rule, word) for rule, text in texts for word in ("MOU", "memorandum", "formal partnership") if word in text]
    if "transport" in focus:
        wrong += [(rule, "products") for rule, text in texts if "work products" in text]
    assert not wrong, wrong


def test_every_bundled_example_says_what_it_is_for_and_every_focus_has_an_example() -> None:
    foci = {path.stem: load_file(path).data.get("focus") for path in EXAMPLES.glob("*.yaml")}
    assert all(foci.values()), foci
    assert set(FOCUSES) <= {f for fs in foci.values() for f in fs}


def test_rules_list_counts_the_rules_that_read_each_focus() -> None:
    result = CliRunner().invoke(cli, ["rules", "list"])
    assert result.exit_code == 0
    listing = result.output.split("Rules that read the partnership's focus, per focus:\n")[1].splitlines()
    readers = focus_readers(advisor.load_rules())
    for focus in FOCUSES:
        line = next(ln for ln in listing if ln.split()[0] == focus)
        assert int(line.split()[1]) == len(readers[focus]) >= 1, line


def test_every_law_and_practice_beyond_the_guide_is_cited_by_a_rule() -> None:
    kb, rules = load_knowledge(), advisor.load_rules()
    cited = {r for rule in rules.rules for r in (*rule.refs, *(x for a in rule.adapt for x in a.refs))}
    assert set(kb.beyond) <= cited, set(kb.beyond) - cited


@pytest.mark.parametrize("engine", ENGINES)
def test_advice_beyond_the_guide_is_labelled_in_every_format(engine: str) -> None:
    report = get_advisor(engine).evaluate(FOCUS_DIR / "surveillance.yaml", as_of=AS_OF)
    kb = load_knowledge()
    beyond = {r for f in report.findings for r in f.beyond_refs}
    assert {"law.popia", "law.psira"} <= beyond
    data = json.loads(report.to_json())
    for f in data["findings"]:
        assert not any(kb.is_beyond(r) for r in f["guide_refs"]), f  # never among the guide's refs
    assert any("law.popia" in f.get("beyond_guide", ()) for f in data["findings"])
    assert any("law.popia" in p.get("beyond_guide", ()) for p in data["problems"])
    title = kb.get("law.popia").title
    text = format_text(report, None, width=400, everything=True)
    markdown = documents.render(report, "markdown")
    html = documents.render(report, "html")
    assert f"beyond the guide (law): {title}" in text
    assert f"**Beyond the guide (law):** {title}" in markdown
    assert f'<span class="label-inline">Beyond the guide (law)</span> {title}' in html
    for doc in (text, markdown, html):  # never quoted as the guide's words
        assert "the guide, law." not in doc and "the guide, practice." not in doc


@pytest.mark.skipif(len(ENGINES) < 2, reason="durable-rules is not importable here")
@pytest.mark.parametrize("path", sorted(FOCUS_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_engines_agree_on_every_focus_profile(path: Path) -> None:
    reports = [get_advisor(engine).evaluate(path, as_of=AS_OF).to_json() for engine in ("durable", "python")]
    assert reports[0] == reports[1]
