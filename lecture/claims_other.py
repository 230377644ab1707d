"""Claims of the slides on the other training heuristics, each with the check that computes its verdict.

Slides: the shuffling advice of «Трюки», «Предобучение», «Динамическое наращивание сети», «Прореживание сети» and
«Уже обсуждали». They are empirical: the training experiments' paired seeds (:func:`lecture.registry.experiment`)
judged by the paired-interval method (docs/METHOD.md), and for growth the measured loss at each growth step.
"""
from __future__ import annotations

from lecture.method import Effect, decide
from lecture.registry import (Claim, NotAClaim, Outcome, and_join, code_spans, experiment, flipped, fmt, paired,
                              paired_outcome, spread_of, spread_text)

#: the experiments' names of measures, in words
MEASURES = {"diff_test_acc": "test accuracy", "diff_val_acc_first": "validation accuracy after the first epoch",
            "test_retrained": "test accuracy after retraining", "test_one_shot": "test accuracy without retraining",
            "restore_gain": "gain from restoring"}


def _words(key: str) -> str:
    """A measure's name (:data:`MEASURES`) in words."""
    return MEASURES.get(key, key.replace("_", " "))


def _difference(a: str, b: str) -> str:
    """Measure ``a`` minus measure ``b`` in words, their common first words said once."""
    wa, wb = _words(a).split(), _words(b).split()
    k = next((i for i, (x, y) in enumerate(zip(wa, wb)) if x != y), min(len(wa), len(wb)))
    head = " ".join(wa[:k])
    return f"{head + ', ' if head else ''}{' '.join(wa[k:])} minus {' '.join(wb[k:])}"


def _check_shuffle_sorted(claimed, evidence):
    sh = experiment(evidence, "shuffling")["runs"]
    per = {"without batch norm (validation accuracy after epoch 1)":
           paired(sh["reshuffled"]["val_acc_first"], sh["sorted"]["val_acc_first"]),
           "with batch norm (final validation accuracy)":
           paired(sh["reshuffled+bn"]["val_acc_final"], sh["sorted+bn"]["val_acc_final"])}
    text = (f"Class-sorted batches vs reshuffled every epoch: after epoch 1 "
            f"{spread_text(sh['sorted']['val_acc_first'])} vs {spread_text(sh['reshuffled']['val_acc_first'])} "
            f"validation accuracy without batch norm (at the end {spread_text(sh['sorted']['test_acc'])} vs "
            f"{spread_text(sh['reshuffled']['test_acc'])} test); with batch norm final "
            f"{spread_text(sh['sorted+bn']['val_acc_final'])} vs {spread_text(sh['reshuffled+bn']['val_acc_final'])}.")
    return paired_outcome(per, claimed, what="accuracy reshuffled minus class-sorted", evidence=text,
                           numbers={"final_test_without_bn": {"sorted": sh["sorted"]["test_acc"],
                                                              "reshuffled": sh["reshuffled"]["test_acc"]}})


def _check_reshuffle_each_epoch(claimed, evidence):
    sh = experiment(evidence, "shuffling")["runs"]
    per = {"without batch norm": paired(sh["reshuffled"]["test_acc"], sh["shuffled_once"]["test_acc"]),
           "with batch norm": paired(sh["reshuffled+bn"]["test_acc"], sh["shuffled_once+bn"]["test_acc"])}
    text = (f"Test accuracy reshuffled every epoch vs a random order fixed once: without batch norm "
            f"{spread_text(sh['reshuffled']['test_acc'])} vs {spread_text(sh['shuffled_once']['test_acc'])} "
            f"(paired {spread_text(spread_of(per['without batch norm']))}); with batch norm "
            f"{spread_text(sh['reshuffled+bn']['test_acc'])} vs {spread_text(sh['shuffled_once+bn']['test_acc'])} "
            f"(paired {spread_text(spread_of(per['with batch norm']))}).")
    return paired_outcome(per, claimed, what="test accuracy reshuffled every epoch minus shuffled once",
                           evidence=text, numbers={})


