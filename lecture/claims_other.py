"""Claims of the slides on the other training heuristics, each with the check that computes its verdict.

Slides: the shuffling advice of «Трюки», «Предобучение», «Динамическое наращивание сети», «Прореживание сети» and
«Уже обсуждали». They are empirical: the training experiments' paired seeds (:func:`lecture.registry.experiment`)
judged by the paired-interval method (docs/METHOD.md), and for growth the measured loss at each growth step.
"""
from __future__ import annotations

from lecture.method import Effect, decide
from lecture.registry import (Claim, NotAClaim, Outcome, and_join, code_spans, experiment, flipped, fmt, paired,
                              paired_outcome, seeds_ru, spread_of, spread_text)
from theory.text import T, join_words, pick, plural_ru

#: the experiments' names of measures, in words
MEASURES = {"diff_test_acc": T("test accuracy", "точность на тесте"),
            "diff_val_acc_first": T("validation accuracy after the first epoch",
                                    "точность на валидации после первой эпохи"),
            "test_retrained": T("test accuracy after retraining", "точность на тесте после дообучения"),
            "test_one_shot": T("test accuracy without retraining", "точность на тесте без дообучения"),
            "restore_gain": T("gain from restoring", "выигрыш от восстановления")}
#: the settings of the pretraining experiment (how many training rows are labelled), in words
LABELS = {"full": T("full labels", "все метки"), "few": T("few labels", "мало меток")}
#: the forms of pretraining: (the evidence's heading, "after ... pretraining", "with ... pretraining") in Russian
FORMS_RU = {"units": ("Понейронное предобучение", "после понейронного предобучения", "с понейронным предобучением"),
            "autoencoder": ("Предобучение автокодировщиком", "после предобучения автокодировщиком",
                            "с предобучением автокодировщиком")}
#: the pruning criteria, in Russian ("по критерию ...")
CRITERIA_RU = {"saliency": "значимости", "magnitude": "модуля веса", "random": "случайного выбора"}
#: where a median lies against the claimed interval, in Russian
WHERE_RU = {"below": "ниже", "above": "выше", "inside": "внутри"}
#: the shuffling experiment's settings, in words
WITHOUT_BN, WITH_BN = T("without batch norm", "без батч-нормализации"), T("with batch norm", "с батч-нормализацией")


def _words(key: str) -> T:
    """A measure's name (:data:`MEASURES`) in words."""
    return MEASURES.get(key) or T("", "") + key.replace("_", " ")


def _difference(a: str, b: str) -> T:
    """Measure ``a`` minus measure ``b`` in words, their common first words said once."""
    def one(lang: str, minus: str) -> str:
        wa, wb = pick(_words(a), lang).split(), pick(_words(b), lang).split()
        k = next((i for i, (x, y) in enumerate(zip(wa, wb)) if x != y), min(len(wa), len(wb)))
        head = " ".join(wa[:k])
        return f"{head + ', ' if head else ''}{' '.join(wa[k:])} {minus} {' '.join(wb[k:])}"
    return T(one("en", "minus"), one("ru", "минус"))


def _criterion(name: str) -> str:
    """A pruning criterion in Russian, after «по критерию»."""
    return CRITERIA_RU.get(name, f"`{name}`")


def _check_shuffle_sorted(claimed, evidence):
    sh = experiment(evidence, "shuffling")["runs"]
    per = {T("without batch norm (validation accuracy after epoch 1)",
             "без батч-нормализации (точность на валидации после 1-й эпохи)"):
           paired(sh["reshuffled"]["val_acc_first"], sh["sorted"]["val_acc_first"]),
           T("with batch norm (final validation accuracy)", "с батч-нормализацией (итоговая точность на валидации)"):
           paired(sh["reshuffled+bn"]["val_acc_final"], sh["sorted+bn"]["val_acc_final"])}
    text = T(f"Class-sorted batches vs reshuffled every epoch: after epoch 1 "
             f"{spread_text(sh['sorted']['val_acc_first'])} vs {spread_text(sh['reshuffled']['val_acc_first'])} "
             f"validation accuracy without batch norm (at the end {spread_text(sh['sorted']['test_acc'])} vs "
             f"{spread_text(sh['reshuffled']['test_acc'])} test); with batch norm final "
             f"{spread_text(sh['sorted+bn']['val_acc_final'])} vs {spread_text(sh['reshuffled+bn']['val_acc_final'])}.",
             f"Батчи, отсортированные по классам, против перемешивания перед каждой эпохой: без батч-нормализации "
             f"точность на валидации после 1-й эпохи {spread_text(sh['sorted']['val_acc_first'])} против "
             f"{spread_text(sh['reshuffled']['val_acc_first'])} (в конце, на тесте, "
             f"{spread_text(sh['sorted']['test_acc'])} против {spread_text(sh['reshuffled']['test_acc'])}); "
             f"с батч-нормализацией итоговая {spread_text(sh['sorted+bn']['val_acc_final'])} против "
             f"{spread_text(sh['reshuffled+bn']['val_acc_final'])}.")
    return paired_outcome(per, claimed, what=T("accuracy reshuffled minus class-sorted",
                                               "точность с перемешиванием минус с сортировкой по классам"),
                          evidence=text,
                          numbers={"final_test_without_bn": {"sorted": sh["sorted"]["test_acc"],
                                                             "reshuffled": sh["reshuffled"]["test_acc"]}})


