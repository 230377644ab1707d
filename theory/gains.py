"""Derived initialization gains beside the frameworks' hard-coded constants.

A gain g sets sigma_w^2 = n_in Var(w) = g^2 (fan-in mode). Three gains are derived for any activation:

* forward:  g^2 = 1 / E[phi(z)^2]   (z ~ N(0, 1)): unit pre-activation variance is a fixed point of the length map
  at sigma_b = 0, i.e. Var(h_l) = Var(h_(l-1)) = 1;
* backward: g^2 = 1 / E[phi'(z)^2]: the back-propagated gradient variance is preserved when Var(h) = 1;
* critical: g^2 = the sigma_w^2 with chi_1 = 1 at sigma_b = 0 (edge of chaos, :func:`theory.meanfield.critical_weight_var`).

The moments come from :func:`theory.activations.moment_closed_forms` (exact, e.g. ReLU's sqrt(2)) where they exist,
otherwise from quadrature. PyTorch's ``torch.nn.init.calculate_gain`` (transcribed below, PyTorch 2.x; a test
compares with torch when it is installed) and Keras' ``VarianceScaling`` presets are set beside them, and for each
framework constant the output says what it does at sigma_b = 0: the phase, q* and chi_1 (:func:`theory.meanfield.analyze`).
"""
from __future__ import annotations

import math

import sympy as sp

from theory import activations as acts
from theory import meanfield
from theory.gaussian import q as _q

#: torch.nn.init.calculate_gain(name) in PyTorch 2.x; None where it raises ValueError("Unsupported nonlinearity")
_A = sp.Symbol("a", real=True)
TORCH_GAINS: dict[str, sp.Expr | None] = {
    "linear": sp.Integer(1), "sigmoid": sp.Integer(1), "tanh": sp.Rational(5, 3), "relu": sp.sqrt(2),
    "leaky_relu": sp.sqrt(2 / (1 + _A**2)), "selu": sp.Rational(3, 4),
    "elu": None, "gelu": None, "silu": None, "softplus": None,
}
TORCH_LEAKY_DEFAULT = sp.Rational(1, 100)  # calculate_gain('leaky_relu') with param=None uses slope 0.01
#: the Keras preset usually paired with each activation, and its sigma_w^2 for a square layer
KERAS_PRESET = {"relu": "he_*", "leaky_relu": "he_*", "elu": "he_*", "gelu": "he_*", "silu": "he_*",
                "selu": "lecun_normal", "tanh": "glorot_*", "sigmoid": "glorot_*", "softplus": "glorot_*",
                "linear": "glorot_*"}
_KERAS_WEIGHT_VAR = {"he_*": sp.Integer(2), "lecun_normal": sp.Integer(1), "glorot_*": sp.Integer(1)}


def _moment(act: acts.Activation, key: str) -> sp.Expr:
    closed = acts.moment_closed_forms(act)[key]
    if closed is not None:
        return sp.nsimplify(sp.simplify(closed.subs(_q, 1))) if not closed.has(sp.erfc, sp.erf, sp.asin) \
            else sp.simplify(closed.subs(_q, 1))
    return sp.Float(acts.moments(act, 1.0)[key], 17)


def _critical_note(act: acts.Activation, crit_var: float | None) -> str:
    """Empty for a regular critical point (chi_1 = 1 at a positive finite q*); otherwise why it is degenerate."""
    if crit_var is None:
        return "no sigma_w^2 with chi_1 = 1 at a fixed point (chi_1 jumps or never reaches 1)"
    mf = meanfield.analyze(act, crit_var, 0.0)
    return "" if mf.q_star is not None and mf.q_star > 0 else mf.note


def torch_gain(act: acts.Activation) -> sp.Expr | None:
    """``torch.nn.init.calculate_gain`` of the activation's family, exact (leaky ReLU: sqrt(2 / (1 + a^2)), slope a,
    default 0.01); None where torch raises ValueError and for an expression."""
    if act.family not in TORCH_GAINS or act.family == "expression":
        return None
    g = TORCH_GAINS[act.family]
    if g is not None and g.has(_A):
        g = g.subs(_A, act.param if act.param is not None else TORCH_LEAKY_DEFAULT)
    return g


def _consequence(act: acts.Activation, gain: float) -> dict:
    mf = meanfield.analyze(act, gain * gain, 0.0)
    return {"weight_var": gain * gain, "phase": mf.phase, "q_star": mf.q_star, "chi1": mf.chi1, "note": mf.note}