# ------------------------------------------------------------------------------------------------ other heuristics
def _check_pretraining(claimed, evidence):
    pr = experiment(evidence, "pretraining")["settings"]
    form, key = claimed["form"], claimed["measure"]
    per = {f"{name} labels": [float(x) for x in row[form][key]["values"]] for name, row in pr.items()}
    parts = []
    for name, row in pr.items():
        extra = (f", at equal cost {spread_text(row[form]['diff_test_acc_equal_cost'])}"
                 if "diff_test_acc_equal_cost" in row[form] and key == "diff_test_acc" else "")
        parts.append(f"{name} labels: {form} {spread_text(row[form]['test_acc'])} vs scratch "
                     f"{spread_text(row['scratch']['test_acc'])} test accuracy, difference in {_words(key)} "
                     f"{spread_text(row[form][key])}{extra}")
    text = f"{form.capitalize()} pretraining, 64-32-10 tanh, 5 seeds: " + "; ".join(parts) + "."
    return paired_outcome(per, claimed, what=f"{_words(key)}, {form} pretrained minus scratch", evidence=text,
                          numbers={"form": form, "measure": key})


def _check_growth_cost(claimed, evidence):
    from sims.experiments.growth import PRETRAINED

    gr = experiment(evidence, "growth")["strategies"]
    lo, hi = (float(x) for x in claimed["interval"])
    medians, where = {}, {}
    for name in (s for s in PRETRAINED if s in gr):
        if gr[name]["ratio"] is None:
            continue
        med = float(gr[name]["ratio"]["median"])
        medians[name] = med
        where[name] = "below" if med < lo else ("above" if med > hi else "inside")
    all_vals = [float(v) for n in medians for v in gr[n]["ratio"]["values"]]
    numbers = {"medians": medians, "where": where, "interval": [lo, hi],
               "ratio": {n: gr[n]["ratio"] for n in medians}, "missed": {n: gr[n]["missed"] for n in gr},
               "all_seeds": spread_of(all_vals) if all_vals else None}
    text = ("Growth cost over the cost of the final size trained from scratch (multiply-adds, to training loss 0.02), "
            "the slide's strategies: " + "; ".join(f"`{n}` {spread_text(gr[n]['ratio'])}" for n in medians)
            + (f"; all seeds {fmt(min(all_vals))}-{fmt(max(all_vals))}." if all_vals else "."))
    if medians and all(w == "inside" for w in where.values()):
        return Outcome("supported", text, numbers)
    off = [f"`{n}` {fmt(medians[n])} ({where[n]})" for n in medians if where[n] != "inside"]
    inside = [n for n in medians if where[n] == "inside"]
    lo_med, hi_med = (fmt(min(medians.values())), fmt(max(medians.values()))) if medians else ("", "")
    span = lo_med if lo_med == hi_med else f"{lo_med}-{hi_med}"  # the medians' range
    if inside:  # «обычно»: true for some of the slide's strategies, not for all
        return Outcome("imprecise", text, numbers,
                       condition=f"for the new-unit strateg{'y' if len(inside) == 1 else 'ies'} "
                                 f"{and_join(code_spans(inside))} (median inside [{fmt(lo)}, {fmt(hi)}]); "
                                 "not for " + and_join(off),
                       correction=f"the total cost is {span}× "
                                  f"(medians by strategy), single seeds {fmt(min(all_vals))}-{fmt(max(all_vals))}×")
    above = sum(w == "above" for w in where.values())
    return Outcome("not-supported", text, numbers,
                   correction=(f"{'median' if lo_med == hi_med else 'medians'} {span}×: outside "
                               f"[{fmt(lo)}, {fmt(hi)}] for " + and_join(off)
                               + f"; {above or 'no'} median{'' if above == 1 else 's'} above {fmt(hi)}; single "
                                 f"seeds {fmt(min(all_vals))}-{fmt(max(all_vals))}×")
                   if medians else "no strategy reached the target")


def _check_growth_information(claimed, evidence):
    gr = experiment(evidence, "growth")["strategies"]
    limit = float(claimed["max_loss_rise"])
    kept, lost = [], []
    for name, row in gr.items():
        if row["max_rel_jump"] is None:
            continue
        (kept if all(float(v) <= limit + 1e-9 for v in row["max_rel_jump"]["values"]) else lost).append(name)
    numbers = {"max_rel_jump": {n: gr[n]["max_rel_jump"] for n in kept + lost}, "kept": kept, "lost": lost,
               "claimed_max_rise": limit}
    text = ("Largest relative change of the training loss at a growth, (after - before) / before: "
            + "; ".join(f"`{n}` {spread_text(gr[n]['max_rel_jump'])}" for n in kept + lost) + ".")
    verdict = "supported" if not lost else ("not-supported" if not kept else "imprecise")
    rises = and_join(f"`{n}` up to +{fmt(gr[n]['max_rel_jump']['max'])}" for n in lost)
    if verdict == "supported":
        return Outcome(verdict, text, numbers)
    if verdict == "imprecise":
        bound = ("does not rise at any growth" if limit == 0 else
                 f"rises by at most {fmt(limit)} (relative) at every growth")
        return Outcome(verdict, text, numbers,
                       condition=f"the training loss {bound} only with the new-unit "
                                 f"strateg{'y' if len(kept) == 1 else 'ies'} "
                                 f"{and_join(code_spans(kept))} (zero outgoing "
                                 "weights keep the function exactly; a pre-trained unit can still raise the loss)",
                       correction=f"a new unit can raise the loss: {rises}")
    return Outcome(verdict, text, numbers, correction=f"the loss rises at growths: {rises}")



