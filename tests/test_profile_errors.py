"""Every broken profile in tests/broken gives its exact one-line message, naming file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

import advisor
from advisor.profile.models import Profile

BROKEN = Path(__file__).parent / "broken"


def _expected() -> list[tuple[str, str]]:
    rows = []
    for line in (BROKEN / "expected.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, message = line.split("\t", 1)
            rows.append((name, message))
    return rows


def test_every_broken_file_has_an_expected_message() -> None:
    assert sorted(p.name for p in BROKEN.glob("*.yaml")) == sorted(name for name, _ in _expected())


@pytest.mark.parametrize("name,message", _expected(), ids=[n for n, _ in _expected()])
def test_broken_profile_message(name: str, message: str, shipped_rules: advisor.Rulebook) -> None:
    path = BROKEN / name
    with pytest.raises(advisor.ProfileError) as info:
        advisor.load_profile(path, shipped_rules)
    text = str(info.value)
    assert text == f"{path}{message}"
    assert "\n" not in text


def test_missing_file() -> None:
    with pytest.raises(advisor.ProfileError, match=r"^nowhere\.yaml: file not found$"):
        advisor.load_profile("nowhere.yaml")


def test_an_error_is_one_line_whatever_its_file_name_and_values_hold(tmp_path) -> None:
    # Every character str.splitlines() breaks at, in the file's name and in a quoted value.
    breaks = "\n\v\f\r\x1c\x1d\x1e\x85\u2028\u2029"
    path = tmp_path / f"ward{breaks}.yaml"
    path.write_text('name: W\npartners:\n  - name: A\ngoals:\n  - "' + breaks.encode("unicode_escape").decode() + '"\n')
    with pytest.raises(advisor.ProfileError) as info:
        advisor.load_profile(path)
    message = str(info.value)
    assert len(message.splitlines()) == 1
    assert "ward\\n\\x0b\\x0c\\r" in message and "goals[0]" in message


def test_error_carries_location_and_field() -> None:
    with pytest.raises(advisor.ProfileError) as info:
        advisor.load_profile(BROKEN / "unknown-key.yaml")
    err = info.value
    assert (err.location.line, err.location.column) == (4, 5)
    assert err.field == "partners[0].sectr"


def test_windows_line_endings_and_byte_order_mark_are_accepted(tmp_path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfname: Ward 12 Safety Forum\r\npartners:\r\n  - name: SAPS Ward 12\r\n")
    loaded = advisor.load_profile(path)
    assert loaded.profile.name == "Ward 12 Safety Forum"
    assert loaded.line(("partners", 0, "name")) == 3


def test_duration_months_derived_from_dates() -> None:
    profile = Profile.model_validate(
        {"name": "X", "partners": [{"name": "A"}], "duration": {"start": "2026-02-01", "end": "2028-01-31"}}
    )
    assert profile.duration.months == 24.0


def test_a_partner_list_of_thousands_is_evaluated(tmp_path, py_advisor) -> None:
    path = tmp_path / "many.yaml"
    rows = "".join(f"  - name: Partner {i}\n    sector: {'police' if i % 2 else 'community'}\n" for i in range(3000))
    path.write_text("name: Provincial forum\npartners:\n" + rows, encoding="utf-8")
    report = py_advisor.evaluate(path, as_of="2026-11-25")
    assert report.derived["sector_count"] == 2


def test_oversized_file_is_refused(tmp_path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("name: X\npartners:\n" + "  - name: A\n" * 400_000, encoding="utf-8")
    with pytest.raises(advisor.ProfileError, match="over the limit of 4,194,304 bytes"):
        advisor.load_profile(path)
