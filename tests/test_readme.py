"""The README stands on its own in a clone: every link and image in it is a file of this
repository (public sites are named in plain text, as instructions, not linked)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Markdown links and images `[text](target)`, and the HTML `src=`/`href=` the README uses.
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?[^)]*\)|(?:src|href)=\"([^\"]+)\"")


def links(text: str) -> list[str]:
    prose = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)  # code blocks link nothing
    return [a or b for a, b in LINK.findall(prose)]


def test_every_readme_link_is_a_file_of_the_repository() -> None:
    found = links((ROOT / "README.md").read_text("utf-8"))
    assert "docs/digest.png" in found and "config.example.toml" in found  # the parser sees them
    for target in found:
        assert not re.match(r"[a-z][a-z0-9+.-]*:", target, re.I), (
            f"{target}: outside the repository"
        )
        path = (ROOT / target.split("#", 1)[0]).resolve()
        assert path.is_relative_to(ROOT), f"{target}: outside the repository"
        assert path.exists(), f"{target}: no such file in the repository"
