"""REPORT.html in a real browser: headless Chromium (Debian's chromium and chromium-driver, installed by .ci/run)
driven by selenium. The page is built from the real claims' slides and quotes (placeholder outcomes whose evidence
holds math), two real derivations and real figure files; the test asserts what a reader needs:
- every image loaded (natural width > 0);
- no raw ``$`` or ``\\frac`` in the visible text (all math became MathML);
- every internal link resolves to an element of the page;
- no console errors;
- every table fits the page's column (a formula too long for a line scrolls in its own box);
and saves screenshots of the first screen and of an opened derivation (``REPORT_SCREENSHOTS`` names the folder;
default: the test's temporary folder). Where no Chromium is installed the test skips with the reason."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from lecture import claims as C
from lecture import report as R
from lecture.html import render_html
from lecture.registry import VERDICTS, Outcome
from theory.text import T

CHROMEDRIVER = shutil.which("chromedriver")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _page(folder: Path, lang: str) -> Path:
    """A report page in ``folder`` with its figures beside it (figures/NAME.png)."""
    from figures.cli import main as figures_main
    from theory.derivation import get

    said = T(r"computed: $\sigma'(0) = \frac{1}{4}$, as the slide says.",
             r"вычислено: $\sigma'(0) = \frac{1}{4}$, как и на слайде.")
    rows = [C.in_language(C.row(c, Outcome("confirmed", said, {})), lang) for c in C.all_claims()]
    for r in rows[:3]:
        r["verdict"] = "refuted"
        r["correction"] = r"$\mathrm{Var}(w) = \frac{2}{n_{in}}$"
    shown = {"activation-sigmoid", "activation-relu"}
    assert figures_main(["--only", *sorted(shown), "--out", str(folder / "figures"), "--fast", "--quiet",
                         "--lang", lang]) == 0
    derivations = {n: get(n).render("markdown", lang) for n in ("sigmoid-derivative", "tanh-derivative", "inverted-dropout")}
    for r in rows:
        if r["derivation"] not in derivations:
            r["derivation"] = None
    md = R.render(rows, derivations=derivations, lang=lang, figures=shown)
    page, errors = render_html(md, lang=lang, title="test", verdicts=[(v, R.verdict_word(v, lang)) for v in VERDICTS])
    assert errors == []
    path = folder / ("REPORT.html" if lang == "en" else "REPORT.ru.html")
    path.write_text(page, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def browser():
    if not (CHROMEDRIVER and CHROMIUM):
        pytest.skip("no Chromium and chromedriver on this machine (CI installs Debian's chromium and "
                    "chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the test extra")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000", "--allow-file-access-from-files"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.mark.slow  # a browser start and two pages: seconds; CI installs Chromium and runs the slow suite
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_report_page_renders_in_a_real_browser(browser, tmp_path, lang):
    path = _page(tmp_path, lang)
    shots = Path(os.environ.get("REPORT_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    browser.get(path.as_uri())
    browser.get_log("browser")  # drop anything logged before the page
    browser.refresh()
    images = browser.execute_script("return Array.from(document.images).map(i => [i.src, i.complete, i.naturalWidth])")
    assert len(images) >= 2 and all(done and width > 0 for _, done, width in images), images
    visible = browser.execute_script("return document.querySelector('main').textContent")  # closed details too
    assert "$" not in visible and "\\frac" not in visible and "\\mathrm" not in visible
    assert browser.execute_script("return document.querySelectorAll('math').length") > 100
    broken = browser.execute_script(
        "return Array.from(document.querySelectorAll('a[href^=\"#\"]')).map(a => a.getAttribute('href').slice(1))"
        ".filter(id => !document.getElementById(decodeURIComponent(id)))")
    assert broken == []
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    # every table fits its column (the justification column stays on screen): a formula too long for one line scrolls
    # in its own box; negative control: without those boxes the derivation with the dropout Jacobian overflows
    wide = ("return Array.from(document.querySelectorAll('table')).filter(t => t.scrollWidth > t.clientWidth + 1)"
            ".length")
    assert browser.execute_script(wide) == 0
    browser.execute_script("document.querySelectorAll('.long-math').forEach(s => s.className = '')")
    assert browser.execute_script(wide) >= 1
    browser.refresh()
    browser.save_screenshot(str(shots / f"report-first-screen.{lang}.png"))
    # the filter hides a verdict's claims; a derivation opens
    hidden = browser.execute_script(
        "const box = document.querySelector('.filter input[value=\"refuted\"]'); box.click();"
        "return Array.from(document.querySelectorAll('.claim[data-verdict=\"refuted\"]'))"
        ".every(el => getComputedStyle(el).display === 'none')")
    assert hidden
    browser.execute_script(
        "const d = Array.from(document.querySelectorAll('details'))"
        ".find(el => el.querySelector('summary').textContent.includes('sigmoid-derivative'));"
        "d.open = true; d.scrollIntoView();")
    browser.save_screenshot(str(shots / f"report-derivation.{lang}.png"))
