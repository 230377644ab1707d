"""The data sets of the training experiments, loaded offline: scikit-learn's bundled digits, or MNIST-format IDX files.

``load_dataset(spec)`` with spec
  * ``digits``: ``sklearn.datasets.load_digits`` (1,797 8x8 images, pixel values 0..16, 10 classes), which ships
    inside scikit-learn and never downloads. Test and validation sets are carved from it by a stratified shuffle.
  * ``mnist:DIR`` / ``fashion-mnist:DIR``: the four standard IDX files in DIR (``train-images-idx3-ubyte``,
    ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each raw or gzipped with a
    ``.gz`` suffix; where both exist the raw one is read). The official t10k split is the test set, so
    ``test_fraction`` is validated but not used; validation is carved from the training files.

Stratified split (deterministic: one ``numpy.random.default_rng(seed)``, classes visited in increasing order): each
class's n_c indices are permuted; the first round(f_test * n_c) go to test, the next round(f_val * n_c) to
validation (half rounds up; never more than the class has left), the rest to training. Each split is then permuted
once more so that it is not ordered by class. Per class, each split is within half an example of its target.

Standardization (``standardize=True``), from the TRAINING split only, applied to every split:
    mean_j = mean(x_train[:, j]),  std_j = sqrt(mean((x_train[:, j] - mean_j)^2))  (population, ddof = 0),
    x' = (x - mean) / s,  s_j = std_j if feature j varies in the training split, else 1.
A feature that is constant in the training split (the digits' border pixels are 0 in every image) is only centred:
its training values become exactly 0 and other splits keep their offset from the training constant.
``Dataset.mean`` / ``Dataset.std`` hold mean_j and std_j (std_j = 0 for those features), or None when
``standardize=False``.

IDX format (LeCun's MNIST page): bytes 0-1 zero, byte 2 the element type (0x08 uint8, 0x09 int8, 0x0B int16,
0x0C int32, 0x0D float32, 0x0E float64), byte 3 the number of dimensions, then one big-endian uint32 per dimension,
then the elements in C order, big-endian. Every problem with a file or a data set (missing, truncated, corrupt,
inconsistent) is a :class:`theory.errors.SpecError` with one line that names the file.
"""
from __future__ import annotations

import dataclasses
import gzip
import math
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from theory import validate
from theory.errors import SpecError

