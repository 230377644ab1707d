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


#: the BLAS kernel the committed images are drawn with. OpenBLAS picks its matrix kernel by CPU when it loads
#: (DYNAMIC_ARCH), and its AVX-512 kernel (SkylakeX) rounds sums in another order than the AVX2 one (Haswell, also
#: used on Zen): enough to move a float32 Monte Carlo point by a fraction of a pixel (on an AVX-512 machine, 90 pixels
#: of mc-variance-depth and 1 of train-standardization changed). The images are byte-reproducible under one kernel,
#: so they are drawn and checked under this one, which every x86-64 CPU with AVX2 runs.
CORETYPE = "Haswell"


def _runs_the_kernel() -> bool:
    import platform

    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    try:
        return " avx2 " in f" {Path('/proc/cpuinfo').read_text()} ".replace("\n", " ")
    except OSError:
        return False


@pytest.mark.slow
def test_the_gallery_regenerates_byte_for_byte(tmp_path):
    """The README's command, run under the gallery's BLAS kernel (OPENBLAS_CORETYPE, read when NumPy loads: a fresh
    process), reproduces every committed image byte for byte."""
    import os
    import subprocess
    import sys

    if not _runs_the_kernel():
        pytest.skip(f"the gallery is drawn with OpenBLAS's {CORETYPE} kernel (x86-64 with AVX2); this CPU has no such "
                    "kernel, and another kernel rounds sums differently")
    names = shown()
    env = {**os.environ, "OPENBLAS_CORETYPE": CORETYPE, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "figures", "--fast", "--out", str(tmp_path), "--only", *names,
                           "--quiet"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert differing(names, tmp_path) == []


def test_the_readme_gives_the_gallerys_kernel():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"OPENBLAS_CORETYPE={CORETYPE} python -m figures --fast --out docs/gallery --only" in text
