"""sims.data: the bundled digits split and standardized, the IDX reader/writer on files written here, a fake MNIST
directory through load_dataset, every error path as a one-line SpecError, batches and class_sorted.

No test is statistical. Tolerances: standardized training features have mean 0 and std 1 up to float64 rounding
of sums over ~1,300 values of magnitude <= ~10 (1e-12 is far above that and far below any real offset); exact
invariants (split sizes, byte-identical splits, IDX round trips, batch coverage) are asserted without tolerance.
"""
import gzip
import struct

import numpy as np
import pytest

from sklearn.datasets import load_digits

from sims.data import (MNIST_FILES, Dataset, batches, class_sorted, load_dataset, read_idx,
                       write_idx)
from theory.errors import SpecError

CODES = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}  # the format's table, typed here


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_dataset("digits", seed=0)


# ------------------------------------------------------------------ digits
def test_digits_shapes_and_sizes(digits):
    d = digits
    assert d.name == "digits" and d.n_classes == 10
    n = {"train": len(d.y_train), "val": len(d.y_val), "test": len(d.y_test)}
    assert sum(n.values()) == 1797
    for x, y in ((d.x_train, d.y_train), (d.x_val, d.y_val), (d.x_test, d.y_test)):
        assert x.dtype == np.float64 and y.dtype == np.int64
        assert x.shape == (len(y), 64) and y.ndim == 1
        assert set(np.unique(y)) == set(range(10))
    assert abs(n["test"] - 0.2 * 1797) <= 10 / 2 and abs(n["val"] - 0.1 * 1797) <= 10 / 2  # per-class rounding
    desc = d.describe()
    assert desc["sizes"] == n and desc["n_classes"] == 10 and desc["n_features"] == 64
    assert [sum(desc["class_counts"][k]) for k in ("train", "val", "test")] == [n["train"], n["val"], n["test"]]
    assert desc["class_counts"]["test"] == np.bincount(d.y_test, minlength=10).tolist()


def test_digits_standardization_uses_training_statistics(digits):
    d = digits
    raw = load_dataset("digits", seed=0, standardize=False)
    assert raw.mean is None and raw.std is None
    np.testing.assert_array_equal(raw.y_train, d.y_train)
    # the statistics are the raw training split's own, population std
    np.testing.assert_array_equal(d.mean, raw.x_train.mean(axis=0))
    varies = raw.x_train.std(axis=0) > 0
    assert (~varies).any() and varies.sum() > 50  # the digits have constant border pixels in training
    np.testing.assert_array_equal(d.std[varies], raw.x_train.std(axis=0)[varies])
    assert np.all(d.std[~varies] == 0)
    # training split: mean 0, std 1 per varying feature; constant features exactly 0 (centred, not divided by 0)
    assert np.abs(d.x_train.mean(axis=0)).max() < 1e-12
    np.testing.assert_allclose(d.x_train.std(axis=0)[varies], 1.0, rtol=0, atol=1e-12)
    assert np.all(d.x_train[:, ~varies] == 0) and np.all(np.isfinite(d.x_val)) and np.all(np.isfinite(d.x_test))
    # val / test: the TRAINING transform, reproduced independently
    scale = np.where(varies, raw.x_train.std(axis=0), 1.0)
    for x_std, x_raw in ((d.x_val, raw.x_val), (d.x_test, raw.x_test)):
        np.testing.assert_allclose(x_std, (x_raw - raw.x_train.mean(axis=0)) / scale, rtol=1e-15, atol=1e-15)
        # negative control: a split standardized by its own statistics would have mean 0 to 1e-12; these don't
        assert np.abs(x_std[:, varies].mean(axis=0)).max() > 1e-3


def test_digits_arrays_are_read_only(digits):
    with pytest.raises(ValueError):
        digits.x_train[0, 0] = 1.0
    with pytest.raises(AttributeError):
        digits.name = "other"


def test_same_seed_identical_different_seed_differs(digits):
    again = load_dataset("digits", seed=0)
    other = load_dataset("digits", seed=1)
    fields = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test", "mean", "std")
    for f in fields:
        assert getattr(digits, f).tobytes() == getattr(again, f).tobytes()
    assert digits.x_test.tobytes() != other.x_test.tobytes()
    assert digits.y_train.tobytes() != other.y_train.tobytes()
    # same per-class sizes either way (stratification does not depend on the seed)
    assert digits.describe()["class_counts"] == other.describe()["class_counts"]


