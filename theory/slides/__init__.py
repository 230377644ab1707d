"""The computations behind the lecture's statements, one module per section of its agenda.

Each function here derives (SymPy) or computes (NumPy, the mean-field recursion) what one or more claims of
:mod:`lecture` compare the slides with. It returns plain data: SymPy expressions, numbers, small dicts. The claims'
modules (``lecture.claims_<section>``) hold the slides' statements as data and thin checks that compare and word the
result; the formulas themselves stay in their topical modules (:mod:`theory.activations`, :mod:`theory.variance`,
:mod:`theory.init`, :mod:`theory.batchnorm`, :mod:`theory.dropout`), which these functions call.
"""
