"""The report's figure captions, one line each in both languages, saying what to look at; and the slide where a figure
that no claim names is shown. Data only: the report (:mod:`lecture.report`) reads it; a test checks that every figure
of the main job has a caption in both languages and is shown.
"""
from __future__ import annotations

#: figure -> {"en": caption, "ru": caption}
CAPTIONS: dict[str, dict[str, str]] = {
    "activation-sigmoid": {
        "en": "The sigmoid and σ' = σ(1 − σ): the derivative peaks at 1/4 at x = 0 and vanishes on both sides.",
        "ru": "Сигмоида и σ' = σ(1 − σ): производная достигает максимума 1/4 в нуле и затухает по обе стороны."},
    "activation-tanh": {
        "en": "tanh and 1 − tanh²: the derivative reaches 1 at x = 0, four times the sigmoid's.",
        "ru": "tanh и 1 − tanh²: производная в нуле равна 1, вчетверо больше, чем у сигмоиды."},
    "activation-relu": {
        "en": "ReLU and its derivative: 0 for x < 0, 1 for x > 0, undefined at the kink (open circles).",
        "ru": "ReLU и её производная: 0 при x < 0, 1 при x > 0, в изломе не определена (пустые кружки)."},
    "activation-leaky-relu": {
        "en": "Leaky ReLU (slope 0.1 for visibility): the derivative on the left is the slope a, not 0.",
        "ru": "Leaky ReLU (наклон 0,1 для наглядности): производная слева равна наклону a, а не 0."},
    "activation-elu": {
        "en": "ELU with α = 1: smooth at 0, saturating at −α on the left.",
        "ru": "ELU при α = 1: гладкая в нуле, слева насыщается на уровне −α."},
    "activation-zoo": {
        "en": "Every named activation with its derivative; the panel titles give sup |f'|, exact or numeric.",
        "ru": "Все именованные активации с производными; в заголовках — sup |f'|, точно или численно."},
    "init-variance-depth": {
        "en": "Mean-field Var(h) and Var(δ) by layer: only the inits whose layer gain is 1 keep both flat.",
        "ru": "Var(h) и Var(δ) по слоям в приближении среднего поля: ровными их держат лишь инициализации с "
              "коэффициентом слоя 1."},
    "meanfield-phase-tanh": {
        "en": "tanh phase diagram: the correlation depth ξ_c is largest on the order-to-chaos line χ₁ = 1.",
        "ru": "Фазовая диаграмма tanh: глубина корреляции ξ_c максимальна на границе порядка и хаоса χ₁ = 1."},
    "init-gains-table": {
        "en": "Forward, backward and critical gains derived per activation, beside torch's `calculate_gain`.",
        "ru": "Выведенные коэффициенты прямого, обратного прохода и критический для каждой активации рядом с "
              "`calculate_gain` из torch."},
    "mc-variance-depth": {
        "en": "Monte Carlo points (± standard error across networks) on the mean-field curves, layer by layer; "
              "dotted, the first order in 1/width at the simulated width, where it differs from width ∞ by more than "
              "a standard error.",
        "ru": "Точки Монте-Карло (± стандартная ошибка по сетям) на кривых среднего поля, слой за слоем; пунктир — "
              "первый порядок по 1/ширине при ширине моделирования там, где он отличается от бесконечной ширины "
              "больше чем на стандартную ошибку."},
    "mc-activation-histograms": {
        "en": "Per-layer histograms of activations: with a bad init they collapse or saturate with depth, with "
              "Glorot or He they keep their shape.",
        "ru": "Гистограммы активаций по слоям: при плохой инициализации они с глубиной сжимаются или насыщаются, "
              "при Ксавье или Хе сохраняют форму."},
    "mc-gradient-histograms": {
        "en": "Per-layer histograms of back-propagated gradients: with a bad init they narrow towards the input, "
              "with Glorot they keep their width (Glorot & Bengio, Fig. 7).",
        "ru": "Гистограммы обратно распространённых градиентов по слоям: при плохой инициализации они сужаются к "
              "входу, при Ксавье сохраняют ширину (Glorot & Bengio, рис. 7)."},
    "mc-gradient-norm": {
        "en": "RMS gradient by layer: it shrinks geometrically towards the input in a deep sigmoid net and grows "
              "when the weights are over-scaled.",
        "ru": "Среднеквадратичный градиент по слоям: в глубокой сети с сигмоидой он геометрически убывает к входу, "
              "при завышенных весах растёт."},
    "bn-gradient-rate": {
        "en": "Growth of the squared gradient per layer in batch-norm networks against the batch size: theory "
              "(width → ∞) and Monte Carlo; the gap at B = 4 is a finite-width effect.",
        "ru": "Рост квадрата градиента на слой в сетях с батч-нормализацией в зависимости от размера батча: "
              "теория (ширина → ∞) и Монте-Карло; расхождение при B = 4 — эффект конечной ширины."},
    "bn-unit-percentiles-depth": {
        "en": "Percentiles of one sigmoid unit's input by layer in random networks: without batch norm they drift "
              "with depth, with it they stay at 0 ± 1.",
        "ru": "Процентили входа одного сигмоидного нейрона по слоям случайной сети: без батч-нормализации они "
              "дрейфуют с глубиной, с ней остаются около 0 ± 1."},
    "bn-unit-percentiles": {
        "en": "Ioffe & Szegedy's Fig. 1 on digits: accuracy over steps, and the 15/50/85th percentiles of one "
              "unit's input, which move far more without batch norm.",
        "ru": "Рис. 1 Иоффе и Сегеди на цифрах: точность по шагам и 15/50/85-й процентили входа одного нейрона, "
              "которые без батч-нормализации смещаются гораздо сильнее."},
    "dropout-network": {
        "en": "One dropout step: each hidden unit kept with probability p; the crossed-out units are off for this "
              "step.",
        "ru": "Один шаг dropout: каждый скрытый нейрон остаётся с вероятностью p; зачёркнутые выключены на этом "
              "шаге."},
    "dropout-thinned": {
        "en": "Four of the 2^n thinned networks: they share one set of weights.",
        "ru": "Четыре из 2^n прореженных сетей: у них общий набор весов."},
    "dropout-gap": {
        "en": "The exact 2^n-mask ensemble mean minus weight scaling: about 0 for linear layers, not 0 for relu "
              "networks.",
        "ru": "Точное среднее ансамбля по 2^n маскам минус масштабирование весов: около 0 для линейных слоёв и не "
              "0 для сетей с ReLU."},
    "dropout-variance-shift": {
        "en": "$\\mathrm{Var}_{test} / \\mathrm{Var}_{train}$ of a batch-norm input after inverted dropout against "
              "p: theory and measured; "
              "the shift shrinks as dropout weakens (p → 1).",
        "ru": "$\\mathrm{Var}_{test} / \\mathrm{Var}_{train}$ входа батч-нормализации после обратного dropout в "
              "зависимости от p: теория и "
              "измерение; сдвиг уменьшается при ослаблении dropout (p → 1)."},
    "train-standardization": {
        "en": "Gradient descent on raw and standardized features: the steps follow the condition number's "
              "(κ − 1)/(κ + 1) rate.",
        "ru": "Градиентный спуск на исходных и стандартизованных признаках: число шагов следует скорости "
              "(κ − 1)/(κ + 1) числа обусловленности."},
    "train-nonzero-centred": {
        "en": "SGD paths of one unit: fed by sigmoids (all positive) its weights zig-zag, fed by tanh they go "
              "straight.",
        "ru": "Траектории SGD одного нейрона: на сигмоидных (положительных) входах веса идут зигзагом, на tanh — "
              "напрямую."},
    "train-inits": {
        "en": "The seminar network (6 × 100): Keras' default uniform against He, with and without batch norm, and "
              "relu / sigmoid / elu at their recommended inits; median and range over seeds.",
        "ru": "Сеть семинара (6 × 100): равномерная инициализация Keras по умолчанию против Хе, с батч-нормализацией "
              "и без, и relu / sigmoid / elu с рекомендованными инициализациями; медиана и размах по зёрнам."},
    "train-gradients": {
        "en": "Vanishing: per-layer weight-gradient norms of a deep sigmoid net against √χ₁; exploding: "
              "$\\mathrm{Var}(w) = 4/n_{in}$ until divergence.",
        "ru": "Затухание: нормы градиентов по весам в глубокой сети с сигмоидой против √χ₁; взрыв: $\\mathrm{Var}(w) "
              "= 4/n_{in}$ "
              "до расходимости."},
    "train-shuffling": {
        "en": "Class-sorted batches against shuffled once and reshuffled every epoch, without and with batch norm.",
        "ru": "Батчи, упорядоченные по классам, против перемешанных один раз и перед каждой эпохой, без "
              "батч-нормализации и с ней."},
    "train-symmetry": {
        "en": "Zero and constant initialization: the hidden units stay identical; relu with zeros never moves.",
        "ru": "Нулевая и постоянная инициализация: скрытые нейроны остаются одинаковыми; relu с нулями не "
              "сдвигается."},
    "train-early-stopping": {
        "en": "Train and validation curves of an over-parameterized net on 200 digits with the stopping point, and "
              "accuracy against width.",
        "ru": "Кривые обучения и валидации переопределённой сети на 200 цифрах с точкой остановки и точность в "
              "зависимости от ширины."},
    "train-pruning": {
        "en": "Pruning by the slide's criterion (the loss increase when a weight is zeroed) against |w| and random, "
              "at once and retrained.",
        "ru": "Прореживание по критерию слайда (рост ошибки при обнулении веса) против |w| и случайного, сразу и с "
              "дообучением."},
    "train-growth": {
        "en": "Growing from 2 units: loss against cost for each of the slide's new-unit strategies, and the cost "
              "ratio against the claimed 1.5–2×.",
        "ru": "Наращивание с 2 нейронов: ошибка в зависимости от затрат для каждой стратегии слайда и отношение "
              "затрат против заявленных 1,5–2 раза."},
    "train-pretraining": {
        "en": "Pretraining: units trained on subsamples, and an autoencoder's encoder with few labels, against "
              "training from scratch.",
        "ru": "Предобучение: нейроны, обученные на подвыборках, и кодировщик автокодировщика при малом числе меток "
              "против обучения с нуля."},
    "sweep-phase-diagram": {
        "en": "ξ_c fitted to Monte Carlo correlations (a sweep) on the theory's tanh phase diagram: the points sit "
              "on the theory's map.",
        "ru": "ξ_c, подобранная по корреляциям Монте-Карло (перебор), на фазовой диаграмме tanh из теории: точки "
              "ложатся на карту теории."},
    "sweep-finite-width": {
        "en": "$\\mathrm{Var} \\log \\lVert x_L \\rVert^2$ of relu/He networks against $\\sum 1/n_l$: the exact "
              "finite-width law holds at every "
              "point, the log-normal approximation does not at small widths.",
        "ru": "$\\mathrm{Var} \\log \\lVert x_L \\rVert^2$ сетей relu/Хе в зависимости от $\\sum 1/n_l$: точный "
              "закон конечной ширины выполняется во "
              "всех точках, логнормальное приближение при малой ширине — нет."},
    "finite-width-kurtosis": {
        "en": "The excess kurtosis of a pre-activation grows with depth / width: ReLU leaves the first order past "
              "depth / width ≈ 0.2 and follows its exact law; tanh stays on the first order at every depth. Hollow "
              "points: the networks are too few for a fourth moment there (the exact law's bound on its relative "
              "error passes the threshold in the key), and there the sample typically falls short of the law.",
        "ru": "Эксцесс предактивации растёт с отношением глубины к ширине: ReLU уходит от первого порядка после "
              "глубина / ширина ≈ 0.2 и следует точному закону; tanh остаётся на первом порядке на любой глубине. "
              "Полые точки: там сетей слишком мало для четвёртого момента (оценка его относительной ошибки по "
              "точному закону выше порога из легенды), и выборка там обычно лежит ниже закона."},
    "finite-width-variance": {
        "en": "Width times the shift of the mean variance from the infinite-width kernel: the widths fall on one "
              "curve, the first-order correction.",
        "ru": "Ширина, умноженная на сдвиг средней дисперсии от ядра бесконечной ширины: все ширины ложатся на одну "
              "кривую — поправку первого порядка."},
    "train-activation-cost": {
        "en": "Time of e^x, the sigmoid and tanh relative to ReLU's: median and range of the trials the claims "
              "judge.",
        "ru": "Время e^x, сигмоиды и tanh относительно ReLU: медиана и размах испытаний, по которым судят "
              "утверждения."},
}

#: where a figure that no claim names is shown: a slide title, or NOT_GRADED (beside the statements left ungraded)
NOT_GRADED = "not graded"
EXTRA: dict[str, str] = {
    "mc-gradient-norm": "Паралич сети",
    "mc-gradient-histograms": "Инициализация Ксавье (Глорота)",
    "sweep-phase-diagram": "Краткие итоги",
    "sweep-finite-width": "Инициализация Хе",
    "bn-gradient-rate": "Backward pass",
    "finite-width-kurtosis": "Инициализация весов (симметричный случай)",
    "finite-width-variance": "Инициализация весов (симметричный случай)",
    "train-early-stopping": NOT_GRADED,
}
