"""The public Python API: every exported name resolves and is documented, imports stay lazy, and the notebook
displays (``_repr_markdown_``) never show raw ``None``, ``nan`` or Python lists."""
import ast
import importlib
import inspect
import math
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

import figures
import lecture
import sims
import theory
from theory.errors import SpecError

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (theory, sims, figures, lecture)
#: modules whose public module-level functions and classes must all carry a docstring
DOCUMENTED_MODULES = ("theory/activations.py", "theory/meanfield.py", "theory/derivation.py", "theory/config.py",
                      "theory/init.py", "theory/predict.py", "sims/engine.py", "sims/train.py", "sims/data.py", "sims/grid.py", "sims/store.py",
                      "sims/executors.py", "sims/sweep.py", "sims/mlp.py",
                      "figures/common.py", "lecture/registry.py", "lecture/claims.py")


def unresolved(package) -> list[str]:
    """Names of ``package.__all__`` that do not resolve (AttributeError or an import failure)."""
    bad = []
    for name in package.__all__:
        try:
            getattr(package, name)
        except (AttributeError, ImportError):
            bad.append(name)
    return bad


def docstring(obj) -> str:
    """The object's own docstring ('' for none, and for a dataclass's generated ``Name(field: type, ...)``)."""
    doc = (obj.__doc__ or "").strip()
    if isinstance(obj, type) and doc.startswith(f"{obj.__name__}("):
        return ""
    return doc


def documentable(obj) -> bool:
    """Functions, classes and modules carry docstrings; exported constants (``LANGS``, ``VERDICTS``) do not."""
    return callable(obj) or isinstance(obj, types.ModuleType)


RAW = re.compile(r"\bNone\b|\bnan\b|\bNaN\b|\['")


def leaks(text: str) -> list[str]:
    """Raw Python values in a display: None, nan, or a list's ``['``."""
    return RAW.findall(text)


# ------------------------------------------------------------------------------------------- exports
@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_every_export_resolves(package):
    assert package.__all__, f"{package.__name__} exports nothing"
    assert len(set(package.__all__)) == len(package.__all__)
    assert unresolved(package) == []
    assert set(package.__all__) <= set(dir(package))


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_unknown_names_raise_attribute_error(package):
    with pytest.raises(AttributeError, match="no_such_name"):
        getattr(package, "no_such_name")
    assert not hasattr(package, "no_such_name")


def test_a_missing_export_is_caught():
    """Negative control: a package whose ``__all__`` names something it cannot provide fails the check."""
    fake = types.ModuleType("fake")
    fake.__all__ = ["present", "missing"]
    fake.present = len
    assert unresolved(fake) == ["missing"]


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_every_export_is_documented(package):
    assert docstring(package)
    missing = [n for n in package.__all__ if documentable(getattr(package, n)) and not docstring(getattr(package, n))]
    assert missing == [], f"{package.__name__}: exported without a docstring: {missing}"


def test_docstring_check_sees_a_generated_dataclass_doc():
    """Negative control: a dataclass without a docstring has a generated ``__doc__``, which does not count."""
    from dataclasses import dataclass

    @dataclass
    class Bare:
        x: int

    assert Bare.__doc__ and docstring(Bare) == ""
    assert docstring(lambda: 0) == ""


@pytest.mark.parametrize("path", DOCUMENTED_MODULES)
def test_public_functions_and_classes_are_documented(path):
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    missing = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))
               and not n.name.startswith("_") and not ast.get_docstring(n)]
    assert missing == [], f"{path}: no docstring on {missing}"


def test_derivation_access():
    from theory import derivation

    assert docstring(derivation.get) and docstring(derivation.names)
    assert "sigmoid-derivative" in derivation.names()
    with pytest.raises(SpecError, match="did you mean"):
        derivation.get("sigmoid-derivatve")


