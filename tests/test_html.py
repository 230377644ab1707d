"""lecture.html without a browser: math becomes MathML, the contents list the headings, the filter lists verdicts;
a formula MathML cannot be made for is reported, not dropped."""
from __future__ import annotations

from lecture.html import render_html


def test_math_becomes_mathml_and_the_contents_link_the_headings():
    md = ("## Part\n\n### «Slide»\n\nInline $\\frac{1}{4}$ and display:\n\n$$\\begin{aligned} a &= b \\\\ c &= d "
          "\\end{aligned}$$\n\n| step | why |\n| --- | --- |\n| $\\left. x \\right\\vert_{x=0}$ | ok |\n\n"
          '<div class="claim" data-verdict="refuted">\n\n✅ confirmed, ❌ refuted\n\n</div>\n')
    page, errors = render_html(md, title="t", verdicts=("confirmed", "refuted"))
    assert errors == []
    assert page.count("<math") == 3 and "$" not in page.split("<main>")[1].split("<script>")[0]
    assert '<a href="#part">Part</a>' in page and '<a href="#slide">«Slide»</a>' in page
    assert 'value="refuted"' in page and 'data-verdict="refuted"' in page
    assert "✅" not in page and '<span class="mark good">✓</span>' in page


def test_a_formula_without_mathml_is_reported():
    _, errors = render_html("$\\begin{nonsense} x$", title="t")
    assert len(errors) == 1 and "nonsense" in errors[0]
