"""The README's "From Python" examples run as written: each ```python block of that section is executed in a fresh
namespace (cwd a temporary folder, matplotlib on Agg, warnings are errors as everywhere) and must print something."""
import re
import tempfile
from pathlib import Path

import matplotlib
import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "## From Python"
MIN_BLOCKS = 5  # one per layer at least: a derivation, mean field, Monte Carlo vs theory, training, a figure


def section(text: str, title: str = SECTION) -> str:
    """The text from the heading ``title`` to the next second-level heading ('' if there is no such heading)."""
    m = re.search(rf"^{re.escape(title)}[ \t]*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    return m.group(1) if m else ""


def python_blocks(text: str) -> list[str]:
    """The bodies of the fenced ```python blocks of ``text``, in order."""
    return re.findall(r"^```python[ \t]*\n(.*?)^```[ \t]*$", text, re.M | re.S)


BLOCKS = python_blocks(section(README.read_text(encoding="utf-8")))


def test_section_has_a_block_per_layer():
    assert len(BLOCKS) >= MIN_BLOCKS, f"README's {SECTION!r} has {len(BLOCKS)} python blocks, want >= {MIN_BLOCKS}"
    for layer in ("theory", "sims", "figures", "lecture"):
        assert any(re.search(rf"^from {layer} import", b, re.M) for b in BLOCKS), f"no example imports {layer}"


def test_extraction_sees_only_that_section():
    """Negative control: a block outside the section, or a ```bash block inside it, is not picked up."""
    text = ("## A\n```python\nprint('a')\n```\n## From Python\nintro\n```python\nx = 1\nprint(x)\n```\n"
            "```bash\nls\n```\n## B\n```python\nprint('b')\n```\n")
    assert python_blocks(section(text)) == ["x = 1\nprint(x)\n"]
    assert section(text, "## Missing") == ""


@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=[f"block{i + 1}" for i in range(len(BLOCKS))])
def test_example_runs(index, tmp_path, monkeypatch, capsys):
    matplotlib.use("Agg")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # tempfile.mkdtemp() in an example lands in tmp_path
    code = compile(BLOCKS[index], f"README.md:{SECTION}:block{index + 1}", "exec")
    exec(code, {"__name__": "__readme__"})
    out = capsys.readouterr().out
    assert out.strip(), f"block {index + 1} printed nothing"