def test_submodules_stay_modules():
    """``theory.predict`` and ``sims.train`` are modules (the functions of the same name are imported from them), and
    the module exports resolve to modules, whatever was imported first (a fresh process)."""
    code = ("import importlib, types, theory, sims\n"
            "from theory.predict import predict; from sims.train import train\n"
            "assert callable(predict) and callable(train)\n"
            "assert isinstance(theory.predict, types.ModuleType) and isinstance(sims.train, types.ModuleType)\n"
            "assert 'predict' not in theory.__all__ and 'train' not in sims.__all__\n"
            "from sims import sweep; assert isinstance(sweep, types.ModuleType) and callable(sweep.sweep)\n"
            "from theory import derivation; assert callable(derivation.get)\n")
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True, cwd=ROOT)


def test_imports_stay_lazy():
    """``import theory, sims, figures, lecture`` loads neither NumPy nor SymPy, and sims sets the BLAS timeout."""
    code = ("import os, sys\nos.environ.pop('OPENBLAS_THREAD_TIMEOUT', None)\n"
            "import theory, sims, figures, lecture\n"
            "print(sorted(m for m in ('numpy', 'sympy', 'matplotlib') if m in sys.modules))\n"
            "print(os.environ.get('OPENBLAS_THREAD_TIMEOUT'))\n")
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], check=True, cwd=ROOT, capture_output=True,
                         text=True).stdout.split("\n")
    assert out[:2] == ["[]", "16"]


# --------------------------------------------------------------------------------------- notebook display
@pytest.mark.parametrize("spec", ["relu", "x*tanh(x)", pytest.param("selu", marks=pytest.mark.slow),
                                  pytest.param("silu", marks=pytest.mark.slow), "x**2"])
def test_activation_markdown(spec):
    text = theory.get_activation(spec)._repr_markdown_()
    assert f"`{spec}`" in text and "\\varphi'(x)" in text and "range" in text
    assert leaks(text) == []


def test_activation_markdown_numbers():
    assert "\\frac{1}{4}" in theory.get_activation("sigmoid")._repr_markdown_()
    assert "\\left(-1, 1\\right)" in theory.get_activation("tanh")._repr_markdown_()


@pytest.mark.parametrize("point", [("tanh", 1.5, 0.05), ("tanh", 4.0, 0.1), ("tanh", 1.0, 0.0), ("relu", 2.0, 0.1),
                                   ("relu", 3.0, 0.0)])
def test_meanfield_markdown(point):
    mf = theory.analyze(*point)
    text = mf._repr_markdown_()
    assert mf.phase in text and "\\chi_1" in text
    assert leaks(text) == []
    undefined = [v for v in (mf.c_star, mf.xi_q, mf.xi_c) if math.isnan(v)]
    assert text.count("| undefined |") == len(undefined)
    assert ("—" in text) == (mf.q_star is None)
    assert ("Note" in text) == bool(mf.note)


def test_meanfield_markdown_control():
    """Negative control: the raw dataclass text of a point with no q* and an undefined c* does leak None and nan."""
    mf = theory.analyze("relu", 3.0, 0.0)
    assert mf.q_star is None and math.isnan(mf.c_star)
    assert set(leaks(repr(mf))) >= {"None", "nan"}
    assert leaks(str(mf.to_dict()))


def test_meanfield_markdown_zero():
    text = theory.analyze("tanh", 1.0, 0.0)._repr_markdown_()  # q* = 0 exactly: shown as 0
    assert "| $q^*$ | 0 |" in text


def test_simulation_is_a_dict_with_a_table():
    from sims.engine import Simulation

    cfg = theory.NetworkConfig("tanh", "glorot_normal", width=16, depth=3)
    res = sims.simulate(cfg, 8, 3, dtype="float64", seed=1)
    assert isinstance(res, Simulation) and isinstance(res, dict)
    assert set(res) >= {"summary", "per_network", "diverged_at", "seconds"}
    text = res._repr_markdown_()
    assert leaks(text) == []
    assert "3 independent networks" in text
    mean, se = res["summary"]["preact_var"]
    rows = [line for line in text.splitlines() if re.match(r"\| \d+ \|", line)]
    assert len(rows) == 3 and f"{mean[0]:.4g} ± {se[0]:.2g}" in rows[0]


