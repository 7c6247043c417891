"""`advisor form xlsform` and `advisor import`: the phone form converts cleanly, and its exports come back as
the same profiles `advisor init --from` makes."""

from __future__ import annotations

import json
import pathlib

import pytest
import yaml
from click.testing import CliRunner

from advisor import load_profile
from advisor.cli import cli
from advisor.forms.questionnaire import load_questionnaire

from forms_exports import form_layout, kobo_xlsx, odk_central_csv, simple_csv

# Two submissions as a phone sends them: choice names, several choices separated by spaces.
KHAYELITSHA = {
    "partnership_name": "Khayelitsha Safer Schools Partnership", "stage": "active", "focus": "schools youth",
    "affected": "learners; parents walking children to school",
    "partners": [
        {"partner_name": "Khayelitsha CPF", "partner_sector": "community", "partner_role": "Convenes the partnership",
         "partner_contributes": "time networks", "partner_commitment": "signed", "partner_leader_engaged": "yes",
         "partner_values": "ubuntu; accountability", "partner_relationship": "long_standing"},
        {"partner_name": "SAPS Khayelitsha", "partner_sector": "police", "partner_contributes": "staff data",
         "partner_commitment": "written", "partner_leader_engaged": "dont_know", "partner_executive_sponsor": "yes"},
        {"partner_name": "Site B High School", "partner_sector": "education", "partner_contributes": "venue"},
    ],
    "lead_partner": "Khayelitsha CPF", "stakeholder_mapping_done": "yes", "trust_level": "medium",
    "purpose_statement": "Reduce violence in and around five schools: Site B, Site C and Harare.",
    "common_understanding": "yes", "shared_vision": "no", "shared_values": "child safety; respect",
    "goals": [{"goal_statement": "Cut bullying incidents by 30% in 12 months", "goal_priority": 1,
               "goal_measurable": "yes", "goal_owner": "SAPS Khayelitsha",
               "goal_partners": "Khayelitsha CPF; SAPS Khayelitsha"}],
    "approach": "integrated_sectoral", "formality": "formal", "agreement": "mou", "funding_model": "mixed",
    "budget_required": 450000, "budget_committed": 300000, "currency": "ZAR", "cost_sharing_agreed": "yes",
    "start_date": "2026-02-01", "end_date": "2028-01-31", "level": "collaboration", "information_sharing": "yes",
    "mutual_consultation": "yes", "shared_resources": "no", "joint_planning": "yes",
    "committee_exists": "yes", "committee_members": 9, "committee_sectors": "police education community",
    "governance_protocol": "no", "decision_making": "consensus", "screening_and_referral": "not_applicable",
    "screening_and_referral_why_not": "The schools refer learners themselves",
    "communication_plan": "yes", "communication_frequency": "monthly", "communication_channels": "meetings; WhatsApp",
    "skills_gaps": "safety officer for 3,000 people",
    "risks": [{"risk_description": "Key champion transferred", "risk_likelihood": "medium", "risk_impact": "high",
               "risk_owner": "Khayelitsha CPF"}],
    "review_frequency": "quarterly", "last_review": "2026-09-30", "reports_progress": "yes",
    "kpis": [{"kpi_name": "Bullying incidents reported", "kpi_unit": "incidents per term", "kpi_baseline": 120,
              "kpi_target": 84, "kpi_actual": 101, "kpi_agreed_by_all": "yes"}],
}
MAMELODI = {
    "partnership_name": "Mamelodi East Neighbourhood Safety", "stage": "forming",
    "partners": [{"partner_name": "Mamelodi East CPF", "partner_sector": "community"},
                 {"partner_name": "Ward 17 Committee", "partner_sector": "government"}],
}


def _bad(submission: dict) -> dict:
    broken = json.loads(json.dumps(submission))
    broken["partners"][1]["partner_sector"] = "polise"
    return broken