@pytest.mark.parametrize("f_val, f_test", [(0.1, 0.2), (0.25, 0.25), (0.0, 0.5)])
def test_stratified_proportions(f_val, f_test):
    d = load_dataset("digits", seed=3, val_fraction=f_val, test_fraction=f_test, standardize=False)
    c_tr, c_va, c_te = (np.bincount(y, minlength=10) for y in (d.y_train, d.y_val, d.y_test))
    n_c = c_tr + c_va + c_te
    raw = load_digits()
    np.testing.assert_array_equal(n_c, np.bincount(raw.target))
    assert np.all(np.abs(c_va - f_val * n_c) <= 1) and np.all(np.abs(c_te - f_test * n_c) <= 1)
    # splits are disjoint and cover the data set: the multiset of rows is the data set's
    rows = np.concatenate([d.x_train, d.x_val, d.x_test])
    assert sorted(map(bytes, rows)) == sorted(map(bytes, raw.data.astype(np.float64)))
    # the splits are shuffled, not ordered by class
    assert np.any(np.diff(d.y_train) < 0)


@pytest.mark.parametrize("kw, needle", [
    ({"val_fraction": 1.0}, "val_fraction"), ({"val_fraction": -0.1}, "val_fraction"),
    ({"test_fraction": float("nan")}, "test_fraction"), ({"test_fraction": True}, "test_fraction"),
    ({"val_fraction": 0.5, "test_fraction": 0.5}, "< 1"), ({"seed": -1}, "seed"), ({"seed": 1.5}, "seed"),
])
def test_bad_arguments(kw, needle):
    with pytest.raises(SpecError, match=needle):
        load_dataset("digits", **kw)


@pytest.mark.parametrize("spec, needle", [
    ("cifar10", "unknown data set"), ("digits:/tmp", "no directory"), ("mnist", "needs the directory"),
    ("mnist:", "needs the directory"), (3, "string"),
])
def test_bad_specs(spec, needle):
    with pytest.raises(SpecError, match=needle):
        load_dataset(spec)


# ------------------------------------------------------------------ IDX round trips
@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_idx_round_trip(tmp_path, dtype, suffix):
    rng = np.random.default_rng([7, len(dtype), len(suffix)])
    dt = np.dtype(dtype)
    if dt.kind == "f":
        a = rng.standard_normal((3, 4, 5)).astype(dt) * 1e3
    else:
        info = np.iinfo(dt)
        a = rng.integers(info.min, info.max, size=(3, 4, 5), endpoint=True).astype(dt)
    p = write_idx(tmp_path / f"a{suffix}", a)
    b = read_idx(p)
    assert b.dtype == a.dtype and b.shape == a.shape and b.dtype.isnative
    assert b.tobytes() == a.tobytes()
    raw = p.read_bytes()
    assert (raw[:2] == b"\x1f\x8b") == (suffix == ".gz")
    body = gzip.decompress(raw) if suffix else raw
    # the header as the format defines it, and big-endian data, written out independently here
    assert body[:4] == bytes([0, 0, CODES[dtype], 3])
    assert struct.unpack(">3I", body[4:16]) == (3, 4, 5)
    assert body[16:] == a.astype(dt.newbyteorder(">")).tobytes()


def test_idx_one_dimensional_labels_and_gzip_detected_by_content(tmp_path):
    y = np.arange(10, dtype=np.uint8)
    # gzip content under a name without .gz, and raw content under a .gz name: both read by their magic bytes
    (tmp_path / "labels").write_bytes(gzip.compress(write_idx(tmp_path / "tmp", y).read_bytes()))
    write_idx(tmp_path / "raw", y)
    (tmp_path / "raw-named.gz").write_bytes((tmp_path / "raw").read_bytes())
    for name in ("labels", "raw-named.gz"):
        np.testing.assert_array_equal(read_idx(tmp_path / name), y)


def test_write_idx_rejects_unsupported(tmp_path):
    with pytest.raises(SpecError, match="dtype int64"):
        write_idx(tmp_path / "x", np.arange(3, dtype=np.int64))
    with pytest.raises(SpecError, match="dimensions"):
        write_idx(tmp_path / "x", np.uint8(3))


# ------------------------------------------------------------------ IDX errors
def _idx(tmp_path, name="f", a=None):
    return write_idx(tmp_path / name, np.arange(24, dtype=np.uint8).reshape(2, 3, 4) if a is None else a)


