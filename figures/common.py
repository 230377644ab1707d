"""Shared machinery of the figures: registry, string table (en/ru), labels from SymPy, style, reproducible saving.

Registry: a figure is a function ``(out_dir: Path, lang: str, fast: bool) -> list[Path]`` registered with
:func:`register` under a unique name and a group. The modules that register figures are listed in
:data:`MODULES` and imported lazily on first use; a later figure group appends its module there.

Files: ``<out>/<name>.png`` and ``<out>/<name>.pdf`` for English, ``<out>/<name>.ru.png`` / ``.ru.pdf`` for
Russian, so both languages can live in one folder. They are byte-reproducible: fixed size and dpi, no
timestamps or software versions in the metadata (PNG ``Software``, PDF ``CreationDate``/``ModDate``/``Producer``/
``Creator`` set to None; matplotlib's PDF has no ``/ID``), and each file is written to a temporary file in the
same folder and moved into place with :func:`os.replace`, so a reader never sees half a file.

Labels: formulas are never typed here; :func:`formula_label` renders ``sympy.latex`` of an expression with
matplotlib's mathtext and falls back to a plain name when mathtext cannot parse it or it is too wide.
Figure code builds :class:`matplotlib.figure.Figure` objects directly and never touches ``pyplot``, so the
output does not depend on the interactive backend (the command line selects Agg anyway).
"""
from __future__ import annotations

import difflib
import importlib
import numbers
import re
import string
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import matplotlib
import sympy as sp
from matplotlib.figure import Figure

from theory.errors import SpecError
from theory.text import plural_ru  # noqa: F401  (one rule for figures and prose; used by text() below)

LANGS = ("en", "ru")
DEFAULT_OUT = Path("out") / "figures"