def _check_pruning_error_falls(claimed, evidence):
    """«обнуляем вес, смотрим как сильно упала ошибка» as written: zeroing weights makes the error fall. Per seed
    (paired), the test error after zeroing the given fraction of weights by the criterion (no retraining) minus the
    dense net's test error, its interval on the claimed side of 0 ("упала": less)."""
    pr = experiment(evidence, "pruning")
    row = pr["criteria"][claimed["criterion"]]
    vals = paired(pr["dense"]["test_acc"], row["test_one_shot"])  # error after - error before = acc before - after
    text = (f"Zeroing {fmt(pr['fraction'])} of the weights of a 64-100-10 relu net by the {claimed['criterion']} "
            f"criterion, no retraining: test accuracy {spread_text(pr['dense']['test_acc'])} dense vs "
            f"{spread_text(row['test_one_shot'])} pruned.")
    return paired_outcome({"": vals}, claimed, what="test error after zeroing minus before", evidence=text,
                           numbers={"fraction": pr["fraction"], "dense": pr["dense"]["test_acc"],
                                    "one_shot": row["test_one_shot"]},
                           note="; the error grows when weights are zeroed: the significance of a weight is how much "
                                r"the error RISES without it (Optimal Brain Damage: about $h_{ii} w_i^2 / 2 \geq 0$)")


def _check_pruning_retrain(claimed, evidence):
    pr = experiment(evidence, "pruning")
    row = pr["criteria"][claimed["criterion"]]
    a, b = claimed["measure"]
    vals = paired(row[a], row[b])
    text = (f"Pruning {fmt(pr['fraction'])} of the weights of a 64-100-10 relu net by the {claimed['criterion']} "
            f"criterion: {_words(a)} {spread_text(row[a])} vs {_words(b)} {spread_text(row[b])} (paired "
            f"{spread_text(spread_of(vals))}); dense {spread_text(pr['dense']['test_acc'])}, and the unpruned control "
            f"given the same extra epochs {spread_text(row['test_continued'])}.")
    label = _difference(a, b)
    return paired_outcome({label: vals}, claimed, what=label, evidence=text,
                          numbers={"fraction": pr["fraction"], a: row[a], b: row[b],
                                   "continued": row["test_continued"]})


def _check_pruning_restore(claimed, evidence):
    pr = experiment(evidence, "pruning")
    row = pr["criteria"][claimed["criterion"]]
    vals = [float(v) for v in row[claimed["measure"]]["values"]]
    prev = paired(row["previous_val_acc"], row["restore_val_acc"])
    text = (f"With the {claimed['criterion']} criterion the restore rule (validation 1 point below the dense net) "
            f"fires at {spread_text(row['restore_fraction'])} pruned; putting the last removed connections back "
            f"changes validation accuracy by {spread_text(spread_of(vals))}, while the net from before that removal "
            f"is {spread_text(spread_of(prev))} above the restored one.")
    rewind = decide(Effect("validation accuracy, the net before the last removal minus the restored one", "greater"),
                    prev)
    note = (f"; rewinding to the net from before that removal is better: {rewind.text()}"
            if rewind.verdict == "supported" else "")
    return paired_outcome({_words(claimed["measure"]): vals}, claimed,
                          what="validation accuracy, restored minus dropped", evidence=text, note=note,
                          numbers={"previous_minus_restored": spread_of(prev),
                                   "restore_fraction": row["restore_fraction"],
                                   "restore_test_acc": row["restore_test_acc"],
                                   "previous_test_acc": row["previous_test_acc"]})


# ------------------------------------------------------------------------------------------------ perturbations
def _bigger_effect(claimed):
    return {**claimed, "min_size": 0.05}



