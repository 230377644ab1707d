"""Packaging: every package folder and data file of the clone is installed, so an installed package (not only a
clone's root, where the source tree shadows it) can import everything. CI also builds the wheel, installs it into a
fresh venv outside the clone and runs every layer from a temporary folder (.ci/run)."""
from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]
SKIP = {"tests", "build", "dist", "docs"}


def _config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def package_folders(root: Path = ROOT) -> set[str]:
    """Every folder holding an ``__init__.py``, as a dotted name (hidden folders, venvs and tests left out)."""
    found = set()
    for init in root.rglob("__init__.py"):
        rel = init.parent.relative_to(root)
        if rel.parts and not any(p.startswith(".") or p in SKIP or "venv" in p or p.endswith(".egg-info")
                                 for p in rel.parts):
            found.add(".".join(rel.parts))
    return found


def installed_packages(root: Path = ROOT) -> set[str]:
    """The packages setuptools installs under this pyproject's ``packages.find`` rule."""
    rule = _config()["packages"]["find"]
    return set(find_packages(where=str(root), include=rule.get("include", ["*"]), exclude=rule.get("exclude", [])))


def test_every_package_folder_is_installed():
    folders = package_folders()
    assert {"theory", "sims", "sims.experiments", "figures", "lecture"} <= folders
    missing = folders - installed_packages()
    assert not missing, f"package folders the wheel would leave out: {sorted(missing)}"


def test_a_left_out_folder_is_noticed(tmp_path):
    """Negative control: a folder with an __init__.py that the rule does not cover is reported."""
    for pkg in ("theory", "sims", "sims/experiments", "extra_pkg"):
        (tmp_path / pkg).mkdir(parents=True)
        (tmp_path / pkg / "__init__.py").write_text("")
    assert package_folders(tmp_path) - installed_packages(tmp_path) == {"extra_pkg"}


def test_data_files_are_declared():
    data = _config()["package-data"]
    for pkg, patterns in data.items():
        for pattern in patterns:
            assert list((ROOT / pkg).glob(pattern)), f"{pkg}/{pattern} matches no file"
    non_python = {p.relative_to(ROOT).as_posix() for pkg in installed_packages()
                  for p in (ROOT / pkg.replace(".", "/")).iterdir()
                  if p.is_file() and p.suffix not in (".py", ".pyc")}
    declared = {f"{pkg}/{f.name}" for pkg, patterns in data.items() for pattern in patterns
                for f in (ROOT / pkg).glob(pattern)}
    assert non_python <= declared, f"data files not declared as package data: {sorted(non_python - declared)}"
