"""Imports go one way: lecture -> figures -> sims -> theory (DESIGN.md). Checked on the syntax tree."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ORDER = ["theory", "sims", "figures", "lecture"]
ALLOWED_THIRD_PARTY = {
    "theory": {"sympy", "numpy", "scipy", "mpmath"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", ORDER)
def test_no_upward_imports(package):
    forbidden = set(ORDER[ORDER.index(package) + 1:])
    for path in sorted((ROOT / package).glob("**/*.py")):
        bad = _imports(path) & forbidden
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}, a layer above {package}"


def test_theory_uses_only_its_libraries():
    import sys
    stdlib = set(sys.stdlib_module_names)
    for path in sorted((ROOT / "theory").glob("**/*.py")):
        extra = _imports(path) - stdlib - ALLOWED_THIRD_PARTY["theory"] - {"theory"}
        assert not extra, f"{path.relative_to(ROOT)} imports {extra}"


def test_checker_catches_an_upward_import(tmp_path):
    """Negative control: the AST scan sees `from sims import x` and `import figures.common`."""
    p = tmp_path / "m.py"
    p.write_text("from sims.activations import kernel\nimport figures.common\nx = 'import lecture'\n")
    assert _imports(p) == {"sims", "figures"}


def _private_imports(path: Path) -> list[str]:
    """``from PKG.mod import _name`` of a private name from another module of the four packages."""
    tree = ast.parse(path.read_text(), filename=str(path))
    return [f"{node.module}.{a.name}" for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
            and node.module.split(".")[0] in ORDER
            for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]


@pytest.mark.parametrize("package", ORDER)
def test_no_private_name_is_imported_from_another_module(package):
    """A private name (``_x``) stays in its module: what another module needs is public, documented API."""
    for path in sorted((ROOT / package).glob("**/*.py")):
        bad = _private_imports(path)
        assert not bad, f"{path.relative_to(ROOT)} imports private {bad}"


def test_the_private_import_check_sees_one(tmp_path):
    """Negative control: `from sims.init import _pool` is found; a dunder and a public name are not."""
    p = tmp_path / "m.py"
    p.write_text("from sims.init import _pool, pool\nfrom theory import __version__\nimport numpy._core\n")
    assert _private_imports(p) == ["sims.init._pool"]