def _check_reshuffle_each_epoch(claimed, evidence):
    sh = experiment(evidence, "shuffling")["runs"]
    per = {WITHOUT_BN: paired(sh["reshuffled"]["test_acc"], sh["shuffled_once"]["test_acc"]),
           WITH_BN: paired(sh["reshuffled+bn"]["test_acc"], sh["shuffled_once+bn"]["test_acc"])}
    without, with_ = spread_text(spread_of(per[WITHOUT_BN])), spread_text(spread_of(per[WITH_BN]))
    text = T(f"Test accuracy reshuffled every epoch vs a random order fixed once: without batch norm "
             f"{spread_text(sh['reshuffled']['test_acc'])} vs {spread_text(sh['shuffled_once']['test_acc'])} "
             f"(paired {without}); with batch norm "
             f"{spread_text(sh['reshuffled+bn']['test_acc'])} vs {spread_text(sh['shuffled_once+bn']['test_acc'])} "
             f"(paired {with_}).",
             f"Точность на тесте с перемешиванием перед каждой эпохой против случайного порядка, зафиксированного "
             f"один раз: без батч-нормализации {spread_text(sh['reshuffled']['test_acc'])} против "
             f"{spread_text(sh['shuffled_once']['test_acc'])} (парная разность {without}); с батч-нормализацией "
             f"{spread_text(sh['reshuffled+bn']['test_acc'])} против {spread_text(sh['shuffled_once+bn']['test_acc'])} "
             f"(парная разность {with_}).")
    return paired_outcome(per, claimed, what=T("test accuracy reshuffled every epoch minus shuffled once",
                                               "точность на тесте с перемешиванием перед каждой эпохой минус с "
                                               "однократным перемешиванием"),
                          evidence=text, numbers={})


