"""Every chapter follows one pattern: objectives, prerequisites and time first; summary and try-it exercises last."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def chapters() -> list[str]:
    """The root page and every chapter of a numbered part of _toc.yml (back matter excluded)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"]] + [c["file"] for part in toc.get("parts", []) if part.get("numbered")
                            for c in part.get("chapters", [])]


@pytest.mark.parametrize("chapter", chapters())
def test_chapter_opens_with_objectives_and_ends_with_summary_and_exercises(chapter):
    text = (ROOT / f"{chapter}.md").read_text()
    body = text.split("\n# ", 1)[1]  # after the title
    opening = body.split("\n## ", 1)[0]
    assert ":::{admonition} In this chapter" in opening, "the chapter must open with an 'In this chapter' box"
    for part in ("**After this chapter you can**", "**Prerequisites.**", "**Estimated time.**"):
        assert part in opening, f"the opening box lacks {part}"
    assert re.search(r"\*\*Estimated time\.\*\* \d+ minutes", opening), "give the estimated time in minutes"

    headings = re.findall(r"^## (.+)$", body, re.M)
    assert "Summary" in headings and "Exercises" in headings, headings
    assert headings.index("Summary") < headings.index("Exercises")
    exercises = body.split("\n## Exercises", 1)[1]
    assert "not graded" in exercises.split("\n## ", 1)[0].split("{exercise}")[0]
    n_ex = len(re.findall(r"^`{3,4}\{exercise\}", exercises, re.M))
    starts = re.findall(r"^```\{solution-start\}[^\n]*\n:class: dropdown$", exercises, re.M)
    assert n_ex >= 2, "at least two short try-it exercises"
    assert len(starts) == n_ex, "every exercise has its answer in a collapsed dropdown (solution-start, :class: dropdown)"
