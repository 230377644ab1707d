"""Gradient descent on a quadratic: why standardized features help SGD (slide «Стандартизация»: «Какая из ситуаций
лучше для SGD?»).

For f(w) = (1/2)(w - w*)^T A (w - w*) with A symmetric positive definite, eigenvalues lambda_min <= ... <=
lambda_max and condition number kappa = lambda_max / lambda_min, a gradient step w <- w - eta A (w - w*) multiplies
the error's component along eigenvector i by (1 - eta lambda_i). The worst factor max_i |1 - eta lambda_i| is
smallest at eta* = 2 / (lambda_min + lambda_max), where it equals (kappa - 1)/(kappa + 1): the error shrinks at
least that fast per step, and exactly that fast along the extreme eigenvectors. Reaching a relative error tol
takes ceil(log(tol) / log((kappa - 1)/(kappa + 1))) steps, about (kappa/2) log(1/tol) for large kappa. For least
squares A = X^T X / n: features on very different scales make kappa large; standardizing each feature (zero mean,
unit variance) makes A the correlation matrix, whose kappa is 1 for uncorrelated features.
"""
from __future__ import annotations

import math

import sympy as sp

from theory.derivation import Derivation, Step, derivation
from theory.latex import latex
from theory.text import T

lam, eta = sp.symbols("lambda eta", positive=True)
lmin, lmax, kappa = sp.symbols("lambda_min lambda_max kappa", positive=True)
RATE = (kappa - 1) / (kappa + 1)
ETA_OPT = 2 / (lmin + lmax)


def rate(cond: float) -> float:
    """(kappa - 1)/(kappa + 1) at kappa = cond (>= 1), from :data:`RATE`."""
    return float(RATE.subs(kappa, cond))


def steps_to(cond: float, tol: float) -> int:
    """Steps of gradient descent with eta* for the worst-case error to fall below tol (relative): 0 for kappa = 1."""
    r = rate(cond)
    return 0 if r == 0 else math.ceil(math.log(tol) / math.log(r))


@derivation("gd-quadratic-rate", "gradient descent on a quadratic: the best fixed step 2/(l_min + l_max) contracts "
                                 "the error by (kappa - 1)/(kappa + 1) per step")
def _gd_rate() -> Derivation:
    factor = 1 - eta * lam
    at_min, at_max = factor.subs(lam, lmin), factor.subs(lam, lmax)
    return Derivation(
        "gd-quadratic-rate",
        T("Gradient descent on a quadratic: rate and condition number",
          "Градиентный спуск на квадратичной функции: скорость сходимости и число обусловленности"),
        [
            Step(lhs=sp.Derivative(lam * sp.Symbol("e") ** 2 / 2, sp.Symbol("e")), rhs=lam * sp.Symbol("e"),
                 why=T(r"along an eigenvector the error $e$ obeys $e \gets e - \eta\lambda e$: the gradient of "
                       r"$\lambda e^2/2$ is $\lambda e$",
                       r"вдоль собственного вектора ошибка $e$ меняется по правилу $e \gets e - \eta\lambda e$: "
                       r"градиент $\lambda e^2/2$ равен $\lambda e$")),
            Step(lhs=at_min, rhs=-at_max, under=(eta, ETA_OPT, rf"$\eta = \eta^* = {latex(ETA_OPT)}$"),
                 why=T(r"$\lvert 1 - \eta\lambda\rvert$ is largest at an end of $[\lambda_{min}, \lambda_{max}]$; "
                       r"the two ends balance, $1 - \eta\lambda_{min} = -(1 - \eta\lambda_{max})$, at $\eta^*$ "
                       r"(the only solution: the equation is linear in $\eta$)",
                       r"$\lvert 1 - \eta\lambda\rvert$ максимален на одном из концов отрезка "
                       r"$[\lambda_{min}, \lambda_{max}]$; значения на концах равны по модулю, "
                       r"$1 - \eta\lambda_{min} = -(1 - \eta\lambda_{max})$, при $\eta^*$ (решение единственно: "
                       r"уравнение линейно по $\eta$)")),
            Step(lhs=at_min.subs(eta, ETA_OPT), rhs=RATE.subs(kappa, lmax / lmin),
                 why=T(r"the worst contraction at $\eta^*$, with $\kappa = \lambda_{max}/\lambda_{min}$",
                       r"наихудший коэффициент сжатия при $\eta^*$, где $\kappa = \lambda_{max}/\lambda_{min}$")),
            Step(lhs=sp.Limit(RATE, kappa, 1), rhs=0,
                 why=T(r"$\kappa = 1$ (standardized, uncorrelated features): one step solves the problem",
                       r"$\kappa = 1$ (стандартизованные некоррелированные признаки): задача решается за один шаг")),
            Step(lhs=sp.Limit(kappa * sp.log(1 / RATE), kappa, sp.oo), rhs=2,
                 why=T(r"for large $\kappa$, $\log(1/\mathrm{rate}) \approx 2/\kappa$: steps "
                       r"$\approx (\kappa/2) \log(1/\mathrm{tol})$, linear in $\kappa$",
                       r"при больших $\kappa$ имеем $\log(1/\mathrm{rate}) \approx 2/\kappa$: число шагов "
                       r"$\approx (\kappa/2) \log(1/\mathrm{tol})$ растёт линейно по $\kappa$")),
        ],
        assumptions=[T(r"$f(w) = \frac{1}{2}(w - w^*)^\top A (w - w^*)$, $A$ symmetric positive definite",
                       r"$f(w) = \frac{1}{2}(w - w^*)^\top A (w - w^*)$, $A$ — симметричная положительно "
                       "определённая матрица"),
                     T("full-batch gradient descent with a fixed step; SGD adds noise but has the same dependence on "
                       r"$\kappa$ through its step size",
                       "градиентный спуск по полному батчу с постоянным шагом; SGD добавляет шум, но через размер "
                       r"шага зависит от $\kappa$ так же")],
        references=[T("Nesterov, Introductory Lectures on Convex Optimization (2004), Theorem 2.1.15",
                      "Nesterov, «Introductory Lectures on Convex Optimization» (2004), теорема 2.1.15")])