def gains_row(act: acts.Activation) -> dict:
    """One row: forward g = 1/sqrt(E[phi(z)^2]), backward g = 1/sqrt(E[phi'(z)^2]) (z ~ N(0, 1)), critical g^2 =
    sigma_w^2 with chi_1 = 1 at sigma_b = 0, torch's and Keras' constants and what each does at sigma_b = 0."""
    fwd_m, bwd_m = _moment(act, "second"), _moment(act, "derivative_second")
    fwd, bwd = sp.sqrt(1 / fwd_m), sp.sqrt(1 / bwd_m)
    crit_var = meanfield.critical_weight_var(act, 0.0)
    crit = math.sqrt(crit_var) if crit_var is not None else None
    tg = torch_gain(act)
    row = {"activation": act.name,
           "forward_gain": float(fwd), "forward_gain_exact": sp.sstr(fwd) if not fwd.is_Float else None,
           "backward_gain": float(bwd), "backward_gain_exact": sp.sstr(bwd) if not bwd.is_Float else None,
           "critical_gain": crit,
           "critical_note": _critical_note(act, crit_var),
           "torch_gain": float(tg) if tg is not None else None,
           "torch_gain_exact": sp.sstr(tg) if tg is not None else None,
           "torch_note": "calculate_gain raises ValueError (unsupported)" if tg is None and act.family != "expression"
           else ("not a named nonlinearity in torch" if tg is None else ""),
           "keras_preset": KERAS_PRESET.get(act.family)}
    if tg is not None:
        tgf = float(tg)
        derived = {"forward": row["forward_gain"], "backward": row["backward_gain"], "critical": crit}
        row["torch_matches"] = [k for k, v in derived.items() if v is not None and abs(v - tgf) <= 1e-9 * tgf]
        row["torch_does"] = _consequence(act, tgf)
    if row["keras_preset"]:
        kv = float(_KERAS_WEIGHT_VAR[row["keras_preset"]])
        row["keras_does"] = _consequence(act, math.sqrt(kv))
    row["derived_does"] = {"forward": _consequence(act, row["forward_gain"])}
    return row


def gains_table(specs=None) -> list[dict]:
    """One row per activation (default: every named one)."""
    return [gains_row(acts.get_activation(s)) for s in (specs or acts.NAMES)]


_HEAD = {"en": ("activation", "forward gain", "backward gain", "critical gain", "torch calculate_gain",
                "what torch's gain does (sigma_b = 0)"),
         "ru": ("активация", "прямой проход", "обратный проход", "критический", "torch calculate_gain",
                "что даёт коэффициент torch (sigma_b = 0)")}


def _fmt(v):
    return "—" if v is None else f"{v:.4f}"


_PHASE_RU = {"ordered": "упорядоченная", "chaotic": "хаотическая", "critical": "критическая", "unknown": "неизвестна"}
_MATCH_RU = {"forward": "прямой", "backward": "обратный", "critical": "критический"}


def gains_markdown(rows: list[dict], lang: str = "en") -> str:
    """The rows as a Markdown table in ``lang`` (en, ru): derived gains with exact forms, torch's gain and what it does
    (phase, q*, chi_1, which derived gain it matches); why a critical point is degenerate as numbered notes."""
    head = _HEAD[lang]
    out = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    notes = []
    for r in rows:
        exact = lambda key: f" (= {r[key + '_exact']})" if r.get(key + "_exact") else ""
        does = r.get("torch_does")
        if does is None:
            effect = r["torch_note"]
        else:
            q = "—" if does["q_star"] is None else f"{does['q_star']:.4g}"
            if lang == "en":
                match = ", ".join(r["torch_matches"]) or "none"
                effect = f"{does['phase']}, q* = {q}, chi_1 = {does['chi1']:.4g}; matches: {match}"
            else:
                match = ", ".join(_MATCH_RU[m] for m in r["torch_matches"]) or "ни один"
                effect = f"{_PHASE_RU[does['phase']]}, q* = {q}, chi_1 = {does['chi1']:.4g}; совпадает с: {match}"
        crit = _fmt(r["critical_gain"])
        if r.get("critical_note"):  # degenerate or absent critical point: say why under the table
            notes.append(f"{r['activation']}: {r['critical_note']}")
            crit += f" [{len(notes)}]"
        out.append(f"| {r['activation']} | {_fmt(r['forward_gain'])}{exact('forward_gain')} | "
                   f"{_fmt(r['backward_gain'])}{exact('backward_gain')} | {crit} | "
                   f"{_fmt(r['torch_gain'])}{exact('torch_gain')} | {effect} |")
    if notes:
        out.append("")
        out += [f"[{i}] {n}" for i, n in enumerate(notes, 1)]
    return "\n".join(out) + "\n"