def test_read_idx_missing_and_directory(tmp_path):
    with pytest.raises(SpecError, match="not found.*nope"):
        read_idx(tmp_path / "nope")
    with pytest.raises(SpecError, match="directory"):
        read_idx(tmp_path)


def test_read_idx_truncated_and_too_long(tmp_path):
    p = _idx(tmp_path)
    good = p.read_bytes()
    p.write_bytes(good[:-1])
    with pytest.raises(SpecError, match=r"truncated.*needs 24 data bytes, the file has 23"):
        read_idx(p)
    p.write_bytes(good[:10])  # inside the header
    with pytest.raises(SpecError, match="truncated.*header"):
        read_idx(p)
    p.write_bytes(good[:2])
    with pytest.raises(SpecError, match="truncated"):
        read_idx(p)
    p.write_bytes(good + b"\0")
    with pytest.raises(SpecError, match="too long"):
        read_idx(p)


def test_read_idx_bad_magic_and_type_code(tmp_path):
    p = _idx(tmp_path)
    good = p.read_bytes()
    p.write_bytes(b"\x01" + good[1:])
    with pytest.raises(SpecError, match="bad magic number 01000803"):
        read_idx(p)
    p.write_bytes(good[:2] + b"\x0a" + good[3:])
    with pytest.raises(SpecError, match="unknown type code 0x0A"):
        read_idx(p)
    p.write_bytes(good[:3] + b"\x00")
    with pytest.raises(SpecError, match="0 dimensions"):
        read_idx(p)


def test_read_idx_corrupt_gzip(tmp_path):
    p = _idx(tmp_path, "f.gz")
    good = bytearray(p.read_bytes())
    crc = bytearray(good)
    crc[-8] ^= 0xFF  # the CRC-32 trailer
    p.write_bytes(bytes(crc))
    with pytest.raises(SpecError, match="corrupt gzip.*CRC"):
        read_idx(p)
    p.write_bytes(bytes(good[:-12]))  # cut inside the deflate stream
    with pytest.raises(SpecError, match="corrupt gzip"):
        read_idx(p)
    bad = bytearray(good)
    bad[12:20] = b"\xff" * 8  # garbage in the deflate stream
    p.write_bytes(bytes(bad))
    with pytest.raises(SpecError, match="corrupt gzip"):
        read_idx(p)


# ------------------------------------------------------------------ fake MNIST directory
def _fake_mnist(root, n_train=30, n_test=10, gz=(False, True, False, True), seed=11, train_labels=None):
    rng = np.random.default_rng(seed)
    root.mkdir(exist_ok=True)
    arrays = {
        "train_images": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train_labels": (np.arange(n_train) % 10).astype(np.uint8) if train_labels is None else train_labels,
        "test_images": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "test_labels": (np.arange(n_test) % 10).astype(np.uint8),
    }
    for (role, base), z in zip(MNIST_FILES.items(), gz):
        write_idx(root / (base + (".gz" if z else "")), arrays[role])
    return arrays


@pytest.mark.parametrize("kind", ["mnist", "fashion-mnist"])
def test_fake_mnist_loads(tmp_path, kind):
    arr = _fake_mnist(tmp_path / "m")
    d = load_dataset(f"{kind}:{tmp_path / 'm'}", seed=5, val_fraction=0.3, standardize=False)
    assert d.name == kind and d.n_classes == 10
    assert d.describe()["sizes"] == {"train": 20, "val": 10, "test": 10}  # 3 per class, round(0.9) = 1 to val
    assert d.describe()["class_counts"]["val"] == [1] * 10
    assert d.x_train.shape == (20, 784) and d.x_train.dtype == np.float64 and d.y_train.dtype == np.int64
    # the official test split, in file order, is the test set
    np.testing.assert_array_equal(d.x_test, arr["test_images"].reshape(10, -1).astype(np.float64))
    np.testing.assert_array_equal(d.y_test, arr["test_labels"])
    # train + val are exactly the training files' examples, each once
    flat = arr["train_images"].reshape(30, -1).astype(np.float64)
    got = np.concatenate([d.x_train, d.x_val])
    key = lambda x: sorted(map(bytes, x.astype(np.uint8)))  # noqa: E731
    assert key(got) == key(flat)
    s = load_dataset(f"{kind}:{tmp_path / 'm'}", seed=5, val_fraction=0.3)
    assert np.abs(s.x_train.mean(axis=0)).max() < 1e-12
    np.testing.assert_array_equal(s.x_test, (d.x_test - s.mean) / np.where(s.std > 0, s.std, 1.0))


