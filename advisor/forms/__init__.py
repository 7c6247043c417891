"""Ways into a profile without writing YAML: the questionnaire, `advisor init`, phone forms (XLSForm) and their
exports, a printable checklist, and spreadsheets of results."""
