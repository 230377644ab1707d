"""The README's gallery: every committed image is shown, every shown image is committed, and (slow) regenerating them
with the command the README gives reproduces each file byte for byte, so a gallery image cannot drift from its code."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GALLERY = ROOT / "docs" / "gallery"


def shown() -> list[str]:
    """The gallery images the README shows, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return list(dict.fromkeys(re.findall(r"\(docs/gallery/([\w.-]+)\.png\)", text)))


def test_the_readme_shows_exactly_the_committed_images():
    committed = sorted(p.stem for p in GALLERY.glob("*.png"))
    assert committed and sorted(shown()) == committed


def differing(names: list[str], regenerated: Path) -> list[str]:
    """The names whose regenerated PNG differs from the committed one (or is missing)."""
    return [n for n in names if not (regenerated / f"{n}.png").is_file()
            or (regenerated / f"{n}.png").read_bytes() != (GALLERY / f"{n}.png").read_bytes()]


def test_a_changed_image_is_noticed(tmp_path):
    """Negative control of the byte comparison: a copy with one image swapped for another must differ."""
    names = shown()
    for n in names:
        (tmp_path / f"{n}.png").write_bytes((GALLERY / f"{n}.png").read_bytes())
    assert differing(names, tmp_path) == []
    (tmp_path / f"{names[0]}.png").write_bytes((GALLERY / f"{names[1]}.png").read_bytes())
    assert differing(names, tmp_path) == [names[0]]


@pytest.mark.slow
def test_the_gallery_regenerates_byte_for_byte(tmp_path):
    from figures.cli import main

    names = shown()
    assert main(["--fast", "--out", str(tmp_path), "--only", *names, "--quiet"]) == 0
    assert differing(names, tmp_path) == []