@pytest.fixture(scope="module")
def form(tmp_path_factory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("form") / "partnership.xlsx"
    result = CliRunner().invoke(cli, ["form", "xlsform", "-o", str(path)])
    assert result.exit_code == 0, result.output
    return path


def test_pyxform_converts_the_form_without_errors_or_warnings(form):
    from pyxform.xls2xform import convert

    warnings: list[str] = []
    result = convert(str(form), warnings=warnings)
    assert warnings == []
    assert "<h:title>Partnership profile</h:title>" in result.xform
    for path in ("who/partners", "purpose/goals", "resources/risks", "monitoring/kpis"):
        assert f'<repeat nodeset="/data/{path}"' in result.xform


def test_the_form_has_a_question_for_every_covered_field(form):
    qn = load_questionnaire()
    layout = form_layout()
    fields = {}
    for repeat, q in qn.questions():
        if q.field is not None:
            assert q.id in layout, q.id
            fields[q.id] = q.field
    repeats = {r.field for r in qn.repeats.values()}
    covered = [f for f in qn.covered_fields() if f not in repeats]
    assert len(fields) == len(covered) == 92  # and the four lists of items are the form's four repeats
    assert {r for r in (layout[q]["repeat"] for q in layout) if r} == {"partners", "goals", "risks", "kpis"}


def test_the_form_has_conditions_and_constraint_messages(form):
    from openpyxl import load_workbook

    rows = list(load_workbook(form)["survey"].iter_rows(values_only=True))
    cells = {r[1]: dict(zip(rows[0], r)) for r in rows[1:] if not str(r[0]).startswith("end_")}
    assert cells["kpis"]["relevant"] == "(${stage} = 'active' or ${stage} = 'reviewing' or ${stage} = 'closing')"
    assert cells["committee_members"]["relevant"] == "${committee_exists} = 'yes'"
    assert cells["end_date"]["constraint"] == ". >= ${start_date}"
    assert cells["end_date"]["constraint_message"].startswith("This date is before")
    assert cells["partner_sector"]["label"] == "Which sector is ${partner_name} from?"
    assert cells["screening_and_referral_why_not"]["relevant"] == "${screening_and_referral} = 'not_applicable'"
    choices = list(load_workbook(form)["choices"].iter_rows(values_only=True))
    assert ("sector_dk", "police", "Police (SAPS or metro police)") in choices
    assert ("yes_no_dk_na", "not_applicable", "Does not apply") in choices


def _import(files, out: pathlib.Path):
    return CliRunner().invoke(cli, ["import", *map(str, files), "-o", str(out)])


def _report(path: pathlib.Path) -> dict:
    result = CliRunner().invoke(cli, ["evaluate", "--format", "json", "--fail-on", "never", "--as-of", "2026-11-25",
                                      str(path)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    report["profile"].pop("source")
    return report


def test_init_from_answers_and_a_kobo_import_of_the_same_answers_give_the_same_report(tmp_path):
    answers = tmp_path / "answers.yaml"
    answers.write_text(yaml.safe_dump(KHAYELITSHA, allow_unicode=True), encoding="utf-8")
    made = tmp_path / "made.yaml"
    assert CliRunner().invoke(cli, ["init", "--from", str(answers), str(made)]).exit_code == 0
    export = kobo_xlsx(tmp_path / "kobo.xlsx", [KHAYELITSHA])
    result = _import([export], tmp_path / "imported")
    assert result.exit_code == 0, result.output
    imported = tmp_path / "imported" / "khayelitsha-safer-schools-partnership.yaml"
    assert _report(made) == _report(imported)
    assert load_profile(str(made)).profile == load_profile(str(imported)).profile
    assert _report(made)["findings"]  # a real report, not two empty ones


@pytest.mark.parametrize("exporter", ["kobo", "odk", "simple"])
def test_each_export_imports_every_good_submission_and_names_the_bad_row(tmp_path, exporter):
    submissions = [KHAYELITSHA, _bad(MAMELODI), {**MAMELODI, "partnership_name": "Soshanguve Safety"}]
    if exporter == "kobo":
        files = [kobo_xlsx(tmp_path / "kobo.xlsx", submissions)]
        where = "kobo.xlsx[partners]:6:2: who/partners/partner_sector:"
    elif exporter == "odk":
        files = odk_central_csv(tmp_path, submissions)
        where = "partnership_profile-partners.csv:6:2: who-partners-partner_sector:"
    else:
        files = simple_csv(tmp_path, submissions)
        where = "partners.csv:6:3: partner_sector:"
    result = _import(files, tmp_path / "out")
    assert result.exit_code == 2
    errors = result.stderr.splitlines()
    assert len(errors) == 1 and where in errors[0] and "'polise' is not one of the answers" in errors[0], errors
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["khayelitsha-safer-schools-partnership.yaml", "soshanguve-safety.yaml"]
    profile = load_profile(str(tmp_path / "out" / written[0])).profile
    assert [p.name for p in profile.partners] == ["Khayelitsha CPF", "SAPS Khayelitsha", "Site B High School"]
    assert profile.partners[0].objectives == ["g1"] and profile.partners[2].objectives == []
    assert profile.committee.sectors_represented == ["police", "education", "community"]
    assert profile.resources.skills_gaps == ["safety officer for 3,000 people"]
    assert profile.monitoring.kpis[0].actual == 101


def test_import_never_replaces_a_profile_without_force(tmp_path):
    files = simple_csv(tmp_path, [MAMELODI])
    out = tmp_path / "out"
    assert _import(files, out).exit_code == 0
    mine = out / "mamelodi-east-neighbourhood-safety.yaml"
    mine.write_text("# mine\n", encoding="utf-8")
    result = _import(files, out)
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert mine.read_text(encoding="utf-8") == "# mine\n"


def test_a_simple_sheet_with_a_misspelt_column_is_refused_naming_it(tmp_path):
    (tmp_path / "p.csv").write_text("partnership_name,stag\nX,active\n", encoding="utf-8")
    result = _import([tmp_path / "p.csv"], tmp_path / "out")
    assert result.exit_code == 2
    assert result.stderr.strip().endswith("p.csv:1:2: stag: is not a question id; did you mean 'stage'?")


def test_a_file_that_is_not_a_spreadsheet_is_one_line(tmp_path):
    (tmp_path / "p.xlsx").write_text("not a workbook", encoding="utf-8")
    result = _import([tmp_path / "p.xlsx"], tmp_path / "out")
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1
    assert "cannot be read as an Excel workbook" in result.stderr


def test_an_odk_central_zip_imports_as_its_csv_files(tmp_path):
    import zipfile

    files = odk_central_csv(tmp_path, [KHAYELITSHA, MAMELODI])
    archive = tmp_path / "partnership_profile.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in files:
            z.write(f, f.name)
    result = _import([archive], tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "out").iterdir())) == 2
    assert "partnership_profile.zip[partnership_profile.csv]:2" in result.stdout


def test_a_partner_of_no_partnership_and_two_partnerships_of_one_name_are_errors(tmp_path):
    (tmp_path / "partnerships.csv").write_text(
        "partnership_name,stage\nWard 5,forming\nWard 6,forming\nward 5,active\n", encoding="utf-8")
    (tmp_path / "partners.csv").write_text(
        "partnership,partner_name\nWard 5,CPF 5\nWard 6,CPF 6\nWard 7,CPF 7\n", encoding="utf-8")
    result = _import([tmp_path / "partnerships.csv", tmp_path / "partners.csv"], tmp_path / "out")
    assert result.exit_code == 2
    errors = result.stderr.splitlines()
    assert errors[0].endswith("partnerships.csv:4:1: partnership_name: row 2 has the same partnership_name; give each "
                              "partnership its own name so that its partners can be told apart")
    assert errors[1].endswith("partners.csv:4:1: partnership: 'Ward 7' is not a submission or partnership of "
                              f"{tmp_path / 'partnerships.csv'}; this partner is left out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["ward-5.yaml", "ward-6.yaml"]


def test_an_export_without_submissions_says_so(tmp_path):
    (tmp_path / "p.csv").write_text("partnership_name,stage\n", encoding="utf-8")
    result = _import([tmp_path / "p.csv"], tmp_path / "out")
    assert result.exit_code == 2 and "holds no submissions" in result.stderr


def test_a_kobo_csv_export_with_semicolons_and_repeat_files_imports(tmp_path):
    import csv
    from openpyxl import load_workbook

    book = load_workbook(kobo_xlsx(tmp_path / "kobo.xlsx", [KHAYELITSHA]), read_only=True)
    files = []
    for sheet in book.worksheets:  # Kobo's CSV export separates with ';'
        path = tmp_path / f"{sheet.title.replace(' ', '_')}.csv"
        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh, delimiter=";")
            for row in sheet.iter_rows(values_only=True):
                writer.writerow(["" if v is None else v for v in row])
        files.append(path)
    result = _import(files, tmp_path / "out")
    assert result.exit_code == 0, result.output
    made = tmp_path / "out" / "khayelitsha-safer-schools-partnership.yaml"
    assert len(load_profile(str(made)).profile.partners) == 3


def test_an_export_with_labels_for_headers_says_how_to_export(tmp_path):
    (tmp_path / "labels.csv").write_text("What is the partnership called?;_uuid\nX;abc\n", encoding="utf-8")
    result = _import([tmp_path / "labels.csv"], tmp_path / "out")
    assert result.exit_code == 2 and "export with 'XML values and headers', not labels" in result.stderr


def test_a_workbook_that_unpacks_to_too_much_is_refused(tmp_path, monkeypatch):
    import advisor.forms.importer as importer

    monkeypatch.setattr(importer, "MAX_UNPACKED", 1000)
    export = kobo_xlsx(tmp_path / "kobo.xlsx", [MAMELODI])
    result = _import([export], tmp_path / "out")
    assert result.exit_code == 2 and "unpacks to more than" in result.stderr
