"""Experiment h, the slide «Прореживание сети» (network pruning):

    «Начать с большого количество нейронов и удалять незначимые по какому-нибудь критерию. Пример: обнуляем вес,
    смотрим как сильно упала ошибка, сортируем все связи по этому критерию, удаляем N наименее значимых. После
    прореживания снова запускаем backprop. Если качество модели сильно упала, надо вернуть последние удалённые
    связи.»

(Start with many neurons and remove the insignificant ones by some criterion. Example: zero a weight, see how much the
error changed, sort all connections by this criterion, remove the N least significant. After pruning run backprop
again. If the quality of the model fell a lot, put back the last removed connections.) The slide's «упала ошибка»
literally reads "the error fell"; what is meant is how much the loss GROWS when the weight is zeroed: a connection
whose removal raises the loss a lot is significant.

Setup. A 64-100-10 relu net (he_uniform, Adam lr 1e-3, batch 32, 60 epochs: its validation accuracy has levelled
off by then) on the digits with val_fraction 0.2 (360 validation rows, so one percentage point is 3.6 digits, not
1.8; still, one point is about the standard error of an accuracy near 0.97 on 360 rows, so the stage at which the
1-point rule fires moves by one stage between seeds). One hidden layer of 100 units, 7,400 weights: "large" for 64
inputs and 10 classes, and one hidden layer keeps the exact saliency cheap (below). Biases are never pruned; all
weights of both layers are ranked together (the slide sorts "all connections").

Criteria (:func:`scores`; a higher score is more significant):
  * ``saliency``, the slide's: S(w) = J(theta with w = 0) - J(theta), the EXACT increase of the training loss
    (eval mode, the whole training split) when that single weight is zeroed, for every weight (:func:`saliency`).
    Zeroing W_l[j, i] changes only unit j's pre-activation in layer l, by -W_l[j, i] a_{l-1}[:, i]; the network
    is run forward from that unit on, batched over i, and only for the rows where the change is not 0 (where
    a_{l-1}[:, i] = 0, or the unit stays in relu's flat part, the row's loss is untouched). That is the number
    that zeroing the weight and calling :meth:`sims.train.MLP.evaluate` gives (the tests check it to rtol 1e-10,
    within the brute force's own rounding, against that brute force), in ~0.5 s for the 7,400 weights instead of
    7,400 full forwards. S can be negative (removing the weight lowers the training loss): such weights rank
    lowest and go first. S is exact for one weight ALONE; removing many at once interacts, which is why the
    iterative schedule recomputes it on the survivors at every stage. (The first-order Taylor estimate -g w of
    the same difference is not it: at a trained net g is near 0 and the change is dominated by curvature; the
    tests use it as a negative control.)
  * ``magnitude``: |w|, the classic baseline (Han et al. 2015, "Learning both weights and connections for
    efficient neural networks"): does the slide's criterion beat it?
  * ``random``: uniform random scores, the floor: what pruning costs when nothing is chosen.

Arms, for each criterion, at the fractions pruned F = 0.5, 0.7, 0.8, 0.9, 0.95, 0.98 of all weights:
  * one-shot: the scores of the trained dense net, computed once; the lowest round(F * 7400) are zeroed and the net
    is evaluated as it is, never retrained.
  * iterative (the slide's loop): at each stage the scores of the SURVIVING weights are recomputed on the current
    net, the N = round(F * 7400) - (already pruned) least significant are removed (:meth:`MLP.set_masks`); the net
    is evaluated (``pruned``: no retraining after this removal, but retrained after the earlier ones), then
    retrained 5 epochs, the trainer keeping the masks (``retrained``). The first stage scores the dense net, so it
    removes what the one-shot arm removes at the first fraction (the same accuracies: a test).
  * control (``continued``): the DENSE net trained the same 5 more epochs per stage, same seeds. Retraining is
    also extra training; this arm shows how much of the recovery extra epochs alone would give an unpruned net.
  * the restore rule, «вернуть последние удалённые связи»: at the first stage whose retrained validation accuracy
    is more than THRESHOLD = 1 point below the dense net's, the connections removed at that stage get back the
    values they had just before their removal (the other weights keep their retrained values: the slide puts back
    the connections, it does not rewind the net) and the procedure stops (:func:`restore`). Reported: the fraction
    then pruned (the previous stage's), the restored net's accuracy, and for comparison the net that dropped and
    the net before the removal. Stopping there is a prefix of the full schedule, so the run goes on to the later
    fractions for the curves.

Measured (seeds 0..4; :func:`over_seeds`): without retraining the exact saliency keeps far more accuracy than
|w| at high fractions (the one-shot curves part from 70-80% pruned on); retraining wins most of the loss back, far
more than the same epochs give the dense net; with retraining the 1-point rule first fires at 80-90% pruned for the
saliency, earlier for |w|. Putting the last batch back into the retrained net recovers only part of the drop: the
net from before that removal (the previous stage) is better, because the other weights had adapted to the removal.

Decisions use the validation split; the test split is reported alongside. ``first_drop`` per arm is the first
fraction whose validation accuracy is more than THRESHOLD below the dense net's (None: none), ``largest_within``
the fraction before it (0.0 if the first one already drops). Randomness: three children of ``seeds_of(seed)``'s
training seed give the dense run, the per-stage retraining seeds (shared by every criterion and the control:
common random numbers) and the random criterion's Generator.
"""
from __future__ import annotations

