"""Outside checkers for what people see: real Chromium (Playwright, the system browser) and axe-core.

axe-core comes from the npm registry (``package.json`` at the top of the repo, installed into
``node_modules/`` by ``scripts/services``); it is injected into the page under test and run there, so the
verdict is axe's own, not ours. ``chromium`` is the shared pytest fixture (see ``tests/conftest.py``).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
AXE_JS = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
# The rule sets that make up WCAG 2.1 A and AA (axe's own tags), plus axe's best practices.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def _missing(what: str) -> None:
    """A clear failure on CI (where scripts/services installs it), a skip on a laptop without it."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} (scripts/services installs it)")
    pytest.skip(what)


def launch_chromium() -> Iterator[Any]:
    """Yield a Playwright browser on the system Chromium; closed afterwards."""
    if not shutil.which(CHROMIUM):
        _missing("Chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def axe_violations(page: Any, tags: list[str] | None = None) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; return its violations (empty list: none).

    The page's context must have JavaScript enabled (axe schedules its work with timers, which a
    JavaScript-less context never fires); Tryghed's pages need no script, so their DOM is the same either way.
    """
    if not AXE_JS.is_file():
        _missing(f"axe-core is not installed at {AXE_JS} (npm ci)")
    # axe's source is evaluated as a function body, so it runs even where the page itself has no JavaScript
    script = (
        "async (tags) => {" + AXE_JS.read_text(encoding="utf-8") + ";\n"
        "return await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']}); }"
    )
    result = page.evaluate(script, tags or WCAG_TAGS)
    return list(result["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    """A readable summary of axe violations for an assertion message."""
    lines = []
    for v in violations:
        targets = [json.dumps(node["target"]) for node in v["nodes"][:5]]
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} -> {', '.join(targets)}")
    return "\n".join(lines)
