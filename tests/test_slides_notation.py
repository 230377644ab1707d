"""theory.slides.notation: the readings of the slides' LaTeX that the notation claims use, each with the corrected
notation as its negative control."""
from __future__ import annotations

from theory.slides import notation as N

HE_SUM = r"\text{Var}(h_i) = \text{Var}\left(\sum_{i=1}^{n_{in}} w_i x_i\right)"
HE_RELU = r"x_i = \max(0; h_{i-1})"


def test_an_index_that_sums_and_steps_back_a_layer_clashes():
    roles = N.index_roles([HE_SUM, HE_RELU], "i")
    assert roles == {"bound": [r"\sum_{i=1}^{n_{in}}"], "shifted": ["h_{i-1}"], "free": ["h_i", "w_i", "x_i"]}
    assert len(N.clashes(roles)) == 1
    # with a layer superscript the sum's i no longer steps back
    fixed = N.index_roles([r"\text{Var}(h^{(l)}) = \text{Var}\left(\sum_{i=1}^{n_{in}} w_i x_i\right)",
                           r"x^{(l)} = \max(0; h^{(l-1)})"], "i")
    assert fixed["shifted"] == [] and N.clashes(fixed) == []


def test_range_ends_and_what_a_sum_pairs_a_symbol_with():
    text = r"h_i = w_0 + \sum_{i=1}^{n_{in}} w_i x_i; $w_1, \dots, w_k \sim iid$, $x_1, \dots, x_n \sim iid$"
    assert N.range_ends(text) == {"sum": "n_{in}", "w": "k", "x": "n"}
    assert N.range_ends(r"\sum_{i=1}^{n} w_i x_i, w_1, \dots, w_n") == {"sum": "n", "w": "n"}
    assert N.summed_with(r"h_i = w_0 + \sum_{i=1}^{n_{in}} w_i x_i", "x") == ["w"]
    assert N.summed_with(r"h = \sum_{j=1}^{m} y_j", "x") == []


def test_definition_stage_tells_pre_from_post_activation():
    assert N.definition_stage(r"h = f(XW)", "h") == "after the activation"
    assert N.definition_stage(r"h_i = w_0 + \sum_{i=1}^{n_{in}} w_i x_i", "h") == "before the activation"
    assert N.definition_stage(r"h = XW + b", "h") == "before the activation"
    assert N.definition_stage(r"o = f(X \cdot W + b)", "h") is None


def test_transposed_rows_are_found():
    assert N.transposed(r"o_i = D_i \cdot f(wx_i^T + b)") == [("x", "i")]
    assert N.transposed(r"o_{ij} = D_{ij} \cdot f(x_i w_j + b_j)") == []


def test_indices_of_a_symbol():
    assert N.indices_of(r"o_i = D_i \cdot f(wx_i^T + b)", "D") == ["i"]
    assert N.indices_of(r"o_{ij} = D_{ij} \cdot f(x_i w_j^T + b_j)", "D") == ["ij"]
    assert N.indices_of(r"o = f(X \cdot W + b)", "D") == []
