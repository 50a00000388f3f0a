"""Everything a person reads: result files, the plan preview, the terminal, the hints.

- :mod:`runner.outputs.files`: every file replaced whole (never half-written).
- :mod:`runner.outputs.cells`: text a spreadsheet would run as a formula, neutralised.
- :mod:`runner.outputs.results`: ``results.csv``/``.xlsx``, ``failures.csv``,
  ``unprocessed.csv`` written from the ledger.
- :mod:`runner.outputs.preview`: the plan preview (terminal, ``preview.md``,
  ``preview.json``, ``plan.xlsx``, ``plan.csv``, ``plan.parquet``).
- :mod:`runner.outputs.xlsx`: workbooks of large tables, written in seconds (ids as Text).
- :mod:`runner.outputs.console`: command results as tables or one JSON object.
- :mod:`runner.outputs.hints`: the "what next" lines with the exact command to type.
- :mod:`runner.outputs.templates`: the audience spreadsheet templates (``runner init``,
  ``INBOX/templates/``).

Each module is imported by its full name; nothing is re-exported here.
"""
