"""Notes the report adds to a slide: what the package knows beyond the slide, not an erratum of it.

A note is computed when the report is written (theory only, no Monte Carlo: the numbers come from
:mod:`theory.fluctuations`), in both languages (:class:`theory.text.T`).
"""
from __future__ import annotations

from theory.text import T

#: the slide a note belongs to -> the function that writes it
SLIDE = "Инициализация весов (симметричный случай)"


def finite_width_note() -> T:
    """Var(h) = n_in Var(w) Var(x) at finite width: exact for the mean of ReLU/He at any width; not for tanh, whose
    mean variance moves by d/K ~ c/n; and the pre-activations are not Gaussian (excess kurtosis ~ 1/n)."""
    from lecture.registry import fmt
    from theory.fluctuations import by_layer, relu_exact_kurtosis

    n, depth = 16, 6
    relu = by_layer("relu", [n] * (depth + 1), 2.0, 0.0, input="fixed")[-1]
    tanh = by_layer("tanh", [n] * (depth + 1), 1.0, 0.05, input="fixed")[-1]
    rel = tanh["mean_shift"] / tanh["kernel"]
    # ReLU: g'' = 0, so the correction is 0 up to the quadrature's rounding (machine-precision scale)
    shift = relu["mean_shift"] if abs(relu["mean_shift"]) > 1e-12 * relu["kernel"] else 0.0
    kr, kt = relu["preact_excess_kurtosis"], tanh["preact_excess_kurtosis"]
    exact = relu_exact_kurtosis([n] * (depth + 1), input="fixed")[-1]
    return T(
        f"**Finite width.** The slide's $\\operatorname{{Var}}(h) = n_{{in}} \\operatorname{{Var}}(w) "
        f"\\operatorname{{Var}}(x)$ holds at any width for the mean of a ReLU network with He weights: at width {n}, "
        f"layer {depth}, the first-order correction to $E[h^2]$ is {fmt(shift)}. For tanh "
        f"(Glorot weights, bias variance 0.05) the mean variance moves by {fmt(100 * rel)} % at width {n} "
        f"(first order in $1/n$, `theory.fluctuations`). At any width the pre-activations are not Gaussian: their "
        f"excess kurtosis at layer {depth} is {fmt(kt)} for tanh and {fmt(kr)} for ReLU to first order, "
        f"{fmt(exact)} by ReLU's exact law. The figure below measures both.",
        f"**Конечная ширина.** Формула слайда $\\operatorname{{Var}}(h) = n_{{in}} \\operatorname{{Var}}(w) "
        f"\\operatorname{{Var}}(x)$ для среднего сети с ReLU и весами He верна при любой ширине: при ширине {n} "
        f"на слое {depth} поправка первого порядка к $E[h^2]$ равна {fmt(shift)}. Для tanh "
        f"(веса Glorot, дисперсия смещения 0.05) средняя дисперсия сдвигается на {fmt(100 * rel)} % при ширине {n} "
        f"(первый порядок по $1/n$, `theory.fluctuations`). При любой конечной ширине предактивации не гауссовы: "
        f"их эксцесс на слое {depth} равен {fmt(kt)} для tanh и {fmt(kr)} для ReLU в первом порядке и {fmt(exact)} "
        f"по точному закону ReLU. Рисунок ниже измеряет и то и другое.")


def notes() -> dict[str, T]:
    """Slide title -> its note."""
    return {SLIDE: finite_width_note()}


#: slide title -> the derivations its note rests on (printed in the report's Derivations part, linked from the note)
DERIVATIONS = {SLIDE: ("finite-width-fluctuations", "finite-width-relu")}