# ------------------------------------------------------------------------------------------- string table
#: key -> {lang: text}; every key has a distinct entry per language (tested). Mathematical notation that reads
#: the same in both languages ($x$, $f'(x)$, sup) is kept out of the table.
STRINGS: dict[str, dict[str, str]] = {
    # figures.training
    "st_raw": {"en": "raw features: κ = {kappa}, {steps} steps",
               "ru": "исходные признаки: κ = {kappa}, {steps} [steps|шаг|шага|шагов]"},
    "st_std": {"en": "standardized: κ = {kappa}, {steps} steps",
               "ru": "стандартизованные: κ = {kappa}, {steps} [steps|шаг|шага|шагов]"},
    "st_theory": {"en": "theory ⌈log tol / log((κ−1)/(κ+1))⌉", "ru": "теория ⌈log tol / log((κ−1)/(κ+1))⌉"},
    "st_measured": {"en": "gradient descent, η* = 2/(λ_min + λ_max)", "ru": "градиентный спуск, η* = 2/(λ_min + λ_max)"},
    "st_kappa": {"en": "condition number κ of XᵀX/n", "ru": "обусловленность κ матрицы XᵀX/n"},
    "st_steps": {"en": "steps to relative error {tol}", "ru": "шагов до относительной ошибки {tol}"},
    "st_title": {"en": "Which situation is better for SGD? Standardized features: round contours, few steps",
                 "ru": "Какая из ситуаций лучше для SGD? Стандартизация: круглые линии уровня, мало шагов"},
    "nz_label": {"en": "{act} inputs: same-sign steps {frac}, path/straight {ratio}, {steps} steps (medians)",
                 "ru": "входы {act}: шагов одного знака {frac}, путь/прямая {ratio}, {steps} "
                       "[steps|шаг|шага|шагов] (медианы)"},
    "nz_title": {"en": "Non-zero-centred inputs: all weight-gradient components share one sign, the path zig-zags\n"
                       "first {show} SGD steps of one unit towards w* = (1, −1); medians over {seeds} seeds",
                 "ru": "Входы не центрированы: все компоненты градиента по весам одного знака, путь зигзагом\n"
                       "первые {show} шагов SGD одного нейрона к w* = (1, −1); медианы по {seeds} "
                       "[seeds|сиду|сидам|сидам]"},
    "ti_inits": {"en": "relu: Keras' default uniform vs He, without and with batch norm",
                 "ru": "relu: равномерная по умолчанию в Keras и He, без и с батч-нормализацией"},
    "ti_acts": {"en": "activations at their own inits (He; sigmoid: Glorot)",
                "ru": "активации со своей инициализацией (He; сигмоида: Glorot)"},
    "ti_label": {"en": "{name}: test {acc} [{lo}, {hi}]", "ru": "{name}: тест {acc} [{lo}, {hi}]"},
    "ti_epoch": {"en": "epoch", "ru": "эпоха"},
    "ti_val_acc": {"en": "validation accuracy (median, min–max band)",
                   "ru": "точность на валидации (медиана, полоса min–max)"},
    "ti_title": {"en": "The seminar network {hidden} on digits, batch {batch}, {opt} lr {lr}: medians over {seeds} seeds",
                 "ru": "Сеть семинара {hidden} на digits, батч {batch}, {opt} lr {lr}: медианы по {seeds} сидам"},
    "bnt_steps": {"en": "training step", "ru": "шаг обучения"},
    "bnt_acc": {"en": "validation accuracy", "ru": "точность на валидации"},
    "bnt_unit": {"en": "input of unit 1, last hidden layer", "ru": "вход нейрона 1 последнего скрытого слоя"},
    "bnt_title": {"en": "As Ioffe & Szegedy (2015), Fig. 1, on digits: sigmoid {hidden}, SGD lr {lr}, batch {batch}; "
                        "medians over {seeds} seeds",
                  "ru": "Как у Ioffe & Szegedy (2015), рис. 1, на digits: sigmoid {hidden}, SGD lr {lr}, батч {batch}; "
                        "медианы по {seeds} сидам"},
    "tg_depth": {"en": "{depth} hidden layers: factor {factor} per layer (√χ₁ = {theory})",
                 "ru": "{depth} скрытых слоёв: множитель {factor} на слой (√χ₁ = {theory})"},
    "tg_layer": {"en": "layer (1 = next to the input)", "ru": "слой (1 — у входа)"},
    "tg_wnorm": {"en": "|∂L/∂W_l|, first epoch", "ru": "|∂L/∂W_l|, первая эпоха"},
    "tg_vanishing": {"en": "vanishing: {act} networks, glorot_uniform", "ru": "затухание: сети {act}, glorot_uniform"},
    "tg_init": {"en": "{init}: ×{factor} per layer (√χ₁ = {theory});\ndiverges {div}",
                "ru": "{init}: ×{factor} на слой (√χ₁ = {theory});\nрасходится {div}"},
    "tg_never": {"en": "never", "ru": "никогда"},
    "tg_div_at": {"en": "at step {step}: non-finite loss after {upd} updates",
                  "ru": "на шаге {step}: ошибка не конечна после {upd} [upd|обновления|обновлений|обновлений]"},
    "tg_delta": {"en": "error signal |∂L/∂h_l| at initialization", "ru": "сигнал ошибки |∂L/∂h_l| при инициализации"},
    "tg_exploding": {"en": "exploding: relu, 10 layers, Var(w) = 4/n_in vs He",
                     "ru": "взрыв: relu, 10 слоёв, Var(w) = 4/n_in и He"},
    "tg_title": {"en": "Vanishing and exploding gradients when training on digits (seed {seed})",
                 "ru": "Затухающие и взрывающиеся градиенты при обучении на digits (сид {seed})"},
    "tl_order": {"en": "{order}: final {acc}", "ru": "{order}: в конце {acc}"},
    "tl_title": {"en": "«Shuffle the training set before every epoch»: class-sorted batches vs shuffled (seed {seed})",
                 "ru": "«Перемешивайте обучающую выборку перед каждой эпохой»: батчи по классам и вперемешку (сид {seed})"},
    "sy_loss": {"en": "training loss (epoch mean)", "ru": "потери на обучении (за эпоху)"},
    "sy_label": {"en": "{init}: test {acc}", "ru": "{init}: тест {acc}"},
    "sy_curves": {"en": "{act}, hidden {hidden}, SGD lr {lr}", "ru": "{act}, скрытые слои {hidden}, SGD lr {lr}"},
    "sy_distinct": {"en": "distinct hidden units after training (of {n})",
                    "ru": "различных нейронов после обучения (из {n})"},
    "sy_layer": {"en": "hidden layer {layer}", "ru": "скрытый слой {layer}"},
    "sy_bars": {"en": "largest over {seeds} seeds;\nmax |Δθ| / max |W|: {rel}",
                "ru": "максимум по {seeds} сидам;\nmax |Δθ| / max |W|: {rel}"},
    "sy_frozen": {"en": "relu with zeros: max |∂J/∂W| = {grad:g}, max |W| after training = {w:g}; "
                        "test accuracy {acc} = the share of the one predicted class",
                  "ru": "relu с нулями: max |∂J/∂W| = {grad:g}, max |W| после обучения = {w:g}; "
                        "точность на тесте {acc} = доля единственного предсказываемого класса"},
    "sy_title": {"en": "Zero or constant initialization: the hidden units stay identical (seed {seed})",
                 "ru": "Нулевая или постоянная инициализация: скрытые нейроны остаются одинаковыми (сид {seed})"},
    "es_loss": {"en": "loss", "ru": "функция потерь"},
    "es_acc": {"en": "accuracy", "ru": "точность"},
    "es_train": {"en": "train", "ru": "обучение"},
    "es_val": {"en": "validation", "ru": "валидация"},
    "es_best": {"en": "best epoch {epoch}", "ru": "лучшая эпоха {epoch}"},
    "es_stop": {"en": "stopped at {epoch} (patience {patience})", "ru": "остановка на {epoch} (терпение {patience})"},
    "es_curves": {"en": "{hidden} relu, {n} training digits: test {full} at the end, {stopped} early-stopped",
                  "ru": "{hidden} relu, {n} обучающих цифр: тест {full} в конце, {stopped} с ранней остановкой"},
    "es_width": {"en": "hidden units (one layer)", "ru": "нейронов в скрытом слое"},
    "es_sizes": {"en": "final accuracy vs size (medians over {seeds} seeds, min–max bars)",
                 "ru": "итоговая точность и размер (медианы по {seeds} сидам, min–max)"},
    "es_title": {"en": "Early stopping and model size on {n} training digits (seed {seed})",
                 "ru": "Ранняя остановка и размер модели на {n} обучающих цифрах (сид {seed})"},
    "pr_fraction": {"en": "fraction of weights pruned", "ru": "доля удалённых весов"},
    "pr_acc": {"en": "test accuracy (median, min–max over {seeds} seeds)",
               "ru": "точность на тесте (медиана, min–max по {seeds} сидам)"},
    "pr_dense": {"en": "unpruned, trained as long", "ru": "без прореживания, столько же обучения"},
    "pr_one_shot": {"en": "at once, no retraining", "ru": "сразу, без дообучения"},
    "pr_retrained": {"en": "step by step, retrained", "ru": "по шагам, с дообучением"},
    "pr_restore": {"en": "restore rule stops at {frac}", "ru": "правило возврата: стоп на {frac}"},
    "pr_title": {"en": "The slide's pruning, {arch} on digits: zero a weight, see how much the loss grows,\n"
                       "remove the N least significant, retrain",
                 "ru": "«Обнуляем вес, смотрим как сильно упала ошибка…»: прореживание {arch} на digits\n"
                       "(критерий: рост потерь при обнулении веса), удаляем N наименее значимых, дообучаем"},
    "gr_cost": {"en": "training cost (multiply-adds)", "ru": "стоимость обучения (умножений-сложений)"},
    "gr_loss": {"en": "training loss (epoch mean)", "ru": "потери на обучении (за эпоху)"},
    "gr_scratch": {"en": "{h} units from scratch", "ru": "{h} [h|нейрон|нейрона|нейронов] с нуля"},
    "gr_grown": {"en": "{name}: grown to {h}", "ru": "{name}: выросла до {h}"},
    "gr_curves": {"en": "seed {seed}: dots mark added units", "ru": "сид {seed}: точки — добавленные нейроны"},
    "gr_ratio": {"en": "cost / cost of the final size from scratch", "ru": "стоимость / стоимость итогового размера с нуля"},
    "gr_claim": {"en": "the slide: 1.5–2×", "ru": "слайд: в 1,5–2 раза"},
    "gr_ratios": {"en": "to the same training loss {target}: median, min–max over {seeds} seeds",
                  "ru": "до тех же потерь {target}: медиана, min–max по {seeds} сидам"},
    "gr_title": {"en": "Dynamic growth: start with 2 tanh units, add one when the loss stalls (digits)",
                 "ru": "Динамическое наращивание: 2 нейрона tanh, добавляем по одному при стабилизации потерь (digits)"},
    "pt_epoch": {"en": "fine-tuning epoch", "ru": "эпоха дообучения"},
    "pt_val": {"en": "validation accuracy", "ru": "точность на валидации"},
    "pt_arm": {"en": "{arm}: test {acc}; Δ median {diff} [{lo}, {hi}]", "ru": "{arm}: тест {acc}; Δ медиана {diff} [{lo}, {hi}]"},
    "pt_scratch_label": {"en": "from scratch: test {acc}", "ru": "с нуля: тест {acc}"},
    "pt_full": {"en": "all {n} labels", "ru": "все {n} меток"},
    "pt_few": {"en": "{n} labels (the autoencoder sees all inputs)", "ru": "{n} меток (автокодировщик видит все входы)"},
    "pt_title": {"en": "Pretraining {arch} (seed {seed}; Δ = pretrained − scratch test accuracy over {seeds} seeds)",
                 "ru": "Предобучение {arch} (сид {seed}; Δ = точность на тесте с предобучением − с нуля, {seeds} сидов)"},
    "sw_point": {"en": "MC ξ = {xi} ± {se}\ntheory {th}", "ru": "МК ξ = {xi} ± {se}\nтеория {th}"},
    "sw_phase_title": {"en": "tanh: ξ_c fitted to Monte Carlo correlations (width {width}, depth {depth}, {seeds} "
                             "networks per point) on the theory's map",
                       "ru": "tanh: ξ_c по корреляциям Монте-Карло (ширина {width}, глубина {depth}, {seeds} "
                             "[seeds|сеть|сети|сетей] на точку) на карте теории"},
    "fw_mc": {"en": "width {n}: Monte Carlo, {nets} networks",
              "ru": "ширина {n}: Монте-Карло, {nets} [nets|сеть|сети|сетей]"},
    "fw_exact": {"en": "exact law (binomial × trigamma)", "ru": "точный закон (бином × тригамма)"},
    "fw_lognormal": {"en": "log-normal: Σ log(1 + 5/n_l)", "ru": "логнормальное: Σ log(1 + 5/n_l)"},
    "fw_five": {"en": "first order: 5 Σ 1/n_l", "ru": "первый порядок: 5 Σ 1/n_l"},
    "fw_x": {"en": "Σ_l 1/n_l (depth / width)", "ru": "Σ_l 1/n_l (глубина / ширина)"},
    "fk_mc": {"en": "width {n}: Monte Carlo", "ru": "ширина {n}: Монте-Карло"},
    "fk_first": {"en": "first order in 1/width", "ru": "первый порядок по 1/ширине"},
    "fk_exact": {"en": "exact law (ReLU)", "ru": "точный закон (ReLU)"},
    "fk_breakdown": {"en": "depth / width = {r}", "ru": "глубина / ширина = {r}"},
    "fk_hollow": {"en": "hollow: too few networks for $E\\,h^4$ (exact law: $\\sqrt{{\\rho_l/N}} > {r}$)",
                  "ru": "полые: мало сетей для $E\\,h^4$ (точный закон: $\\sqrt{{\\rho_l/N}} > {r}$)"},
    "fk_relu": {"en": "ReLU, He (normal), fixed input", "ru": "ReLU, He (нормальная), фиксированный вход"},
    "fk_tanh": {"en": "tanh, Glorot (normal), bias variance 0.05",
                "ru": "tanh, Glorot (нормальная), дисперсия смещения 0.05"},
    "fk_x": {"en": "layer l", "ru": "слой l"},
    "fv_title": {"en": "tanh, Glorot (normal), bias variance 0.05, Gaussian inputs: the 1/width shift of the mean",
                 "ru": "tanh, Glorot (нормальная), дисперсия смещения 0.05, гауссовы входы: сдвиг среднего ~ 1/ширина"},
    "fv_y": {"en": "$n \\, (E[h_l^2] - K_l)$, n the width", "ru": "$n \\, (E[h_l^2] - K_l)$, n — ширина"},
    "fk_y": {"en": "excess kurtosis of $h_l$", "ru": "эксцесс $h_l$"},
    "fw_y": {"en": "Var log ‖x_L‖² (live networks)", "ru": "Var log ‖x_L‖² (живые сети)"},
    "fw_title": {"en": "ReLU, He normal, no bias: the exact law within |z| ≤ {zmax} at all {n} points",
                 "ru": "ReLU, He normal, без сдвига: точный закон в пределах |z| ≤ {zmax} во всех {n} точках"},
    "ac_ratio": {"en": "time / ReLU's time", "ru": "время / время ReLU"},
    "ac_title": {"en": "Is $e^x$ expensive? NumPy {numpy}, {dtype}, {size} elements in cache, output preallocated,\n"
                       "{machine}: median and range of {trials} trials, each the minimum of {repeats} calls",
                 "ru": "Дорого ли $e^x$? NumPy {numpy}, {dtype}, {size} [size|элемент|элемента|элементов] в кэше, "
                       "выход выделен заранее,\n{machine}: медиана и размах {trials} "
                       "[trials|испытания|испытаний|испытаний], каждое — минимум из {repeats} "
                       "[repeats|вызова|вызовов|вызовов]"},
    # figures.dropout (p is the keep probability everywhere)
    "do_full": {"en": "the network", "ru": "сеть"},
    "do_dropped": {"en": "one step: {k} of {n} hidden units kept", "ru": "один шаг: оставлено {k} из {n}"},
    "do_network_title": {"en": "Dropout: each hidden unit is kept with probability p = {keep} (D ~ Bern(p)),\n"
                               "else switched off for this step",
                         "ru": "Dropout: каждый скрытый нейрон остаётся с вероятностью p = {keep} (D ~ Bern(p)),\n"
                               "иначе отключается на этом шаге"},
    "do_gap_keep": {"en": "keep p = {keep}", "ru": "p = {keep} (вероятность оставить)"},
    "do_gap_units": {"en": "units under dropout n (all $2^n$ masks enumerated)",
                     "ru": "нейронов под dropout n (перебраны все $2^n$ масок)"},
    "do_gap_y": {"en": "|ensemble mean − weight scaling|", "ru": "|среднее ансамбля − масштабирование весов|"},
    "do_gap_title": {"en": "The expectation trick is exact only for linear layers: {act} network, mean ± s.e. over "
                           "{seeds} networks",
                     "ru": "Матожидание вместо ансамбля точно только для линейных слоёв: сеть {act}, среднее ± ст. "
                           "ошибка по {seeds} [seeds|сети|сетям|сетям]"},
    "do_shift_theory": {"en": "theory p v / (v + (1 − p) c²); c = E φ(z), v = Var φ(z), z ~ N(0, 1)",
                        "ru": "теория p v / (v + (1 − p) c²); c = E φ(z), v = Var φ(z), z ~ N(0, 1)"},
    "do_gap_linear": {"en": "linear network, keep p = {keep}: 0 up to rounding",
                      "ru": "линейная сеть, p = {keep}: 0 с точностью до округления"},
    "do_shift_p": {"en": "p (zero-mean input)", "ru": "p (вход с нулевым средним)"},
    "do_shift_mc": {"en": "measured ± s.e. ({replicas} networks of width {width})",
                    "ru": "измерено ± ст. ошибка ({replicas} [replicas|сеть|сети|сетей] ширины {width})"},
    "do_shift_x": {"en": "keep probability p", "ru": "вероятность оставить нейрон p"},
    "do_shift_y": {"en": "Var_test / Var_train of the BN input", "ru": "Var_test / Var_train на входе BN"},
    "do_shift_title": {"en": "Dropout before batch norm: the variance shift ({act} units)",
                       "ru": "Dropout перед батч-нормализацией: сдвиг дисперсии (нейроны {act})"},
    "do_thinned_panel": {"en": "mask {k}", "ru": "маска {k}"},
    "do_thinned_title": {"en": "{count} of the $2^{{{n}}}$ = {total} thinned networks (shared weights, keep p = {keep})",
                         "ru": "{count} из $2^{{{n}}}$ = {total} прореженных сетей (общие веса, p = {keep} — "
                               "вероятность оставить)"},
    # figures.batchnorm
    "bn_no_growth": {"en": "no growth (λ = 1)", "ru": "без роста (λ = 1)"},
    "bn_theory": {"en": "{act}: theory (mean field, width → ∞)", "ru": "{act}: теория (среднее поле, ширина → ∞)"},
    "bn_mc": {"en": "{act}: Monte Carlo ± s.e.", "ru": "{act}: Монте-Карло ± ст. ошибка"},
    "bn_mc_only": {"en": "{act}: Monte Carlo ± s.e. (no closed form)",
                   "ru": "{act}: Монте-Карло ± ст. ошибка (нет формулы)"},
    "bn_batch": {"en": "batch size B", "ru": "размер батча B"},
    "bn_rate": {"en": "growth of $E|\\partial L/\\partial h|^2$ per layer, λ(B)",
                "ru": "рост $E|\\partial L/\\partial h|^2$ за слой, λ(B)"},
    "bn_rate_title": {"en": "Batch norm makes gradients explode with depth: width {width}, {depth} layers, "
                            "{seeds} networks per point",
                      "ru": "Батч-нормализация: градиенты растут с глубиной; ширина {width}, {depth} "
                            "[depth|слой|слоя|слоёв], "
                            "{seeds} [seeds|сеть|сети|сетей] на точку"},
    "bn_percentile": {"en": "{q}th percentile", "ru": "{q}-й перцентиль"},
    "bn_with": {"en": "with batch norm", "ru": "с батч-нормализацией"},
    "bn_without": {"en": "without batch norm", "ru": "без батч-нормализации"},
    "bn_layer": {"en": "layer $l$ (depth stands in for training steps)",
                 "ru": "слой $l$ (глубина вместо шагов обучения)"},
    "bn_unit_input": {"en": "input of unit 1", "ru": "вход нейрона 1"},
    "bn_pct_title": {"en": "One {act} unit's input over {batch} inputs, by layer: a random network (width {width}, "
                           "{depth} layers)\nat initialization, not the training curves of Ioffe & Szegedy (Fig. 1)",
                     "ru": "Вход одного нейрона ({act}) по {batch} входам, по слоям: случайная сеть (ширина {width}, "
                           "{depth} [depth|слой|слоя|слоёв])\nпри инициализации, а не кривые обучения Ioffe & Szegedy "
                           "(рис. 1)"},
    "function": {"en": "function", "ru": "функция активации"},
    "derivative": {"en": "derivative", "ru": "производная"},
    "max_derivative": {"en": "maximum of the derivative", "ru": "максимум производной"},
    "kink": {"en": "$f'$ undefined at the kink (one-sided limits)",
             "ru": "$f'$ не определена в точке излома (односторонние пределы)"},
    "not_attained": {"en": "not attained", "ru": "не достигается"},
    "xlabel": {"en": "input $x$", "ru": "вход $x$"},
    "ylabel": {"en": "value", "ru": "значение"},
    "title_sigmoid": {"en": "Sigmoid activation", "ru": "Сигмоида"},
    "title_tanh": {"en": "Tanh activation", "ru": "Гиперболический тангенс"},
    "title_relu": {"en": "ReLU activation", "ru": "Функция активации ReLU"},
    "title_leaky_relu": {"en": "Leaky ReLU activation: slope $a = {a}$ for visibility (default {a0})",
                         "ru": "Leaky ReLU: наклон $a = {a}$ для наглядности (по умолчанию {a0})"},
    "title_elu": {"en": r"ELU activation ($\alpha = {alpha}$)", "ru": r"Функция активации ELU ($\alpha = {alpha}$)"},
    "title_zoo": {"en": "Activation zoo: each function and its derivative",
                  "ru": "Зоопарк функций активации: функция и её производная"},
    # figures.initialization: variance through depth
    "title_depth": {"en": "Mean-field variance through depth: width {width}, {depth} layers, "
                          "$\\sigma_b^2 = {bias_var}$, input $E[x^2] = {input_var}$",
                    "ru": "Дисперсия по слоям (среднее поле): ширина {width}, слоёв {depth}, "
                          "$\\sigma_b^2 = {bias_var}$, вход $E[x^2] = {input_var}$"},
    "forward_ylabel": {"en": "forward pass: $\\mathrm{Var}(h_l)$", "ru": "прямой проход: $\\mathrm{Var}(h_l)$"},
    "backward_ylabel": {"en": "backward pass: $\\mathrm{Var}(\\delta_l)$",
                        "ru": "обратный проход: $\\mathrm{Var}(\\delta_l)$"},
    "layer_xlabel": {"en": "layer $l$", "ru": "слой $l$"},
    "uniform_bound": {"en": "uniform, bound {bound}", "ru": "равномерное, граница {bound}"},
    "slide": {"en": "slide «{title}»", "ru": "слайд «{title}»"},
    "same_curve": {"en": "(same Var(w) as «{title}»: the curves coincide)",
                   "ru": "(та же Var(w), что у «{title}»: кривые совпадают)"},
    "reference": {"en": "input level (forward), output-gradient level (backward)",
                  "ru": "уровень входа (прямой проход), градиента на выходе (обратный)"},
    "not_drawn": {"en": "not drawn on the log axis", "ru": "не показано на логарифмической оси"},
    "layer_one": {"en": "layer {a}", "ru": "слой {a}"},
    "layer_range": {"en": "layers {a}–{b}", "ru": "слои {a}–{b}"},
    "masked_overflow": {"en": "overflow (inf): {where}", "ru": "переполнение (inf): {where}"},
    "masked_nan": {"en": "NaN (undefined): {where}", "ru": "NaN (не определено): {where}"},
    "masked_underflow": {"en": "underflow (0): {where}", "ru": "исчезновение порядка (0): {where}"},
    # figures.initialization: mean-field phase diagram
    "title_phase": {"en": "Mean-field phase diagram of a deep {activation} network",
                    "ru": "Фазовая диаграмма среднего поля для глубокой сети с {activation}"},
    "weight_var": {"en": "weight variance $\\sigma_w^2$", "ru": "дисперсия весов $\\sigma_w^2$"},
    "bias_var": {"en": "bias variance $\\sigma_b^2$", "ru": "дисперсия смещений $\\sigma_b^2$"},
    "xi_label": {"en": "correlation depth scale $\\xi_c$\n(log scale; capped at {cap} for display)",
                 "ru": "масштаб глубины корреляций $\\xi_c$\n(лог. шкала; для показа обрезан на {cap})"},
    "xi_undefined": {"en": "$\\xi_c$ undefined ($q^* = 0$)", "ru": "$\\xi_c$ не определён ($q^* = 0$)"},
    "critical_line": {"en": "order-to-chaos line ($\\chi_1 = 1$)", "ru": "граница порядок–хаос ($\\chi_1 = 1$)"},
    "phase_ordered": {"en": "ordered", "ru": "упорядоченная"},
    "phase_chaotic": {"en": "chaotic", "ru": "хаотическая"},
    "phase_critical": {"en": "critical", "ru": "критическая"},
    "phase_unknown": {"en": "unknown", "ru": "неизвестна"},
    # figures.initialization: gains table
    "title_gains": {"en": "Initialization gains: derived vs torch.nn.init.calculate_gain",
                    "ru": "Коэффициенты усиления: выведенные и torch.nn.init.calculate_gain"},
    "gains_activation": {"en": "activation", "ru": "активация"},
    "gains_forward_gain": {"en": "forward gain", "ru": "прямой проход"},
    "gains_backward_gain": {"en": "backward gain", "ru": "обратный проход"},
    "gains_critical_gain": {"en": "critical gain", "ru": "критический"},
    "gains_torch_gain": {"en": "torch calculate_gain", "ru": "calculate_gain в torch"},
    "gains_torch_note": {"en": "what torch's gain does ($\\sigma_b = 0$)",
                         "ru": "что даёт коэффициент torch ($\\sigma_b = 0$)"},
    "gains_does": {"en": "{phase}: $q^* = {q}$, $\\chi_1 = {chi}$",
                   "ru": "{phase} фаза: $q^* = {q}$, $\\chi_1 = {chi}$"},
    "gains_matches": {"en": "equals the derived {which}", "ru": "совпадает с выведенным: {which}"},
    "gains_matches_none": {"en": "equals none of the derived gains", "ru": "не совпадает ни с одним выведенным"},
    "gains_unsupported": {"en": "calculate_gain raises ValueError (unsupported)",
                          "ru": "calculate_gain выдаёт ValueError (не поддерживается)"},
    # figures.montecarlo
    "mc_title_variance": {"en": "Monte Carlo vs mean-field theory: width {width}, {depth} layers, batch {batch}, "
                                "{seeds} independent networks per point, {dtype}",
                          "ru": "Монте-Карло и теория среднего поля: ширина {width}, слоёв {depth}, батч {batch}, "
                                "{seeds} [seeds|независимая сеть|независимые сети|независимых сетей] на точку, "
                                "{dtype}"},
    "mc_theory_key": {"en": "line: mean-field theory", "ru": "линия: теория среднего поля"},
    "mc_points_key": {"en": "points: Monte Carlo mean ± standard error over {seeds} networks",
                      "ru": "точки: среднее Монте-Карло ± стандартная ошибка по {seeds} [seeds|сети|сетям|сетям]"},
    "mc_finite_key": {"en": "dotted: first order in 1/width at width {width}, where it differs from the line by more "
                            "than a standard error\n({where})",
                      "ru": "пунктир: первый порядок по 1/ширине при ширине {width}, где он отличается от линии\n"
                            "больше чем на стандартную ошибку ({where})"},
    "mc_finite_none": {"en": "first order in 1/width at width {width}: within a standard error of the line at every "
                             "layer (not drawn)",
                       "ru": "первый порядок по 1/ширине при ширине {width}: в пределах стандартной ошибки от линии "
                             "на каждом слое (не нарисован)"},
    "mc_theory_prefix": {"en": "theory: {note}", "ru": "теория: {note}"},
    "mc_diverged": {"en": "MC diverged ({dtype} overflow\nin {k} of {s} networks):\n{where}",
                    "ru": "МК расходится (переполнение {dtype}\nв {k} из {s} [s|сети|сетей|сетей]):\n{where}"},
    "mc_no_backward": {"en": "MC: no backward pass\nafter the divergence:\n{where}",
                       "ru": "МК: обратного прохода нет\n(прямой разошёлся):\n{where}"},
    "mc_underflow": {"en": "MC below the {dtype}\nnormal range (< {tiny}):\n{where}",
                     "ru": "МК ниже нормального\nдиапазона {dtype} (< {tiny}):\n{where}"},
    "mc_title_post_hist": {"en": "Post-activation values by layer, normalized histograms (as in Glorot & Bengio 2010, "
                                 "Fig. 6)\nwidth {width}, {depth} layers, batch {batch}, {seeds} networks, {dtype}",
                           "ru": "Значения после активации по слоям, нормированные гистограммы (как у Glorot & Bengio "
                                 "2010, рис. 6)\nширина {width}, слоёв {depth}, батч {batch}, сетей {seeds}, {dtype}"},
    "mc_title_grad_hist": {"en": "Back-propagated gradients by layer, normalized histograms (as in Glorot & Bengio "
                                 "2010, Fig. 7)\nwidth {width}, {depth} layers, batch {batch}, {seeds} networks, "
                                 "{dtype}; output gradient $N(0, 1)$",
                           "ru": "Градиенты обратного прохода по слоям, нормированные гистограммы (как у Glorot & "
                                 "Bengio 2010, рис. 7)\nширина {width}, слоёв {depth}, батч {batch}, сетей {seeds}, "
                                 "{dtype}; градиент на выходе $N(0, 1)$"},
    "mc_post_xlabel": {"en": "post-activation value $\\phi(h_l)$", "ru": "значение после активации $\\phi(h_l)$"},
    "mc_grad_xlabel": {"en": "back-propagated gradient $\\delta_l = \\partial L / \\partial h_l$",
                       "ru": "градиент обратного прохода $\\delta_l = \\partial L / \\partial h_l$"},
    "mc_density": {"en": "density (normalized histogram)", "ru": "плотность (нормированная гистограмма)"},
    "mc_layer_sd": {"en": "layer {l}: sd {sd}", "ru": "слой {l}: ст. откл. {sd}"},
    "mc_layer_atom": {"en": "layer {l}: sd {sd}, {p}%", "ru": "слой {l}: ст. откл. {sd}, {p}%"},
    "mc_atom_title": {"en": "share exactly 0 (not in the curves)", "ru": "доля ровно 0 (не в кривых)"},
    "mc_grad_layer": {"en": "layer {l}: sd {sd} (theory {theory})", "ru": "слой {l}: ст. откл. {sd} (теория {theory})"},
    "mc_title_norm": {"en": "Vanishing and exploding gradients: width {width}, {depth} layers, batch {batch}, "
                            "{seeds} networks, {dtype}",
                      "ru": "Затухание и взрыв градиента: ширина {width}, слоёв {depth}, батч {batch}, "
                            "сетей {seeds}, {dtype}"},
    "mc_vanishing": {"en": "vanishing gradient: {act}", "ru": "затухание градиента: {act}"},
    "mc_exploding": {"en": "exploding gradient: {act}", "ru": "взрыв градиента: {act}"},
    "mc_norm_ylabel": {"en": "RMS gradient per unit $\\sqrt{E[\\delta_l^2]}$",
                       "ru": "среднеквадратичный градиент $\\sqrt{E[\\delta_l^2]}$"},
    "mc_factor": {"en": "theory: ×{f} per layer towards the input", "ru": "теория: ×{f} за слой к входу"},
}


