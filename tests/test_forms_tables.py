"""`advisor table` (portfolio results as CSV) and `advisor examples`."""

from __future__ import annotations

import csv
import io
import pathlib

from click.testing import CliRunner

from advisor.cli import cli
from advisor.forms.tables import safe

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "advisor" / "examples"


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_row_per_profile_with_readiness_counts_and_the_first_problems(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: X\npartners:\n  - name: A\n    sectr: police\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["table", "--as-of", "2026-11-25", str(EXAMPLES), str(bad)])
    assert result.exit_code == 2  # the bad profile is reported, the others are in the table
    rows = _rows(result.stdout)
    assert len(rows) == len(list(EXAMPLES.glob("*.yaml"))) + 1  # every example, and the bad profile
    by_name = {r["profile"]: r for r in rows}
    struggling = by_name["Pietermaritzburg CBD Business Against Crime Forum"]
    assert struggling["readiness"] == "Not ready yet" and struggling["stage"] == "running"
    assert int(struggling["high"]) > 0 and struggling["problem_1"].endswith("(high)")
    assert by_name["Khayelitsha Safer Schools Partnership"]["readiness"] == "Nearly ready"
    assert rows[-1]["error"].startswith(str(bad) + ":4:5: partners[0].sectr")
    assert "error: " + str(bad) in result.stderr


def test_a_row_per_finding(tmp_path):
    out = tmp_path / "findings.csv"
    result = CliRunner().invoke(cli, ["table", "--per", "finding", "-o", str(out), str(EXAMPLES / "draft-partners-only.yaml")])
    assert result.exit_code == 0, result.output
    rows = _rows(out.read_text(encoding="utf-8"))
    assert {r["kind"] for r in rows} >= {"Governance gap", "Question"}
    first = rows[0]
    assert first["rule"] == "governance.purpose-statement" and first["severity"] == "High" and first["guide"]


def test_text_a_spreadsheet_would_run_is_kept_as_text():
    assert safe("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert safe("-1") == "'-1" and safe("SAPS") == "SAPS" and safe(3) == 3


def test_examples_are_listed_and_copied_without_replacing_anything(tmp_path):
    listed = CliRunner().invoke(cli, ["examples"])
    assert listed.exit_code == 0 and "khayelitsha-safer-schools.yaml" in listed.stdout
    assert "advisor examples --copy DIR" in listed.stdout
    assert "yaml-language-server" not in listed.stdout  # each is described by its comment, not its modeline
    folder = tmp_path / "mine"
    assert CliRunner().invoke(cli, ["examples", "--copy", str(folder)]).exit_code == 0
    assert sorted(p.name for p in folder.iterdir()) == sorted([p.name for p in EXAMPLES.glob("*.yaml")]
                                                              + ["profile.schema.json"])
    (folder / "khayelitsha-safer-schools.yaml").write_text("# changed\n", encoding="utf-8")
    again = CliRunner().invoke(cli, ["examples", "--copy", str(folder)])
    assert again.exit_code == 2 and "already exists; not replaced" in again.stderr
    assert (folder / "khayelitsha-safer-schools.yaml").read_text(encoding="utf-8") == "# changed\n"