CLAIMS: tuple[Claim, ...] = (
    Claim("other-shuffle-sorted", "Трюки",
          "Не забывайте перемешивать обучающую выборку перед каждой новой эпохой, чтобы батчи были разнообразными",
          "Shuffling the training set (instead of feeding it in a class-sorted order) makes the batches diverse and "
          "training work better (no size stated).",
          {"direction": "greater"}, _check_shuffle_sorted, flipped, figure="train-shuffling"),
    Claim("other-reshuffle-every-epoch", "Трюки", "перемешивать обучающую выборку перед каждой новой эпохой",
          "Reshuffling before EVERY epoch beats a random order fixed once.",
          {"direction": "greater", "min_size": 0.0}, _check_reshuffle_each_epoch, _bigger_effect,
          figure="train-shuffling"),
    Claim("other-pretraining-units", "Предобучение",
          "Обучаем каждый нейрон на рандомной подвыборке, каждый нейрон впитает какие-то отдельные её особенности, "
          "после скрепляем все нейроны вместе и продолжаем обучение на всей выборке",
          "Pretraining each unit on a random subsample, then joining them and training on, gives a better network "
          "than training from scratch.",
          {"form": "units", "measure": "diff_test_acc", "direction": "greater", "min_size": 0.0},
          _check_pretraining, lambda c: {**c, "direction": "none", "min_size": 0.03}, figure="train-pretraining"),
    Claim("other-pretraining-early-lead", "Предобучение",
          "после скрепляем все нейроны вместе и продолжаем обучение на всей выборке",
          "The joined pretrained units give training a head start: higher validation accuracy after the first epoch "
          "(no size stated).",
          {"form": "units", "measure": "diff_val_acc_first", "direction": "greater"},
          _check_pretraining, flipped, figure="train-pretraining"),
    Claim("other-pretraining-autoencoder", "Предобучение",
          "обучаем на корпусе картинок автокодировщик, encoder благодаря этому учится выделять наиболее важные фичи, "
          "которые позволяют эффективно сжимать изображения. После срезаем decoder и на его месте достраиваем слои "
          "для решения нашей задачи, запускаем обычное дообучение.",
          "An autoencoder's encoder, fine-tuned with a new head, beats the same classifier trained from scratch.",
          {"form": "autoencoder", "measure": "diff_test_acc", "direction": "greater", "min_size": 0.0},
          _check_pretraining, flipped, figure="train-pretraining"),
    Claim("other-growth-cost", "Динамическое наращивание сети",
          "Общее время обучения обычно лишь в 1.5 — 2 раза больше, чем если бы в сети сразу было итоговое число "
          "нейронов",
          "Growing the network costs 1.5-2 times the training of the final size from scratch.",
          {"interval": (1.5, 2.0)}, _check_growth_cost, lambda c: {**c, "interval": (1.0, 2.0)},
          figure="train-growth"),
    Claim("other-growth-keeps-information", "Динамическое наращивание сети",
          "Полезная информация, накопленная сетью не теряется при добавлении нейронов",
          "Adding a neuron does not lose what the network has learned: the training loss does not rise at a growth.",
          {"max_loss_rise": 0.0}, _check_growth_information, lambda c: {**c, "max_loss_rise": 0.2},
          figure="train-growth"),
    Claim("other-pruning-error-falls", "Прореживание сети", "обнуляем вес, смотрим как сильно упала ошибка",
          "To judge a weight, zero it and see how much the error fell (as written: zeroing makes the error fall).",
          {"criterion": "saliency", "direction": "less"}, _check_pruning_error_falls, flipped,
          figure="train-pruning"),
    Claim("other-pruning-retrain", "Прореживание сети", "После прореживания снова запускаем backprop",
          "Retraining after pruning recovers accuracy: at 90% pruned, better than the pruned net left as it is (no "
          "size stated).",
          {"criterion": "saliency", "measure": ("test_retrained", "test_one_shot"), "direction": "greater"},
          _check_pruning_retrain, flipped, figure="train-pruning"),
    Claim("other-pruning-restore", "Прореживание сети",
          "Если качество модели сильно упала, надо вернуть последние удалённые связи",
          "When quality drops, putting the last removed connections back recovers it.",
          {"criterion": "saliency", "measure": "restore_gain", "direction": "greater", "min_size": 0.0},
          _check_pruning_restore, lambda c: {**c, "direction": "none", "min_size": 0.03}, figure="train-pruning"),
)


#: Statements of these slides that are not graded (:class:`lecture.registry.NotAClaim`).
NOT_CLAIMS: tuple[NotAClaim, ...] = (
    NotAClaim("other-early-stopping", "Уже обсуждали", "Ранняя остановка",
              "a two-word item in the list of topics «Уже обсуждали» (already discussed): it names early stopping and "
              "states nothing about it. The experiment stays in the figure `train-early-stopping`, not graded."),
)

