import numpy as np
import pytest
from PIL import Image

from layered.vision.errors import ImageReadError
from layered.vision.image_io import (
    get_image_files,
    load_image,
    load_mask,
    skip_bad_images,
    verify_images,
)


def _jpeg(path, size=(16, 12)):
    Image.fromarray(np.full((size[1], size[0], 3), 128, np.uint8)).save(path, quality=95)
    return path


def test_corrupt_truncated_and_non_image_files_name_the_file(tmp_path):
    good = _jpeg(tmp_path / "good.jpg")
    truncated = tmp_path / "trunc.jpg"
    truncated.write_bytes(good.read_bytes()[:200])
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    for bad in (truncated, text, tmp_path / "missing.jpg"):
        with pytest.raises(ImageReadError, match=bad.name):
            load_image(bad)
    assert load_image(good).size == (16, 12)
    assert list(verify_images([good, truncated, text])) == [truncated, text]


def test_skip_bad_images_reports_the_count(tmp_path):
    good = [_jpeg(tmp_path / f"{i}.jpg") for i in range(3)]
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8garbage")
    with pytest.warns(UserWarning, match=r"skipped 1 of 4 .*bad\.jpg"):
        kept = skip_bad_images([*good, bad])
    assert list(kept) == good


def test_conversions_grey_rgba_palette_16bit(tmp_path):
    Image.fromarray(np.full((2, 2), 200, np.uint8), "L").save(tmp_path / "grey.png")
    assert np.asarray(load_image(tmp_path / "grey.png")).tolist() == [[[200] * 3] * 2] * 2
    rgba = np.zeros((2, 2, 4), np.uint8)  # black, fully transparent: shows as white
    rgba[0, 0] = (255, 0, 0, 255)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    a = np.asarray(load_image(tmp_path / "rgba.png"))
    assert a[0, 0].tolist() == [255, 0, 0] and a[1, 1].tolist() == [255, 255, 255]
    pal = Image.fromarray(np.array([[0, 1], [1, 0]], np.uint8), "P")
    pal.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    pal.save(tmp_path / "pal.png")
    assert np.asarray(load_image(tmp_path / "pal.png"))[0, 1].tolist() == [0, 255, 0]
    assert np.asarray(load_mask(tmp_path / "pal.png")).tolist() == [[0, 1], [1, 0]]  # indices, not colours
    Image.fromarray(np.full((2, 2), 65535, np.uint16)).save(tmp_path / "deep.png")
    assert np.asarray(load_image(tmp_path / "deep.png", mode="L")).tolist() == [[255, 255], [255, 255]]
    Image.fromarray(np.full((2, 2), 32896, np.uint16)).save(tmp_path / "mid.png")
    assert np.asarray(load_image(tmp_path / "mid.png", mode="L"))[0, 0] == 128  # scaled, not clipped


def test_exif_orientation_is_applied(tmp_path):
    a = np.zeros((10, 20, 3), np.uint8)
    a[:, :10] = 255  # left half white
    im = Image.fromarray(a)
    exif = im.getexif()
    exif[0x0112] = 6  # stored rotated: the upright image is the stored one turned 90 degrees clockwise
    im.save(tmp_path / "rot.jpg", exif=exif, quality=100)
    up = np.asarray(load_image(tmp_path / "rot.jpg"))
    assert up.shape == (20, 10, 3)
    assert up[:8].mean() > 200 and up[12:].mean() < 50  # the white half is now on top


def test_mask_with_wide_values_is_an_error(tmp_path):
    Image.fromarray(np.full((2, 2), 300, np.uint16)).save(tmp_path / "m.png")
    with pytest.raises(ImageReadError, match=r"m\.png holds values"):
        load_mask(tmp_path / "m.png")


def test_get_image_files_by_extension_and_folder(tmp_path):
    for sub in ("train/a", "valid/a", "other"):
        (tmp_path / sub).mkdir(parents=True)
        _jpeg(tmp_path / sub / "x.jpg")
    (tmp_path / "train/a/readme.txt").write_text("x")
    (tmp_path / "train/a/y.PNG").write_bytes(b"")
    found = get_image_files(tmp_path, folders=["train", "valid"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "train/a/x.jpg",
        "train/a/y.PNG",
        "valid/a/x.jpg",
    ]
    assert len(get_image_files(tmp_path)) == 4
    assert len(get_image_files(tmp_path, recurse=False)) == 0
