"""Where the source tree keeps what is not Python: the templates (emails, pages, the report)."""

from __future__ import annotations

from pathlib import Path

# The top-level templates/ folder of the source tree (emails, respondent pages, the report)
TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