# ------------------------------------------------------------------------------------------------ other heuristics
def _check_pretraining(claimed, evidence):
    pr = experiment(evidence, "pretraining")["settings"]
    form, key = claimed["form"], claimed["measure"]
    label = {name: LABELS.get(name, T(f"{name} labels", f"метки: {name}")) for name in pr}
    per = {label[name]: [float(x) for x in row[form][key]["values"]] for name, row in pr.items()}
    heading, after, with_form = FORMS_RU.get(form, (f"Предобучение `{form}`", f"после предобучения `{form}`",
                                                    f"с предобучением `{form}`"))
    words = _words(key)
    parts = []
    for name, row in pr.items():
        equal = (spread_text(row[form]['diff_test_acc_equal_cost'])
                 if "diff_test_acc_equal_cost" in row[form] and key == "diff_test_acc" else "")
        parts.append(T(f"{label[name].en}: {form} {spread_text(row[form]['test_acc'])} vs scratch "
                       f"{spread_text(row['scratch']['test_acc'])} test accuracy, difference in {words.en} "
                       f"{spread_text(row[form][key])}{f', at equal cost {equal}' if equal else ''}",
                       f"{label[name].ru}: точность на тесте {after} {spread_text(row[form]['test_acc'])} против "
                       f"{spread_text(row['scratch']['test_acc'])} при обучении с нуля, разность ({words.ru}) "
                       f"{spread_text(row[form][key])}{f', при равных затратах {equal}' if equal else ''}"))
    n = len(next(iter(pr.values()))["scratch"]["test_acc"]["values"])  # the seeds the runs used
    text = (T(f"{form.capitalize()} pretraining, 64-32-10 tanh, {n} seeds: ",
              f"{heading}, 64-32-10 tanh, {seeds_ru(n)}: ")
            + T("; ", "; ").join(parts) + ".")
    return paired_outcome(per, claimed, what=T(f"{words.en}, {form} pretrained minus scratch",
                                               f"{words.ru}, {with_form} минус с нуля"), evidence=text,
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
    ratios = "; ".join(f"`{n}` {spread_text(gr[n]['ratio'])}" for n in medians)
    seeds = f"{fmt(min(all_vals))}-{fmt(max(all_vals))}" if all_vals else ""
    text = T("Growth cost over the cost of the final size trained from scratch (multiply-adds, to training loss 0.02), "
             "the slide's strategies: " + ratios + (f"; all seeds {seeds}." if all_vals else "."),
             "Затраты на наращивание относительно затрат на обучение сети итогового размера с нуля "
             "(умножения-сложения, до функции потерь на обучении 0.02), стратегии слайда: " + ratios
             + (f"; по всем зёрнам {seeds}." if all_vals else "."))
    if medians and all(w == "inside" for w in where.values()):
        return Outcome("supported", text, numbers)
    off = [T(f"`{n}` {fmt(medians[n])} ({where[n]})", f"`{n}` {fmt(medians[n])} ({WHERE_RU[where[n]]})")
           for n in medians if where[n] != "inside"]
    inside = [n for n in medians if where[n] == "inside"]
    lo_med, hi_med = (fmt(min(medians.values())), fmt(max(medians.values()))) if medians else ("", "")
    span = lo_med if lo_med == hi_med else f"{lo_med}-{hi_med}"  # the medians' range
    if inside:  # «обычно»: true for some of the slide's strategies, not for all
        one = len(inside) == 1
        return Outcome("imprecise", text, numbers,
                       condition=T(f"for the new-unit strateg{'y' if one else 'ies'} "
                                   f"{and_join(code_spans(inside))} (median inside [{fmt(lo)}, {fmt(hi)}]); "
                                   "not for " + and_join(off),
                                   f"для {'стратегии' if one else 'стратегий'} добавления нейрона "
                                   f"{and_join(code_spans(inside), lang='ru')} ({'медиана' if one else 'медианы'} "
                                   f"внутри [{fmt(lo)}, {fmt(hi)}]); не для " + and_join(off, lang="ru")),
                       correction=T(f"the total cost is {span}× "
                                    f"(medians by strategy), single seeds {seeds}×",
                                    f"общие затраты — {span}× (медианы по стратегиям), отдельные зёрна {seeds}×"))
    above = sum(w == "above" for w in where.values())
    above_ru = (f"{above} {plural_ru(above, 'медиана', 'медианы', 'медиан')}" if above else "ни одной медианы")
    return Outcome("not-supported", text, numbers,
                   correction=T(f"{'median' if lo_med == hi_med else 'medians'} {span}×: outside "
                                f"[{fmt(lo)}, {fmt(hi)}] for " + and_join(off)
                                + f"; {above or 'no'} median{'' if above == 1 else 's'} above {fmt(hi)}; single "
                                  f"seeds {seeds}×",
                                f"{'медиана' if lo_med == hi_med else 'медианы'} {span}×: вне "
                                f"[{fmt(lo)}, {fmt(hi)}] для " + and_join(off, lang="ru")
                                + f"; {above_ru} выше {fmt(hi)}; отдельные зёрна {seeds}×")
                   if medians else T("no strategy reached the target",
                                     "ни одна стратегия не достигла целевого значения функции потерь"))


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
    jumps = "; ".join(f"`{n}` {spread_text(gr[n]['max_rel_jump'])}" for n in kept + lost)
    text = T("Largest relative change of the training loss at a growth, (after - before) / before: " + jumps + ".",
             "Наибольшее относительное изменение функции потерь на обучении при наращивании, (после - до) / до: "
             + jumps + ".")
    verdict = "supported" if not lost else ("not-supported" if not kept else "imprecise")
    rises = join_words(T(f"`{n}` up to +{fmt(gr[n]['max_rel_jump']['max'])}",
                         f"`{n}` до +{fmt(gr[n]['max_rel_jump']['max'])}") for n in lost)
    if verdict == "supported":
        return Outcome(verdict, text, numbers)
    if verdict == "imprecise":
        bound = (T("does not rise at any growth", "не растёт ни при одном наращивании") if limit == 0 else
                 T(f"rises by at most {fmt(limit)} (relative) at every growth",
                   f"растёт не более чем на {fmt(limit)} (относительно) при каждом наращивании"))
        one = len(kept) == 1
        return Outcome(verdict, text, numbers,
                       condition=T(f"the training loss {bound.en} only with the new-unit "
                                   f"strateg{'y' if one else 'ies'} "
                                   f"{and_join(code_spans(kept))} (zero outgoing "
                                   "weights keep the function exactly; a pre-trained unit can still raise the loss)",
                                   f"функция потерь на обучении {bound.ru} только при "
                                   f"{'стратегии' if one else 'стратегиях'} добавления нейрона "
                                   f"{and_join(code_spans(kept), lang='ru')} (нулевые исходящие веса в точности "
                                   "сохраняют функцию сети; предобученный нейрон всё же может повысить функцию "
                                   "потерь)"),
                       correction=T(f"a new unit can raise the loss: {rises.en}",
                                    f"новый нейрон может повысить функцию потерь: {rises.ru}"))
    return Outcome(verdict, text, numbers, correction=T(f"the loss rises at growths: {rises.en}",
                                                        f"функция потерь растёт при наращиваниях: {rises.ru}"))



def _check_pruning_error_falls(claimed, evidence):
    """«обнуляем вес, смотрим как сильно упала ошибка» as written: zeroing weights makes the error fall. Per seed
    (paired), the test error after zeroing the given fraction of weights by the criterion (no retraining) minus the
    dense net's test error, its interval on the claimed side of 0 ("упала": less)."""
    pr = experiment(evidence, "pruning")
    row = pr["criteria"][claimed["criterion"]]
    vals = paired(pr["dense"]["test_acc"], row["test_one_shot"])  # error after - error before = acc before - after
    text = T(f"Zeroing {fmt(pr['fraction'])} of the weights of a 64-100-10 relu net by the {claimed['criterion']} "
             f"criterion, no retraining: test accuracy {spread_text(pr['dense']['test_acc'])} dense vs "
             f"{spread_text(row['test_one_shot'])} pruned.",
             f"Обнуление доли {fmt(pr['fraction'])} весов сети с ReLU 64-100-10 по критерию "
             f"{_criterion(claimed['criterion'])}, без дообучения: точность на тесте "
             f"{spread_text(pr['dense']['test_acc'])} у полной сети против {spread_text(row['test_one_shot'])} у "
             "прореженной.")
    return paired_outcome({"": vals}, claimed, what=T("test error after zeroing minus before",
                                                      "ошибка на тесте после обнуления минус до него"),
                          evidence=text, numbers={"fraction": pr["fraction"], "dense": pr["dense"]["test_acc"],
                                                  "one_shot": row["test_one_shot"]},
                          note=T("; the error grows when weights are zeroed: the significance of a weight is how "
                                 r"much the error RISES without it (Optimal Brain Damage: about "
                                 r"$h_{ii} w_i^2 / 2 \geq 0$)",
                                 "; при обнулении весов ошибка растёт: значимость веса — то, насколько ошибка "
                                 r"ВОЗРАСТАЕТ без него («Optimal Brain Damage»: примерно $h_{ii} w_i^2 / 2 \geq 0$)"))


def _check_pruning_retrain(claimed, evidence):
    pr = experiment(evidence, "pruning")
    row = pr["criteria"][claimed["criterion"]]
    a, b = claimed["measure"]
    vals = paired(row[a], row[b])
    wa, wb = _words(a), _words(b)
    text = T(f"Pruning {fmt(pr['fraction'])} of the weights of a 64-100-10 relu net by the {claimed['criterion']} "
             f"criterion: {wa.en} {spread_text(row[a])} vs {wb.en} {spread_text(row[b])} (paired "
             f"{spread_text(spread_of(vals))}); dense {spread_text(pr['dense']['test_acc'])}, and the unpruned control "
             f"given the same extra epochs {spread_text(row['test_continued'])}.",
             f"Прореживание доли {fmt(pr['fraction'])} весов сети с ReLU 64-100-10 по критерию "
             f"{_criterion(claimed['criterion'])}: {wa.ru} — {spread_text(row[a])}, {wb.ru} — "
             f"{spread_text(row[b])} (парная разность {spread_text(spread_of(vals))}); у полной сети "
             f"{spread_text(pr['dense']['test_acc'])}, а у непрореженного контроля, получившего те же дополнительные "
             f"эпохи, {spread_text(row['test_continued'])}.")
    label = _difference(a, b)
    return paired_outcome({label: vals}, claimed, what=label, evidence=text,
                          numbers={"fraction": pr["fraction"], a: row[a], b: row[b],
                                   "continued": row["test_continued"]})


def _check_pruning_restore(claimed, evidence):
    pr = experiment(evidence, "pruning")
    row = pr["criteria"][claimed["criterion"]]
    vals = [float(v) for v in row[claimed["measure"]]["values"]]
    prev = paired(row["previous_val_acc"], row["restore_val_acc"])
    text = T(f"With the {claimed['criterion']} criterion the restore rule (validation 1 point below the dense net) "
             f"fires at {spread_text(row['restore_fraction'])} pruned; putting the last removed connections back "
             f"changes validation accuracy by {spread_text(spread_of(vals))}, while the net from before that removal "
             f"is {spread_text(spread_of(prev))} above the restored one.",
             f"При прореживании по критерию {_criterion(claimed['criterion'])} правило восстановления (точность на "
             f"валидации на 1 пункт ниже, чем у полной сети) срабатывает, когда прорежена доля "
             f"{spread_text(row['restore_fraction'])}; возврат последних удалённых связей меняет точность на валидации "
             f"на {spread_text(spread_of(vals))}, а сеть, какой она была до этого удаления, на "
             f"{spread_text(spread_of(prev))} точнее восстановленной.")
    rewind = decide(Effect(T("validation accuracy, the net before the last removal minus the restored one",
                             "точность на валидации, сеть до последнего удаления минус восстановленная"), "greater"),
                    prev)
    note = (T(f"; rewinding to the net from before that removal is better: {rewind.text()}",
              f"; лучше откатиться к сети, какой она была до этого удаления: {rewind.text(lang='ru')}")
            if rewind.verdict == "supported" else "")
    return paired_outcome({_words(claimed["measure"]): vals}, claimed,
                          what=T("validation accuracy, restored minus dropped",
                                 "точность на валидации, с возвращёнными связями минус без них"),
                          evidence=text, note=note,
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
          T("Shuffling the training set (instead of feeding it in a class-sorted order) makes the batches diverse and "
            "training work better (no size stated).",
            "Перемешивание обучающей выборки (вместо подачи примеров, отсортированных по классам) делает батчи "
            "разнообразными, а обучение — лучше (размер эффекта не назван)."),
          {"direction": "greater"}, _check_shuffle_sorted, flipped, figure="train-shuffling"),
    Claim("other-reshuffle-every-epoch", "Трюки", "перемешивать обучающую выборку перед каждой новой эпохой",
          T("Reshuffling before EVERY epoch beats a random order fixed once.",
            "Перемешивание перед КАЖДОЙ эпохой лучше случайного порядка, зафиксированного один раз."),
          {"direction": "greater", "min_size": 0.0}, _check_reshuffle_each_epoch, _bigger_effect,
          figure="train-shuffling"),
    Claim("other-pretraining-units", "Предобучение",
          "Обучаем каждый нейрон на рандомной подвыборке, каждый нейрон впитает какие-то отдельные её особенности, "
          "после скрепляем все нейроны вместе и продолжаем обучение на всей выборке",
          T("Pretraining each unit on a random subsample, then joining them and training on, gives a better network "
            "than training from scratch.",
            "Предобучение каждого нейрона на случайной подвыборке, затем их объединение и дальнейшее обучение дают "
            "сеть лучше, чем обучение с нуля."),
          {"form": "units", "measure": "diff_test_acc", "direction": "greater", "min_size": 0.0},
          _check_pretraining, lambda c: {**c, "direction": "none", "min_size": 0.03}, figure="train-pretraining"),
    Claim("other-pretraining-early-lead", "Предобучение",
          "после скрепляем все нейроны вместе и продолжаем обучение на всей выборке",
          T("The joined pretrained units give training a head start: higher validation accuracy after the first epoch "
            "(no size stated).",
            "Объединённые предобученные нейроны дают обучению фору: точность на валидации после первой эпохи выше "
            "(размер эффекта не назван)."),
          {"form": "units", "measure": "diff_val_acc_first", "direction": "greater"},
          _check_pretraining, flipped, figure="train-pretraining"),
    Claim("other-pretraining-autoencoder", "Предобучение",
          "обучаем на корпусе картинок автокодировщик, encoder благодаря этому учится выделять наиболее важные фичи, "
          "которые позволяют эффективно сжимать изображения. После срезаем decoder и на его месте достраиваем слои "
          "для решения нашей задачи, запускаем обычное дообучение.",
          T("An autoencoder's encoder, fine-tuned with a new head, beats the same classifier trained from scratch.",
            "Энкодер автокодировщика, дообученный с новыми выходными слоями, лучше того же классификатора, обученного "
            "с нуля."),
          {"form": "autoencoder", "measure": "diff_test_acc", "direction": "greater", "min_size": 0.0},
          _check_pretraining, flipped, figure="train-pretraining"),
    Claim("other-growth-cost", "Динамическое наращивание сети",
          "Общее время обучения обычно лишь в 1.5 — 2 раза больше, чем если бы в сети сразу было итоговое число "
          "нейронов",
          T("Growing the network costs 1.5-2 times the training of the final size from scratch.",
            "Наращивание сети обходится в 1.5-2 раза дороже, чем обучение сети итогового размера с нуля."),
          {"interval": (1.5, 2.0)}, _check_growth_cost, lambda c: {**c, "interval": (1.0, 2.0)},
          figure="train-growth"),
    Claim("other-growth-keeps-information", "Динамическое наращивание сети",
          "Полезная информация, накопленная сетью не теряется при добавлении нейронов",
          T("Adding a neuron does not lose what the network has learned: the training loss does not rise at a growth.",
            "Добавление нейрона не стирает того, чему сеть уже научилась: функция потерь на обучении при наращивании "
            "не растёт."),
          {"max_loss_rise": 0.0}, _check_growth_information, lambda c: {**c, "max_loss_rise": 0.2},
          figure="train-growth"),
    Claim("other-pruning-error-falls", "Прореживание сети", "обнуляем вес, смотрим как сильно упала ошибка",
          T("To judge a weight, zero it and see how much the error fell (as written: zeroing makes the error fall).",
            "Чтобы оценить вес, его обнуляют и смотрят, насколько упала ошибка (как написано: при обнулении ошибка "
            "падает)."),
          {"criterion": "saliency", "direction": "less"}, _check_pruning_error_falls, flipped,
          figure="train-pruning"),
    Claim("other-pruning-retrain", "Прореживание сети", "После прореживания снова запускаем backprop",
          T("Retraining after pruning recovers accuracy: at 90% pruned, better than the pruned net left as it is (no "
            "size stated).",
            "Дообучение после прореживания восстанавливает точность: при 90% удалённых весов она выше, чем у "
            "прореженной сети, оставленной как есть (размер эффекта не назван)."),
          {"criterion": "saliency", "measure": ("test_retrained", "test_one_shot"), "direction": "greater"},
          _check_pruning_retrain, flipped, figure="train-pruning"),
    Claim("other-pruning-restore", "Прореживание сети",
          "Если качество модели сильно упала, надо вернуть последние удалённые связи",
          T("When quality drops, putting the last removed connections back recovers it.",
            "Если качество упало, возврат последних удалённых связей его восстанавливает."),
          {"criterion": "saliency", "measure": "restore_gain", "direction": "greater", "min_size": 0.0},
          _check_pruning_restore, lambda c: {**c, "direction": "none", "min_size": 0.03}, figure="train-pruning"),
)


#: Statements of these slides that are not graded (:class:`lecture.registry.NotAClaim`).
NOT_CLAIMS: tuple[NotAClaim, ...] = (
    NotAClaim("other-early-stopping", "Уже обсуждали", "Ранняя остановка",
              T("a two-word item in the list of topics «Уже обсуждали» (already discussed): it names early stopping "
                "and states nothing about it. The experiment stays in the figure `train-early-stopping`, not graded.",
                "пункт из двух слов в списке тем «Уже обсуждали»: он называет раннюю остановку и ничего о ней не "
                "утверждает. Эксперимент остаётся на рисунке `train-early-stopping`, без оценки.")),
)