IDX_TYPES = {  # type code -> big-endian element dtype
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF = {(dt.kind, dt.itemsize): code for code, dt in IDX_TYPES.items()}
_GZIP_MAGIC = b"\x1f\x8b"

MNIST_FILES = {  # role -> standard file name (a ".gz" suffix is also accepted)
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
IDX_DATASETS = {"mnist": 10, "fashion-mnist": 10}  # spec prefix -> number of classes
SPEC_HELP = "use 'digits', 'mnist:DIR' or 'fashion-mnist:DIR'"


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """Train / validation / test splits: features float64 of shape (n, d), labels int64 in [0, n_classes).

    ``mean`` and ``std`` (shape (d,)) are the training-split statistics used to standardize every split (see the
    module docstring: features constant in training are centred, not divided), or None if not standardized.
    Arrays built by :func:`load_dataset` are read-only.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    name: str
    mean: np.ndarray | None = None
    std: np.ndarray | None = None

    @property
    def n_features(self) -> int:
        """d, the number of input features (64 for the 8x8 digits)."""
        return int(self.x_train.shape[1])

    def describe(self) -> dict:
        """Sizes, classes and per-split class counts, as plain Python values (JSON-ready)."""
        splits = {"train": self.y_train, "val": self.y_val, "test": self.y_test}
        return {
            "name": self.name,
            "n_classes": int(self.n_classes),
            "n_features": self.n_features,
            "standardized": self.mean is not None,
            "sizes": {k: int(y.shape[0]) for k, y in splits.items()},
            "class_counts": {k: np.bincount(y, minlength=self.n_classes).astype(int).tolist()
                             for k, y in splits.items()},
        }


# ------------------------------------------------------------------ IDX files
def read_idx(path) -> np.ndarray:
    """The array stored in an IDX file (raw, or gzip detected by its magic bytes whatever the suffix), in native
    byte order with the file's element type. Raises SpecError for a missing, truncated or corrupt file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpecError(f"IDX file not found: {path}") from None
    except IsADirectoryError:
        raise SpecError(f"IDX file {path} is a directory") from None
    except OSError as exc:
        raise SpecError(f"cannot read IDX file {path}: {exc.strerror or exc}") from None
    if raw[:2] == _GZIP_MAGIC:  # an IDX file itself starts with two zero bytes, so this cannot be a raw IDX file
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile (CRC, length) is an OSError; EOF = truncated
            raise SpecError(f"corrupt gzip file {path}: {exc}") from None
    return _parse_idx(raw, path)


def _parse_idx(raw: bytes, path: Path) -> np.ndarray:
    if len(raw) < 4:
        raise SpecError(f"IDX file {path} is truncated: {len(raw)} bytes, shorter than the 4-byte magic number")
    if raw[0] != 0 or raw[1] != 0:
        raise SpecError(f"IDX file {path} has a bad magic number {raw[:4].hex()}: it must start with two zero "
                        "bytes (not an IDX file?)")
    code, ndim = raw[2], raw[3]
    if code not in IDX_TYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_TYPES)
        raise SpecError(f"IDX file {path} has an unknown type code 0x{code:02X} (known: {known})")
    if ndim == 0:
        raise SpecError(f"IDX file {path} declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise SpecError(f"IDX file {path} is truncated: {len(raw)} bytes, shorter than its {header}-byte header "
                        f"for {ndim} dimensions")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    if 0 in shape:
        raise SpecError(f"IDX file {path} declares an empty array, shape {tuple(shape)}: nothing to train on")
    dt = IDX_TYPES[code]
    expected = math.prod(shape) * dt.itemsize
    got = len(raw) - header
    if got != expected:
        what = "truncated" if got < expected else "too long"
        raise SpecError(f"IDX file {path} is {what}: shape {tuple(shape)} of {dt.itemsize}-byte elements needs "
                        f"{expected} data bytes, the file has {got}")
    return np.frombuffer(raw, dtype=dt, offset=header).reshape(shape).astype(dt.newbyteorder("="))


def write_idx(path, array) -> Path:
    """Write ``array`` (uint8, int8, int16, int32, float32 or float64; 1 to 255 dimensions) as an IDX file,
    gzipped (reproducibly: mtime 0) if the name ends in ``.gz``. Returns the path."""
    path = Path(path)
    a = np.asarray(array)
    code = _CODE_OF.get((a.dtype.kind, a.dtype.itemsize)) if a.dtype.kind in "uif" else None
    if code is None:
        raise SpecError(f"IDX cannot store dtype {a.dtype} (use uint8, int8, int16, int32, float32 or float64)")
    if not 1 <= a.ndim <= 255:
        raise SpecError(f"IDX stores 1 to 255 dimensions (got an array of {a.ndim})")
    if any(s >= 2**32 for s in a.shape):
        raise SpecError(f"IDX sizes are uint32: shape {a.shape} does not fit")
    payload = (bytes([0, 0, code, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape)
               + np.ascontiguousarray(a, dtype=IDX_TYPES[code]).tobytes())
    if path.name.lower().endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)
    try:
        path.write_bytes(payload)
    except OSError as exc:
        raise SpecError(f"cannot write IDX file {path}: {exc.strerror or exc}") from None
    return path


# ------------------------------------------------------------------ data sets
def load_dataset(spec: str, *, seed: int = 0, val_fraction=0.1, test_fraction=0.2,
                 standardize=True) -> Dataset:
    """The data set named by ``spec`` ('digits', 'mnist:DIR', 'fashion-mnist:DIR'), split and standardized as
    described in the module docstring. The same seed gives byte-identical splits. Bad input raises SpecError.

    Stratified split per class (test, then validation, the rest training); standardized x' = (x - mean_j) / std_j
    with the TRAINING split's per-feature mean and population std (a constant feature only centred)."""
    if not isinstance(spec, str):
        raise SpecError(f"data set spec must be a string (got {spec!r}); {SPEC_HELP}")
    seed = validate.seed(seed)
    f_val = _fraction("val_fraction", val_fraction)
    f_test = _fraction("test_fraction", test_fraction)
    if f_val + f_test >= 1:
        raise SpecError(f"val_fraction + test_fraction must be < 1 (got {f_val} + {f_test})")
    rng = np.random.default_rng(int(seed))
    name, sep, directory = spec.strip().partition(":")
    name = name.strip().lower()
    if name == "digits":
        if sep:
            raise SpecError(f"'digits' takes no directory (got {spec!r}); {SPEC_HELP}")
        x, y, n_classes = _digits()
        rest, (test, val) = _stratified_split(y, n_classes, (f_test, f_val), rng)
        x_tr, y_tr, x_va, y_va, x_te, y_te = x[rest], y[rest], x[val], y[val], x[test], y[test]
    elif name in IDX_DATASETS:
        if not directory.strip():
            raise SpecError(f"{name} needs the directory of its IDX files: '{name}:DIR' (got {spec!r})")
        if "\x00" in directory:
            raise SpecError(f"{name}: the directory {directory!r} has a NUL character")
        n_classes = IDX_DATASETS[name]
        x_all, y_all, x_te, y_te = _idx_dataset(name, Path(directory.strip()).expanduser(), n_classes)
        rest, (val,) = _stratified_split(y_all, n_classes, (f_val,), rng)
        x_tr, y_tr, x_va, y_va = x_all[rest], y_all[rest], x_all[val], y_all[val]
    else:
        raise SpecError(f"unknown data set {spec!r}; {SPEC_HELP}")
    if x_tr.shape[0] == 0:
        raise SpecError(f"{name}: the training split is empty (lower val_fraction / test_fraction)")
    mean = std = None
    if standardize:
        mean = x_tr.mean(axis=0)
        std = x_tr.std(axis=0)
        constant = np.ptp(x_tr, axis=0) == 0  # exact test: such a column centres to exactly 0
        std[constant] = 0.0
        scale = np.where(constant, 1.0, std)
        x_tr, x_va, x_te = ((a - mean) / scale for a in (x_tr, x_va, x_te))
    arrays = [x_tr, y_tr, x_va, y_va, x_te, y_te] + ([mean, std] if standardize else [])
    for a in arrays:
        a.flags.writeable = False
    return Dataset(x_tr, y_tr, x_va, y_va, x_te, y_te, n_classes=n_classes, name=name, mean=mean, std=std)


def _fraction(label: str, v) -> float:
    return validate.real(label, v, 0.0, 1.0, hi_open=True)


def _digits():
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download; imported lazily (slow)

    d = load_digits()
    return np.asarray(d.data, dtype=np.float64), np.asarray(d.target, dtype=np.int64), 10


def _stratified_split(y: np.ndarray, n_classes: int, fractions, rng: np.random.Generator):
    """(rest, [part_k]) index arrays: per class, round(f_k * n_c) shuffled indices go to part k, in order."""
    parts = [[] for _ in fractions]
    rest = []
    for c in range(n_classes):
        idx = rng.permutation(np.flatnonzero(y == c))
        start = 0
        for k, f in enumerate(fractions):
            take = min(math.floor(f * idx.size + 0.5), idx.size - start)
            parts[k].append(idx[start:start + take])
            start += take
        rest.append(idx[start:])
    def mix(chunks):
        return rng.permutation(np.concatenate(chunks).astype(np.intp))
    return mix(rest), [mix(p) for p in parts]


def _find_idx(directory: Path, base: str) -> Path | None:
    for cand in (directory / base, directory / (base + ".gz")):
        if cand.is_file():
            return cand
    return None


def _idx_dataset(name: str, directory: Path, n_classes: int):
    if not directory.is_dir():
        raise SpecError(f"{name}: directory not found: {directory}")
    paths = {role: _find_idx(directory, base) for role, base in MNIST_FILES.items()}
    missing = [MNIST_FILES[r] for r, p in paths.items() if p is None]
    if missing:
        raise SpecError(f"{name}: missing {', '.join(missing)} in {directory} (looked for each name raw and "
                        "with .gz)")
    x_tr, y_tr = _idx_pair(paths["train_images"], paths["train_labels"], n_classes)
    x_te, y_te = _idx_pair(paths["test_images"], paths["test_labels"], n_classes)
    if x_tr.shape[1:] != x_te.shape[1:]:
        raise SpecError(f"{name}: training images are {x_tr.shape[1:]} but test images are {x_te.shape[1:]}")
    return (x_tr.reshape(len(x_tr), -1).astype(np.float64), y_tr,
            x_te.reshape(len(x_te), -1).astype(np.float64), y_te)


def _idx_pair(images_path: Path, labels_path: Path, n_classes: int):
    x = read_idx(images_path)
    y = read_idx(labels_path)
    if x.ndim != 3:
        raise SpecError(f"{images_path}: images must have 3 dimensions (count, rows, columns), got shape {x.shape}")
    if y.ndim != 1:
        raise SpecError(f"{labels_path}: labels must have 1 dimension, got shape {y.shape}")
    if x.shape[0] != y.shape[0]:
        raise SpecError(f"{images_path.name} holds {x.shape[0]} images but {labels_path.name} holds {y.shape[0]} "
                        f"labels (in {images_path.parent})")
    if y.dtype.kind not in "ui":
        raise SpecError(f"{labels_path}: labels must be integers, got IDX type {y.dtype}")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        bad = y[(y < 0) | (y >= n_classes)]
        raise SpecError(f"{labels_path}: labels must lie in 0..{n_classes - 1}, found {int(bad[0])} "
                        f"({bad.size} out of range)")
    if x.dtype.kind == "f" and not np.all(np.isfinite(x)):
        raise SpecError(f"{images_path}: images contain NaN or infinite values")
    return x, y.astype(np.int64)


# ------------------------------------------------------------------ orderings for training
def class_sorted(x, y) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) reordered by class label, stably (within a class the original order is kept): the worst case for
    SGD without shuffling."""
    x = np.asarray(x)
    y = np.asarray(y)
    if y.ndim != 1 or x.ndim < 1 or x.shape[0] != y.shape[0]:
        raise SpecError(f"class_sorted needs y of shape (n,) and x with n rows (got x {x.shape}, y {y.shape})")
    order = np.argsort(y, kind="stable")
    return x[order], y[order]


def batches(n: int, batch_size: int, rng: np.random.Generator | None, shuffle: bool = True) -> Iterator[np.ndarray]:
    """Index arrays of one epoch over range(n): every index exactly once, in batches of ``batch_size`` (the last
    one smaller if batch_size does not divide n). With ``shuffle`` the order is ``rng.permutation(n)``, so each call
    with the same Generator (one per epoch) draws a fresh order; without, it is 0..n-1 and rng is not used.
    Arguments are checked at the call, before the first batch."""
    n = validate.integer("n", n, 0)
    batch_size = validate.integer("batch_size", batch_size, 1)
    if shuffle:
        validate.generator(rng, "shuffling")
    order = rng.permutation(int(n)) if shuffle else np.arange(int(n))
    return (order[i:i + batch_size] for i in range(0, int(n), int(batch_size)))