_NUMBER = re.compile(r"[-+−]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
#: a Russian plural in a template: ``[name|one|few|many]`` picks the form that agrees with the number ``name``
_PLURAL = re.compile(r"\[(\w+)\|([^|\]]*)\|([^|\]]*)\|([^\]]*)\]")


class _RussianFormatter(string.Formatter):
    """``str.format`` with a decimal comma in the numbers it substitutes (numbers, and strings that are a number)."""

    def format_field(self, value, format_spec):
        out = super().format_field(value, format_spec)
        if isinstance(value, bool):
            return out
        if isinstance(value, (int, float, numbers.Real)) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
            out = out.replace(".", ",")
        return out


def decimal_comma(s: str) -> str:
    """``s`` with the decimal point of each number written as a comma (Russian typography: 0,5); a dotted sequence
    such as a version 2.4.6 is left as it is."""
    return re.sub(r"(?<![\w.])(\d+)\.(\d+)(?![.\d])", r"\1,\2", s)


def _russian_numbers(fig: Figure) -> None:
    """Decimal commas in a Russian figure: the tick labels of plain numeric axes, and every text already set."""
    from matplotlib.text import Text
    from matplotlib.ticker import ScalarFormatter

    class CommaFormatter(ScalarFormatter):
        def __call__(self, x, pos=None):
            return decimal_comma(super().__call__(x, pos))

        def get_offset(self):
            return decimal_comma(super().get_offset())

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            old = axis.get_major_formatter()
            if type(old) is ScalarFormatter:
                axis.set_major_formatter(CommaFormatter(useOffset=old.get_useOffset(),
                                                        useMathText=old.get_useMathText()))
    for artist in fig.findobj(Text):
        s = artist.get_text()
        if s and decimal_comma(s) != s:
            artist.set_text(decimal_comma(s))


def text(key: str, lang: str, **fmt) -> str:
    """The string ``key`` in ``lang``, formatted with ``fmt`` (``str.format``). In Russian, numbers take a decimal
    comma and ``[name|one|few|many]`` the plural form that agrees with ``fmt[name]`` (:func:`plural_ru`)."""
    if lang not in LANGS:
        raise SpecError(f"unknown language {lang!r} (choose from {', '.join(LANGS)})")
    s = STRINGS[key][lang]
    if lang != "ru":
        return s.format(**fmt) if fmt else s
    s = _PLURAL.sub(lambda m: plural_ru(fmt[m.group(1)], m.group(2), m.group(3), m.group(4)), s)
    return _RussianFormatter().format(s, **fmt) if fmt else s


# ------------------------------------------------------------------------------------------------ registry
@dataclass(frozen=True)
class FigureEntry:
    """A registered figure: ``make(out_dir, lang, fast)`` draws it and returns the written files (PNG, PDF)."""

    name: str
    group: str
    description: str
    make: Callable[[Path, str, bool], list[Path]]
    timing: bool = False  # draws wall-clock timings: not byte-reproducible, so only drawn when named (--only)


#: modules that register figures; later issues append theirs (imported lazily, in this order)
MODULES = ("figures.activations", "figures.initialization", "figures.montecarlo", "figures.batchnorm",
           "figures.dropout", "figures.training", "figures.sweeps", "figures.finite_width")
_REGISTRY: dict[str, FigureEntry] = {}


def register(name: str, group: str, description: str, *, timing: bool = False):
    """Register ``fn(out_dir, lang, fast) -> list[Path]`` as figure ``name`` of ``group``. A ``timing`` figure
    draws wall-clock measurements, which differ run to run: it is left out of the default set (every other figure
    is byte-reproducible) and drawn only when named with ``--only``."""
    def deco(fn: Callable[[Path, str, bool], list[Path]]):
        if name in _REGISTRY:
            raise ValueError(f"figure {name!r} registered twice")
        _REGISTRY[name] = FigureEntry(name, group, description, fn, timing)
        return fn
    return deco


def _load() -> None:
    for mod in MODULES:
        importlib.import_module(mod)


def entries() -> dict[str, FigureEntry]:
    """All registered figures, in registration order."""
    _load()
    return dict(_REGISTRY)


def get(name: str) -> FigureEntry:
    """The figure registered as ``name``; SpecError (one line, with the closest name) for an unknown one."""
    reg = entries()
    if name not in reg:
        close = difflib.get_close_matches(name, reg, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else "; see 'python -m figures list'"
        raise SpecError(f"unknown figure {name!r}{hint}")
    return reg[name]


def draw(names: str | Iterable[str] | None, out: Path | str, lang: str = "en", fast: bool = False) -> list[Path]:
    """Draw the named figures into the folder ``out`` (created if needed) and return the written files.

    ``names``: one name, a list of names (:func:`entries` lists them), or None for every figure except the timing
    ones (``python -m figures``' default set). Every name, the language and the folder are checked before anything
    is drawn (SpecError, one line). Files as :func:`save` names them: ``NAME.png`` and ``NAME.pdf``, ``NAME.ru.*``
    with ``lang="ru"``; ``fast``: fewer points and a lower dpi. Same as
    ``python -m figures --only NAME ... --out OUT --lang LANG [--fast]``.
    """
    if lang not in LANGS:
        raise SpecError(f"unknown language {lang!r} (choose from {', '.join(LANGS)})")
    if names is None:
        chosen = [e for e in entries().values() if not e.timing]
    else:
        chosen = [get(n) for n in dict.fromkeys([names] if isinstance(names, str) else names)]
    folder = prepare_out_dir(Path(out))
    paths: list[Path] = []
    for entry in chosen:
        paths += entry.make(folder, lang, bool(fast))
    return paths


# ------------------------------------------------------------------------------------------------- labels
#: widest formula (points at the label font size) that still fits a legend beside the curves
MAX_FORMULA_WIDTH = 330.0
LABEL_FONTSIZE = 12.0


@lru_cache(maxsize=512)
def mathtext_width(s: str, fontsize: float = LABEL_FONTSIZE) -> float | None:
    """Width in points of ``s`` (text with ``$...$``) as rendered by mathtext, or None if it cannot be parsed."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.mathtext import MathTextParser

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a missing glyph counts as a failure, not a warning later
            width = MathTextParser("path").parse(s, dpi=72, prop=FontProperties(size=fontsize)).width
    except Exception:  # noqa: BLE001 - mathtext raises ValueError, but any failure means "fall back"
        return None
    return float(width)


def latex(expr, display: bool = True) -> str | None:
    """``sympy.latex`` of ``expr`` in a form mathtext can draw, or None.

    A ``Piecewise`` (the derivative of a kinked activation, undefined at the kinks) becomes
    ``e_1\\ (c_1),\\ e_2\\ (c_2)`` because mathtext has no ``cases`` environment; each piece and condition is
    still ``sympy.latex`` of the theory's expression. ``display``: fractions in display size (``\\dfrac``), which
    mathtext otherwise draws at script size.
    """
    expr = sp.sympify(expr)
    if isinstance(expr, sp.Piecewise):
        parts, previous = [], []
        for e, c in expr.args:
            if c == sp.true and previous:  # SymPy folds the last, exhaustive condition into True: spell it out
                c = sp.simplify(sp.And(*[sp.Not(p) for p in previous]))
            previous.append(c)
            parts.append(rf"{sp.latex(e)}\ \left({sp.latex(c)}\right)")
        s = r",\ ".join(parts)
    else:
        s = sp.latex(expr)
    if display:
        s = s.replace(r"\frac{", r"\dfrac{")
    return s if mathtext_width(f"${s}$") is not None else None


def formula_label(prefix: str, lhs: str, expr, fallback: str, max_width: float = MAX_FORMULA_WIDTH) -> str:
    """``prefix: $lhs = latex(expr)$``, or ``prefix: fallback`` when mathtext cannot draw it in ``max_width``."""
    s = latex(expr)
    if s is not None:
        label = f"{prefix}: ${lhs} = {s}$"
        width = mathtext_width(label)
        if width is not None and width <= max_width:
            return label
    return f"{prefix}: {fallback}"


def number_latex(value: sp.Expr, exact: bool = True, max_width: float = 120.0) -> str:
    """``= <LaTeX of value>`` when exact and narrow enough, else ``\\approx`` and 4 significant digits."""
    if exact:
        s = latex(value)
        if s is not None and (mathtext_width(f"${s}$") or max_width + 1) <= max_width:
            return f"= {s}"
    return rf"\approx {float(value):#.4g}"


# ------------------------------------------------------------------------------------------------- style
DPI, FAST_DPI = 150, 50
FIGSIZE = (9.0, 5.6)  # inches; 1350 x 840 px at DPI

#: lecture-slide look; applied with rc_context around drawing AND saving (savefig reads rcParams too)
STYLE = {
    "font.family": "DejaVu Sans",  # bundled with matplotlib, has Cyrillic
    "font.size": 13,
    "axes.titlesize": 15,
    "axes.labelsize": 13,
    "legend.fontsize": LABEL_FONTSIZE,
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "lines.linewidth": 2.4,
    "axes.grid": True,
    "grid.alpha": 0.35,
    "grid.linestyle": "-",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "mathtext.fontset": "dejavusans",
}
COLORS = {"function": "#1f5fa8", "derivative": "#d4501c", "mark": "#222222"}


def style():
    """A context manager applying :data:`STYLE` (the lecture-slide look) to drawing and saving."""
    return matplotlib.rc_context(STYLE)


def new_figure(figsize=FIGSIZE, **kwargs) -> Figure:
    """A pyplot-free Figure with constrained layout (no tight_layout warnings)."""
    return Figure(figsize=figsize, layout="constrained", **kwargs)


def zero_axes(ax) -> None:
    """Draw the coordinate axes x = 0 and y = 0 under the curves."""
    ax.axhline(0.0, color="0.25", linewidth=0.9, zorder=1)
    ax.axvline(0.0, color="0.25", linewidth=0.9, zorder=1)


# ------------------------------------------------------------------------------------------------ output
PNG_METADATA = {"Software": None}
PDF_METADATA = {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None}


def stem(name: str, lang: str) -> str:
    """File stem: ``name`` for English, ``name.ru`` for Russian."""
    return name if lang == "en" else f"{name}.{lang}"


def prepare_out_dir(out_dir: Path) -> Path:
    """Create ``out_dir`` and prove it is writable; SpecError (one line) otherwise (an empty path included)."""
    from theory.files import writable_folder

    return writable_folder(out_dir, "output folder")


def _atomic_save(fig: Figure, path: Path, fmt: str, dpi: float, metadata: dict) -> None:
    import io

    from theory.files import atomic_write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=dpi, metadata=metadata)
    atomic_write_bytes(path, buf.getvalue())


def save(fig: Figure, out_dir: Path, name: str, lang: str, fast: bool) -> list[Path]:
    """Write ``fig`` as PNG and PDF (see the module docstring for names and reproducibility)."""
    out_dir = Path(out_dir)
    base = stem(name, lang)
    png, pdf = out_dir / f"{base}.png", out_dir / f"{base}.pdf"
    if lang == "ru":
        _russian_numbers(fig)
    with style():
        _atomic_save(fig, png, "png", FAST_DPI if fast else DPI, PNG_METADATA)
        fig.set_layout_engine("none")  # keep the layout the PNG draw computed: same geometry, half the work
        _atomic_save(fig, pdf, "pdf", 72, PDF_METADATA)
    return [png, pdf]