def test_fake_mnist_missing_files(tmp_path):
    with pytest.raises(SpecError, match="directory not found"):
        load_dataset(f"mnist:{tmp_path / 'absent'}")
    _fake_mnist(tmp_path / "m")
    (tmp_path / "m" / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(SpecError) as exc:
        load_dataset(f"mnist:{tmp_path / 'm'}")
    msg = str(exc.value)
    assert "missing t10k-labels-idx1-ubyte " in msg and str(tmp_path / "m") in msg and "\n" not in msg
    assert "train-images" not in msg


def test_fake_mnist_length_mismatch_and_label_range(tmp_path):
    _fake_mnist(tmp_path / "a", train_labels=np.zeros(29, dtype=np.uint8))
    with pytest.raises(SpecError, match=r"30 images but train-labels-idx1-ubyte(\.gz)? holds 29 labels"):
        load_dataset(f"mnist:{tmp_path / 'a'}")
    labels = (np.arange(30) % 10).astype(np.uint8)
    labels[7] = 10
    _fake_mnist(tmp_path / "b", train_labels=labels)
    with pytest.raises(SpecError, match=r"0\.\.9, found 10"):
        load_dataset(f"mnist:{tmp_path / 'b'}")


def test_fake_mnist_truncated_file_reported(tmp_path):
    _fake_mnist(tmp_path / "m")
    p = tmp_path / "m" / "train-images-idx3-ubyte"
    p.write_bytes(p.read_bytes()[:-100])
    with pytest.raises(SpecError, match="train-images-idx3-ubyte is truncated"):
        load_dataset(f"mnist:{tmp_path / 'm'}")


# ------------------------------------------------------------------ batches, class_sorted
@pytest.mark.parametrize("n, bs", [(10, 3), (12, 4), (1, 5), (0, 2)])
def test_batches_cover_each_index_once(n, bs):
    rng = np.random.default_rng(2)
    for shuffle in (True, False):
        got = list(batches(n, bs, rng, shuffle=shuffle))
        assert [len(b) for b in got] == [min(bs, n - i) for i in range(0, n, bs)]
        flat = np.concatenate(got) if got else np.array([], dtype=int)
        np.testing.assert_array_equal(np.sort(flat), np.arange(n))
        if not shuffle:
            np.testing.assert_array_equal(flat, np.arange(n))


def test_batches_reshuffle_between_epochs_and_reproduce():
    rng = np.random.default_rng(9)
    e1 = np.concatenate(list(batches(50, 8, rng)))
    e2 = np.concatenate(list(batches(50, 8, rng)))
    assert not np.array_equal(e1, e2) and not np.array_equal(e1, np.arange(50))
    rng2 = np.random.default_rng(9)
    np.testing.assert_array_equal(np.concatenate(list(batches(50, 8, rng2))), e1)
    np.testing.assert_array_equal(np.concatenate(list(batches(50, 8, rng2))), e2)


@pytest.mark.parametrize("args, needle", [
    ((5, 2, None), "Generator"), ((5, 2, 0), "Generator"), ((-1, 2, np.random.default_rng()), "n must"),
    ((5, 0, np.random.default_rng()), "batch_size"), ((5, True, np.random.default_rng()), "batch_size"),
])
def test_batches_rejects_bad_arguments_at_call(args, needle):
    with pytest.raises(SpecError, match=needle):
        batches(*args)  # raised before iteration starts


def test_class_sorted_sorted_and_stable():
    y = np.array([2, 0, 1, 0, 2, 1, 0])
    x = np.arange(14).reshape(7, 2)
    xs, ys = class_sorted(x, y)
    np.testing.assert_array_equal(ys, [0, 0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(xs[:, 0] // 2, [1, 3, 6, 2, 5, 0, 4])  # original order kept within a class
    with pytest.raises(SpecError):
        class_sorted(x, y[:-1])


def test_class_sorted_on_digits(digits):
    xs, ys = class_sorted(digits.x_train, digits.y_train)
    assert np.all(np.diff(ys) >= 0)
    for c in range(10):  # stable: within class c the rows keep their order in x_train
        np.testing.assert_array_equal(xs[ys == c], digits.x_train[digits.y_train == c])