import time

import numpy as np

from sims.data import load_dataset
from sims.experiments.common import (SEEDS, blas_single_thread, censored_spread, check_runs, seed_list, seeds_of,
                                     spread)
from sims.train import MLP, train
from theory import validate
from theory.errors import SpecError

__all__ = ["CONFIG", "CRITERIA", "saliency", "scores", "prune", "restore", "n_pruned", "one_shot", "iterative",
           "continued", "run", "at_fraction", "over_seeds"]

CONFIG = {"hidden": (100,), "activation": "relu", "init": "he_uniform", "optimizer": "adam", "lr": 1e-3,
          "batch": 32, "epochs": 60, "retrain_epochs": 5, "fractions": (0.5, 0.7, 0.8, 0.9, 0.95, 0.98),
          "criteria": ("saliency", "magnitude", "random"), "threshold": 0.01, "val_fraction": 0.2}
CRITERIA = ("saliency", "magnitude", "random")
HEADLINE_FRACTION = 0.9


# ------------------------------------------------------------------ the slide's criterion
def _check_plain(model: MLP) -> None:
    if not isinstance(model, MLP):
        raise SpecError(f"model must be a sims.train.MLP (got {type(model).__name__})")
    if model.batchnorm or any(model.skips):
        raise SpecError("saliency is computed for plain MLPs (no batch norm, no skip connections)")


def _tail(model: MLP, layer: int, z: np.ndarray) -> np.ndarray:
    """Logits (classes, rows) from the pre-activation ``z`` (units, rows) of 0-based layer ``layer``: the eval-mode
    forward (no dropout) in column layout."""
    f = model.kernel.f
    for k in range(layer, model.n_layers - 1):
        z = model.W[k + 1] @ f(z) + model.b[k + 1][:, None]
    return z


