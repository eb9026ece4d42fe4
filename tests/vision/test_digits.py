import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from layered.vision.digits import DIGITS_VALID_PCT, digits_folder, digits_pixels
from layered.vision.errors import VisionError


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERED_HOME", str(tmp_path))
    return tmp_path


def _files(path):
    return sorted(path.glob("*/*/*.png"))


def test_writes_every_digit_in_class_folders_under_the_data_home(home):
    path = digits_folder()
    assert path == home / "data" / "digits"
    files = _files(path)
    assert len(files) == 1797
    assert {f.parent.parent.name for f in files} == {"train", "valid"}
    assert sorted({f.parent.name for f in files}) == [str(c) for c in range(10)]
    digits = load_digits()
    # every index once, in the folder of its label
    assert sorted(int(f.stem) for f in files) == list(range(1797))
    assert all(f.parent.name == str(digits.target[int(f.stem)]) for f in files)
    valid = [f for f in files if f.parent.parent.name == "valid"]
    assert len(valid) == pytest.approx(1797 * DIGITS_VALID_PCT, abs=10)
    # every class is split alike
    for c in range(10):
        n_class = int((digits.target == c).sum())
        n_valid = sum(f.parent.name == str(c) for f in valid)
        assert n_valid == round(n_class * DIGITS_VALID_PCT)
    assert not [p for p in home.joinpath("data").iterdir() if p.name != "digits"]  # no temp folder left


def test_pixels_are_the_sklearn_arrays_scaled_to_8_bits(home):
    path = digits_folder()
    digits = load_digits()
    assert digits_pixels(np.array([0, 8, 16])).tolist() == [0, 128, 255]
    for f in _files(path)[::97]:
        im = Image.open(f)
        assert im.mode == "L" and im.size == (8, 8)
        expected = np.rint(digits.images[int(f.stem)] * 255 / 16).astype(np.uint8)
        np.testing.assert_array_equal(np.asarray(im), expected)


def test_split_is_fixed_and_second_call_reuses(home, tmp_path_factory):
    path = digits_folder()
    marker = path / "train" / "0" / "marker.txt"
    marker.write_text("kept")
    assert digits_folder() == path and marker.read_text() == "kept"  # not rewritten
    other = digits_folder(dest=tmp_path_factory.mktemp("elsewhere") / "d")
    split = {f.relative_to(path) for f in _files(path)}
    assert split == {f.relative_to(other) for f in _files(other)}


def test_size_upsamples_into_its_own_folder(home):
    path = digits_folder(size=16)
    assert path.name == "digits_16"
    f = _files(path)[0]
    im = np.asarray(Image.open(f), dtype=np.float64)
    assert im.shape == (16, 16)
    small = load_digits().images[int(f.stem)] * 255 / 16
    # the upsampled image keeps the digit: its 2x2 block means track the original pixels
    blocks = im.reshape(8, 2, 8, 2).mean((1, 3))
    assert np.corrcoef(blocks.ravel(), small.ravel())[0, 1] > 0.95


def test_bad_arguments_fail_naming_them(home, tmp_path):
    with pytest.raises(VisionError, match="size"):
        digits_folder(size=0)
    (tmp_path / "taken").mkdir()
    with pytest.raises(VisionError, match="taken"):
        digits_folder(dest=tmp_path / "taken")