def test_simulation_markdown_after_divergence():
    cfg = theory.NetworkConfig("relu", "normal:3/sqrt(n_in)", width=16, depth=150)
    res = sims.simulate(cfg, 4, 2, dtype="float32", seed=0)
    assert res["diverged_at"] is not None
    text = res._repr_markdown_()
    assert leaks(text) == [] and "—" in text and f"layer {res['diverged_at']}" in text


def test_derivation_markdown():
    d = theory.derivation.get("sigmoid-derivative")
    text = d._repr_markdown_()
    assert text == d.render("markdown") and "**Verified.**" in text
    assert leaks(text) == []


# ------------------------------------------------------------------------------------------- figures.draw
def test_draw_checks_before_drawing(tmp_path):
    out = tmp_path / "new"
    with pytest.raises(SpecError, match="unknown figure"):
        figures.draw(["activation-tanh", "no-such-figure"], out)
    with pytest.raises(SpecError, match="unknown language"):
        figures.draw("activation-tanh", out, lang="de")
    assert not out.exists()


def test_lecture_main_job_is_the_cli_one():
    assert lecture.main_job is importlib.import_module("lecture.cli").main_job
    assert inspect.signature(lecture.main_job).parameters["out"]


# ------------------------------------------------------------------------------------------- docstrings everywhere
#: packages whose every public function, class and public method of a public class carries a docstring (STYLE.md 9)
DOCSTRING_PACKAGES = ("theory", "sims", "figures", "lecture")


def undocumented(source: str, where: str = "<string>") -> list[str]:
    """``where:line name`` of each public (no leading ``_``) module-level function or class of ``source`` without a
    docstring, and ``where:line Class.method`` of each such public method of a public class."""
    missing = []
    for node in ast.parse(source).body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or node.name.startswith("_"):
            continue
        if not ast.get_docstring(node):
            missing.append(f"{where}:{node.lineno} {node.name}")
        if isinstance(node, ast.ClassDef):
            missing += [f"{where}:{m.lineno} {node.name}.{m.name}" for m in node.body
                        if isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef)) and not m.name.startswith("_")
                        and not ast.get_docstring(m)]
    return missing


def undocumented_in_file(path: Path) -> list[str]:
    """:func:`undocumented` of one source file, named by its path relative to the repository."""
    return undocumented(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())


def test_every_public_function_has_a_docstring():
    files = sorted(p for pkg in DOCSTRING_PACKAGES for p in (ROOT / pkg).rglob("*.py"))
    assert len(files) > 40 and any(p.parts[-2:] == ("experiments", "shuffling.py") for p in files)
    missing = [m for p in files for m in undocumented_in_file(p)]
    assert missing == [], f"{len(missing)} public functions, classes or methods without a docstring: {missing}"


def test_docstring_scan_flags_an_undocumented_public_function():
    """Negative control: the scan reports a bare public function and a bare public method, and nothing else."""
    source = '\n'.join([
        'def documented():',            # 1
        '    """Yes."""',               # 2
        'def bare():',                  # 3
        '    return 1',                 # 4
        'def _private():',              # 5
        '    return 2',                 # 6
        'class Thing:',                 # 7
        '    """A class."""',           # 8
        '    def method(self):',        # 9
        '        return 3',             # 10
        '    def _hidden(self):',       # 11
        '        return 4',             # 12
        'class _Hidden:',               # 13
        '    def method(self):',        # 14
        '        return 5',             # 15
    ])
    assert undocumented(source, "x.py") == ["x.py:3 bare", "x.py:9 Thing.method"]
    assert undocumented('def f():\n    """Documented."""\n') == []