def _row_losses(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per-column cross-entropy of logits ``z`` (classes, rows): logsumexp shifted by the column maximum, as
    :func:`sims.train.cross_entropy` (columns, so that NumPy reduces along the long axis: 3x faster here)."""
    top = z.max(axis=0)
    return top + np.log(np.exp(z - top).sum(axis=0)) - z[y, np.arange(z.shape[1])]


def saliency(model: MLP, x, y) -> list[np.ndarray]:
    """S[l][j, i] = J(W_l[j, i] := 0) - J, exactly, for every weight (one array shaped like each W_l); J the
    eval-mode objective on (x, y) as :meth:`MLP.evaluate` computes it (penalty included). Zeroing W_l[j, i] changes
    unit j's pre-activation by -W_l[j, i] x_i over the rows; only the rows where it changes anything downstream are
    run forward from layer l on (batched over i), and their per-row losses minus the unchanged ones are averaged.
    Weights already 0 get exactly 0."""
    _check_plain(model)
    x, y = model._check_xy(x, y)
    n, f, last = x.shape[0], model.kernel.f, model.n_layers - 1
    acts, pre = [x.T], []  # column layout: (units, rows)
    for k in range(model.n_layers):
        pre.append(model.W[k] @ acts[-1] + model.b[k][:, None])
        if k < last:
            acts.append(f(pre[-1]))
    base = _row_losses(pre[-1], y)
    out = []
    for layer, w in enumerate(model.W):
        s = np.zeros_like(w)
        a_in = acts[layer]
        for j in range(w.shape[0]):
            change = a_in * -w[j][:, None]  # (n_in, rows): unit j's pre-activation change when W[j, i] is zeroed
            if layer < last:  # ... and of its output
                change = f(pre[layer][j] + change) - acts[layer + 1][j]
            cols, rows = np.nonzero(change)
            if rows.size == 0:
                continue
            d = change[cols, rows]
            if layer == last:
                z = pre[last][:, rows]
                z[j] += d
            else:
                z = _tail(model, layer + 1, pre[layer + 1][:, rows] + model.W[layer + 1][:, j:j + 1] * d)
            delta = _row_losses(z, y[rows]) - base[rows]
            s[j] = np.bincount(cols, weights=delta, minlength=w.shape[1]) / n
        if model.l1 or model.l2:  # the penalty loses l1 |w| + l2 w^2
            s -= model.l1 * np.abs(w) + model.l2 * w * w
        out.append(s)
    return out


def scores(criterion: str, model: MLP, x, y, rng: np.random.Generator | None = None) -> list[np.ndarray]:
    """Per weight matrix, the significance of each weight under ``criterion`` (higher: keep longer): the exact
    saliency (:func:`saliency`), |w|, or uniform random numbers from ``rng``."""
    if criterion == "saliency":
        return saliency(model, x, y)
    if criterion == "magnitude":
        return [np.abs(w) for w in model.W]
    if criterion == "random":
        validate.generator(rng, "the random criterion")
        return [rng.random(w.shape) for w in model.W]
    raise SpecError(f"unknown criterion {criterion!r}; known: {', '.join(CRITERIA)}")


# ------------------------------------------------------------------ removing and restoring connections
def _masks(model: MLP) -> list[np.ndarray]:
    return [m.copy() for m in model.masks] if model.masks is not None else [np.ones_like(w) for w in model.W]


def n_pruned(model: MLP) -> int:
    """Number of weights masked out."""
    return 0 if model.masks is None else int(sum((m == 0).sum() for m in model.masks))


def prune(model: MLP, significance: list[np.ndarray], n_remove: int) -> dict:
    """Remove the ``n_remove`` least significant SURVIVING weights (all layers ranked together; ties by position, a
    stable sort): their masks become 0 and the weights 0 (:meth:`MLP.set_masks`). Returns the removed batch:
    ``layers``, ``index`` (flat indices into W_l) and ``values`` (the weights just before removal), for
    :func:`restore`."""
    n_remove = validate.integer("n_remove", n_remove, 0)
    if len(significance) != len(model.W) or any(np.shape(s) != w.shape for s, w in zip(significance, model.W)):
        raise SpecError("significance needs one array shaped like each weight matrix")
    masks = _masks(model)
    alive = np.concatenate([m.ravel() for m in masks]) == 1
    if n_remove > alive.sum():
        raise SpecError(f"cannot remove {n_remove} weights: only {int(alive.sum())} are left")
    flat = np.concatenate([np.asarray(s, dtype=np.float64).ravel() for s in significance])
    if not np.isfinite(flat[alive]).all():
        raise SpecError("significance scores must be finite")
    candidates = np.flatnonzero(alive)
    chosen = candidates[np.argsort(flat[candidates], kind="stable")[:int(n_remove)]]
    offsets = np.cumsum([0] + [w.size for w in model.W])
    layers = np.searchsorted(offsets, chosen, side="right") - 1
    index = chosen - offsets[layers]
    values = np.array([model.W[l].flat[i] for l, i in zip(layers, index)], dtype=np.float64)
    for l, i in zip(layers, index):
        masks[l].flat[i] = 0.0
    model.set_masks(masks)
    return {"layers": layers, "index": index, "values": values}


def restore(model: MLP, removed: dict) -> None:
    """Undo one :func:`prune`: the removed connections' masks back to 1 and the weights back to their values at
    removal; every other weight (and mask) as it is now."""
    masks = _masks(model)
    for l, i, v in zip(removed["layers"], removed["index"], removed["values"]):
        masks[l].flat[i] = 1.0
        model.W[l].flat[i] = v
    model.set_masks(masks)


# ------------------------------------------------------------------ the experiment
def _check_cfg(cfg: dict) -> dict:
    fr = cfg["fractions"]
    if not isinstance(fr, (list, tuple)) or not fr or any(
            not validate.is_real(f) or not 0 < f < 1 for f in fr) \
            or any(b <= a for a, b in zip(fr, fr[1:])):
        raise SpecError(f"fractions must be increasing numbers in (0, 1) (got {fr!r})")
    crit = cfg["criteria"]
    if not isinstance(crit, (list, tuple)) or not crit or any(c not in CRITERIA for c in crit) \
            or len(set(crit)) != len(crit):
        raise SpecError(f"criteria must be distinct names from {', '.join(CRITERIA)} (got {crit!r})")
    t = cfg["threshold"]
    validate.real("threshold", t, 0.0, 1.0, hi_open=True)
    r = cfg["retrain_epochs"]
    validate.integer("retrain_epochs", r, 1)
    return cfg


def _fit(model, data, cfg, seed, epochs):
    return train(model, data, optimizer=cfg["optimizer"], lr=cfg["lr"], batch=cfg["batch"], epochs=epochs,
                 seed=seed, grad_norms=False)


def _accs(model, data) -> tuple[float, float]:
    return model.evaluate(data.x_val, data.y_val)[1], model.evaluate(data.x_test, data.y_test)[1]


def _first_drop(fractions, val_acc, dense_val, threshold):
    """(first fraction below dense - threshold or None, the fraction before it)."""
    for k, (f, a) in enumerate(zip(fractions, val_acc)):
        if a < dense_val - threshold:
            return f, (fractions[k - 1] if k else 0.0)
    return None, fractions[-1]


def one_shot(model: MLP, data, significance, fractions) -> dict:
    """The scores ``significance`` of the dense ``model``, computed once; per fraction, the lowest round(F * all
    weights) zeroed and the net evaluated, never retrained: ``val_acc``, ``test_acc``. ``model`` is left as it
    came."""
    if model.masks is not None:
        raise SpecError("one_shot prunes a dense model (this one has masks)")
    saved = model.state()
    total = sum(w.size for w in model.W)
    val, test = [], []
    for f in fractions:
        prune(model, significance, int(round(f * total)))
        a, b = _accs(model, data)
        val.append(a)
        test.append(b)
        model.set_masks(None)
        model.load_state(saved)
    return {"val_acc": val, "test_acc": test}


def iterative(model: MLP, data, criterion: str, cfg: dict, stage_seeds, rng, dense: tuple[float, float],
              first=None) -> dict:
    """The slide's loop on ``model`` (trained, dense; pruned in place): per fraction, rescore the survivors, remove
    the N least significant, evaluate (``*_pruned``), retrain ``retrain_epochs`` (``*_retrained``). ``first``: the
    scores of the first stage if already computed (they are those of the dense net, as the one-shot arm's: the
    first stage of both arms then removes the same weights). The restore rule
    (see the module docstring) is applied at the first stage that drops by more than ``threshold``: ``restore`` =
    {``stage`` (the fraction that dropped), ``fraction`` (pruned after restoring), ``n_restored``, ``val_acc``,
    ``test_acc`` (the restored net), ``val_acc_dropped``, ``test_acc_dropped`` (the retrained net that dropped),
    ``val_acc_previous``, ``test_acc_previous`` (the net before that stage's removal: the previous stage's
    retrained net, or the dense one)}, or None when no stage drops. ``dense``: the dense net's (val, test)
    accuracy, the reference of the rule."""
    if not (isinstance(dense, (tuple, list)) and len(dense) == 2):
        raise SpecError(f"dense must be the dense net's (val_acc, test_acc) (got {dense!r})")
    total = sum(w.size for w in model.W)
    rows = {k: [] for k in ("n_pruned", "val_acc_pruned", "test_acc_pruned", "val_acc_retrained",
                            "test_acc_retrained")}
    rest = None
    for k, (f, s) in enumerate(zip(cfg["fractions"], stage_seeds)):
        sig = first if k == 0 and first is not None else scores(criterion, model, data.x_train, data.y_train, rng)
        removed = prune(model, sig, int(round(f * total)) - n_pruned(model))
        rows["n_pruned"].append(n_pruned(model))
        for key, value in zip(("val_acc_pruned", "test_acc_pruned"), _accs(model, data)):
            rows[key].append(value)
        _fit(model, data, cfg, s, cfg["retrain_epochs"])
        val, test = _accs(model, data)
        rows["val_acc_retrained"].append(val)
        rows["test_acc_retrained"].append(test)
        if rest is None and val < dense[0] - cfg["threshold"]:
            state, masks = model.state(), model.masks
            restore(model, removed)
            rv, rt = _accs(model, data)
            prev = (rows["val_acc_retrained"][-2], rows["test_acc_retrained"][-2]) if k else dense
            rest = {"stage": f, "fraction": n_pruned(model) / total, "n_restored": int(len(removed["values"])),
                    "val_acc": rv, "test_acc": rt, "val_acc_dropped": val, "test_acc_dropped": test,
                    "val_acc_previous": prev[0], "test_acc_previous": prev[1]}
            model.set_masks(masks)  # the curve goes on from the retrained, pruned net
            model.load_state(state)
    return {**rows, "restore": rest}


def continued(model: MLP, data, cfg: dict, stage_seeds) -> dict:
    """The control for retraining: the DENSE net trained ``retrain_epochs`` more per stage with the same seeds as the
    pruned arms (it has had as many epochs as the retrained net at each fraction): ``val_acc``, ``test_acc``."""
    val, test = [], []
    for s in stage_seeds:
        _fit(model, data, cfg, s, cfg["retrain_epochs"])
        a, b = _accs(model, data)
        val.append(a)
        test.append(b)
    return {"val_acc": val, "test_acc": test}


def run(*, seed: int = 0, data=None, **overrides) -> dict:
    """One seed: the dense net (``dense``: ``val_acc``, ``test_acc``, ``train_loss``), the dense net trained on as
    long as the retrained ones (``continued``: per fraction ``val_acc``, ``test_acc``), then per criterion
    (``criteria[name]``) the ``one_shot`` and ``iterative`` curves over ``fractions`` and, per arm (``one_shot``,
    ``pruned``, ``retrained``), ``first_drop`` and ``largest_within``; ``spearman``: rank correlation of the exact
    saliency with |w| over the dense net's weights; ``n_weights``; ``seconds``."""
    unknown = set(overrides) - set(CONFIG)
    if unknown:
        raise SpecError(f"unknown settings {sorted(unknown)}; known: {', '.join(CONFIG)}")
    cfg = _check_cfg({**CONFIG, **overrides})
    data_seed, model_seed, train_seed = seeds_of(seed)
    data = load_dataset("digits", seed=data_seed, val_fraction=cfg["val_fraction"]) if data is None else data
    fit_seq, stage_seq, crit_seq = np.random.SeedSequence(train_seed).spawn(3)
    fit_seed = int(fit_seq.generate_state(1)[0])
    stage_seeds = [int(c.generate_state(1)[0]) for c in stage_seq.spawn(len(cfg["fractions"]))]
    crit_rngs = {name: np.random.default_rng(seq) for name, seq in zip(CRITERIA, crit_seq.spawn(len(CRITERIA)))}
    start = time.perf_counter()
    with blas_single_thread():
        model = MLP([data.n_features, *cfg["hidden"], data.n_classes], cfg["activation"], cfg["init"],
                    seed=model_seed)
        _fit(model, data, cfg, fit_seed, cfg["epochs"])
        dense_state = model.state()
        dense_val, dense_test = _accs(model, data)
        out = {"seed": seed, **{k: list(v) if isinstance(v, tuple) else v for k, v in cfg.items()},
               "n_weights": int(sum(w.size for w in model.W)),
               "dense": {"val_acc": dense_val, "test_acc": dense_test,
                         "train_loss": model.evaluate(data.x_train, data.y_train)[0]}}
        sal = saliency(model, data.x_train, data.y_train)
        out["spearman"] = _spearman(np.concatenate([s.ravel() for s in sal]),
                                    np.concatenate([np.abs(w).ravel() for w in model.W]))
        out["continued"] = continued(model, data, cfg, stage_seeds)
        out["criteria"] = {}
        for name in cfg["criteria"]:
            model.load_state(dense_state)
            sig = sal if name == "saliency" else scores(name, model, data.x_train, data.y_train, crit_rngs[name])
            shot = one_shot(model, data, sig, cfg["fractions"])
            it = iterative(model, data, name, cfg, stage_seeds, crit_rngs[name], (dense_val, dense_test), first=sig)
            model.set_masks(None)
            arms = {"one_shot": shot["val_acc"], "pruned": it["val_acc_pruned"], "retrained": it["val_acc_retrained"]}
            drops = {arm: _first_drop(cfg["fractions"], v, dense_val, cfg["threshold"]) for arm, v in arms.items()}
            out["criteria"][name] = {"one_shot": shot, "iterative": it,
                                     "first_drop": {a: d[0] for a, d in drops.items()},
                                     "largest_within": {a: d[1] for a, d in drops.items()}}
    out["seconds"] = time.perf_counter() - start
    return out


def _spearman(a, b) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def at_fraction(result: dict, fraction: float = HEADLINE_FRACTION) -> dict:
    """Per criterion, the accuracies at one pruned ``fraction`` of a :func:`run` result: ``val_``/``test_`` +
    ``one_shot``, ``pruned``, ``retrained``, ``continued`` (the dense control, same epochs); ``recovered`` = test
    retrained - test one-shot; ``retrain_gain`` = test retrained - test pruned (the same stage, before and after
    its retraining)."""
    fr = result["fractions"]
    if fraction not in fr:
        raise SpecError(f"fraction {fraction!r} is not among the run's fractions {fr}")
    k = fr.index(fraction)
    out = {}
    for name, c in result["criteria"].items():
        it, shot, cont = c["iterative"], c["one_shot"], result["continued"]
        out[name] = {"val_one_shot": shot["val_acc"][k], "test_one_shot": shot["test_acc"][k],
                     "val_pruned": it["val_acc_pruned"][k], "test_pruned": it["test_acc_pruned"][k],
                     "val_retrained": it["val_acc_retrained"][k], "test_retrained": it["test_acc_retrained"][k],
                     "val_continued": cont["val_acc"][k], "test_continued": cont["test_acc"][k],
                     "recovered": it["test_acc_retrained"][k] - shot["test_acc"][k],
                     "retrain_gain": it["test_acc_retrained"][k] - it["test_acc_pruned"][k]}
    return out


_ARMS = {"one_shot": ("one_shot", ""), "pruned": ("iterative", "_pruned"), "retrained": ("iterative", "_retrained")}


def over_seeds(seeds=range(SEEDS), fraction: float = HEADLINE_FRACTION, **kw) -> dict:
    """Over ``seeds``: ``dense`` val/test accuracy and ``spearman``; per criterion: the spreads of
    :func:`at_fraction`'s keys at ``fraction``; ``largest_within`` per arm; ``first_drop`` per arm (censored: None
    = no drop within the schedule, horizon the last fraction); the restore rule's ``restore_fraction`` (the pruned
    fraction it ends at; the last fraction when no stage dropped) and ``restore_val_acc`` / ``restore_test_acc``
    (the restored net's, or the last retrained net's), ``restore_gain`` (restored - dropped, validation; 0 when
    nothing dropped), ``previous_val_acc`` / ``previous_test_acc`` (the net before the last removal); ``curves``: per arm (``val_``/``test_`` + ``one_shot``, ``pruned``, ``retrained``) the spread
    at each fraction; ``continued``: the dense control's spread at each fraction."""
    seeds = seed_list(seeds)
    return summarize([run(seed=s, **kw) for s in seeds], fraction)


def summarize(runs: list, fraction: float = HEADLINE_FRACTION) -> dict:
    """The :func:`over_seeds` summary of :func:`run` results already computed (one per seed)."""
    check_runs(runs)
    seeds = [r["seed"] for r in runs]
    last = runs[0]["fractions"][-1]
    out = {"seeds": seeds, "fraction": fraction,
           "dense": {k: spread([r["dense"][k] for r in runs]) for k in ("val_acc", "test_acc")},
           "spearman": spread([r["spearman"] for r in runs]), "criteria": {}}
    heads = [at_fraction(r, fraction) for r in runs]
    for name in runs[0]["criteria"]:
        cs = [r["criteria"][name] for r in runs]
        row = {k: spread([h[name][k] for h in heads]) for k in heads[0][name]}
        row["largest_within"] = {a: spread([c["largest_within"][a] for c in cs]) for a in cs[0]["largest_within"]}
        row["first_drop"] = {a: censored_spread([c["first_drop"][a] for c in cs], last) for a in cs[0]["first_drop"]}
        rest = [c["iterative"]["restore"] for c in cs]
        row["restore_fraction"] = spread([r["fraction"] if r else last for r in rest])
        for k in ("val_acc", "test_acc"):
            row[f"restore_{k}"] = spread([r[k] if r else c["iterative"][f"{k}_retrained"][-1]
                                          for r, c in zip(rest, cs)])
        row["restore_gain"] = spread([r["val_acc"] - r["val_acc_dropped"] if r else 0.0 for r in rest])
        for k in ("val_acc", "test_acc"):  # the net before the last removal: rewinding instead of restoring
            row[f"previous_{k}"] = spread([r[f"{k}_previous"] if r else c["iterative"][f"{k}_retrained"][-1]
                                           for r, c in zip(rest, cs)])
        row["curves"] = {f"{split}_{arm}": [spread(v) for v in zip(*[c[part][f"{split}_acc{suffix}"] for c in cs])]
                         for arm, (part, suffix) in _ARMS.items() for split in ("val", "test")}
        out["criteria"][name] = row
    out["continued"] = {k: [spread(v) for v in zip(*[r["continued"][k] for r in runs])]
                        for k in ("val_acc", "test_acc")}
    return out
