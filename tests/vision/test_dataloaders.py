import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from layered.data.errors import DataError
from layered.vision.dataloaders import ImageDataLoaders, SegmentationDataLoaders
from layered.vision.errors import VisionError
from layered.vision.item_transforms import IntToFloatTensor, Resize
from layered.vision.types import TensorImage, TensorMask


def _save(path, value, size=(12, 10)):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size[1], size[0], 3), value, np.uint8)).save(path)
    return path


@pytest.fixture
def folder(tmp_path):
    """train/valid folders of dark 'a' and bright 'b' images."""
    for split, n in (("train", 4), ("valid", 2)):
        for label, value in (("a", 20), ("b", 230)):
            for i in range(n):
                _save(tmp_path / split / label / f"{label}_{i}.png", value)
    return tmp_path


def _labels_match_brightness(dls):
    for dl in (dls.train, dls.valid):
        x, y = dl.one_batch()
        assert type(x) is TensorImage and x.dtype == torch.float32
        bright = x.mean((1, 2, 3)) > 0.5
        names = [dls.vocab[int(i)] for i in y]
        assert [n == "b" for n in names] == bright.tolist()


def test_aug_transforms_size_resizes_validation_batches_too(folder):
    from layered.data.blocks import CategoryBlock
    from layered.data.data_block import DataBlock
    from layered.data.splitters import GrandparentSplitter
    from layered.vision.augment import aug_transforms
    from layered.vision.blocks import ImageBlock
    from layered.vision.image_io import get_image_files

    dls = ImageDataLoaders.from_folder(folder, bs=4, batch_tfms=aug_transforms(size=6))
    dblock = DataBlock(
        blocks=(ImageBlock, CategoryBlock),
        get_items=get_image_files,
        splitter=GrandparentSplitter(),
        get_y=lambda p: p.parent.name,
        batch_tfms=aug_transforms(size=6),
    )
    for loaders in (dls, dblock.dataloaders(folder, bs=4)):
        for dl in (loaders.train, loaders.valid):
            assert loaders.train.one_batch()[0].shape[-2:] == (6, 6)
            assert dl.one_batch()[0].shape[-2:] == (6, 6), dl.split_idx


def test_from_folder(folder):
    dls = ImageDataLoaders.from_folder(folder, item_tfms=Resize(8), bs=4)
    assert list(dls.vocab) == ["a", "b"] and dls.c == 2
    assert len(dls.train_ds) == 8 and len(dls.valid_ds) == 4
    assert any(isinstance(t, IntToFloatTensor) for t in dls.train.after_batch.fs)
    _labels_match_brightness(dls)
    random_split = ImageDataLoaders.from_folder(folder, valid_pct=0.25, seed=0, item_tfms=Resize(8), bs=4)
    assert len(random_split.train_ds) + len(random_split.valid_ds) == 12
    with pytest.raises(VisionError, match="no folder 'val'"):
        ImageDataLoaders.from_folder(folder, valid="val")


def test_from_name_re_path_re_and_funcs(folder):
    files = sorted(folder.rglob("*.png"))
    dls = ImageDataLoaders.from_name_re(folder, files, r"^([ab])_\d", item_tfms=Resize(8), bs=4, seed=0)
    _labels_match_brightness(dls)
    dls = ImageDataLoaders.from_path_re(folder, files, r"/([ab])/[^/]+$", item_tfms=Resize(8), bs=4, seed=0)
    _labels_match_brightness(dls)
    dls = ImageDataLoaders.from_name_func(folder, files, lambda n: n[0], item_tfms=Resize(8), bs=4, seed=0)
    _labels_match_brightness(dls)
    dls = ImageDataLoaders.from_path_func(
        folder, files, lambda p: p.parent.name, item_tfms=Resize(8), bs=4, seed=0
    )
    _labels_match_brightness(dls)


def test_label_function_returning_none_names_the_file(folder):
    files = sorted(folder.rglob("*.png"))

    def label(name):
        return None if name == "b_1.png" else name[0]

    with pytest.raises(VisionError, match=r"returned None for .*b_1\.png"):
        ImageDataLoaders.from_name_func(folder, files, label, item_tfms=Resize(8), bs=4, seed=0)


def test_from_df_csv_and_lists(folder):
    files = sorted(folder.rglob("*.png"))
    rel = [f.relative_to(folder).as_posix() for f in files]
    labels = [f.parent.name for f in files]
    df = pd.DataFrame({"fname": rel, "label": labels, "is_valid": [f.parts[-3] == "valid" for f in files]})
    dls = ImageDataLoaders.from_df(df, folder, valid_col="is_valid", item_tfms=Resize(8), bs=4)
    assert len(dls.valid_ds) == 4
    _labels_match_brightness(dls)
    df.to_csv(folder / "labels.csv", index=False)
    dls = ImageDataLoaders.from_csv(folder, item_tfms=Resize(8), bs=4, seed=0)
    _labels_match_brightness(dls)
    multi = df.assign(label=[f"{y} x" for y in labels])
    dls = ImageDataLoaders.from_df(multi, folder, label_delim=" ", item_tfms=Resize(8), bs=4, seed=0)
    assert list(dls.vocab) == ["a", "b", "x"] and dls.one_batch()[1].shape == (4, 3)
    dls = ImageDataLoaders.from_lists(folder, rel, labels, item_tfms=Resize(8), bs=4, seed=0)
    _labels_match_brightness(dls)
    with pytest.raises(VisionError, match="3 file names but 2 labels"):
        ImageDataLoaders.from_lists(folder, rel[:3], labels[:2])


def test_bad_files_fail_early_or_are_skipped_with_a_count(folder):
    bad = folder / "train" / "a" / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    with pytest.warns(UserWarning, match=r"skipped 1 of 13 .*broken\.png"):
        dls = ImageDataLoaders.from_folder(folder, item_tfms=Resize(8), bs=4, skip_bad=True)
    assert len(dls.train_ds) == 8
    files = [bad, *sorted((folder / "train").rglob("[ab]_*.png"))]
    with pytest.raises((DataError, VisionError), match=r"cannot read .*broken\.png as an image"):
        dls = ImageDataLoaders.from_path_func(
            folder, files, lambda p: p.parent.name, item_tfms=Resize(8), bs=2
        )
        for dl in dls:  # where the build did not meet it, reading it names it
            list(dl)


def test_segmentation_from_label_func(tmp_path):
    files = []
    for i in range(6):
        a = np.zeros((10, 12, 3), np.uint8)
        a[:, :6] = 255
        files.append(_save(tmp_path / f"{i}.png", 0))
        Image.fromarray(a).save(files[-1])
        Image.fromarray((a[..., 0] > 0).astype(np.uint8)).save(tmp_path / f"{i}_mask.png")

    def mask_of(f):
        return f.with_name(f"{f.stem}_mask.png")

    dls = SegmentationDataLoaders.from_label_func(
        tmp_path, files, mask_of, codes=["bg", "fg"], item_tfms=Resize(8), bs=2, seed=0
    )
    x, y = dls.one_batch()
    assert type(x) is TensorImage and type(y) is TensorMask and y.shape == (2, 8, 8)
    assert ((x[:, 0] > 0.5).long() == y).float().mean() > 0.95
    assert dls.vocab == ["bg", "fg"] and dls.c == 2
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(mask_of(files[3]))
    with pytest.raises(VisionError, match=r"3_mask\.png is 4x4 but its image .*3\.png is 12x10"):
        SegmentationDataLoaders.from_label_func(tmp_path, files, mask_of, item_tfms=Resize(8))


def test_batch_augmentation_in_the_workers_on_the_cpu(folder):
    from layered.vision.augment import aug_transforms

    dls = ImageDataLoaders.from_folder(
        folder,
        bs=4,
        batch_tfms=aug_transforms(size=6),
        num_workers=2,
        device="cpu",
        after_batch_in_workers=True,
    )
    assert dls.train.after_batch_in_workers and dls.train._after_batch_in_workers
    batches = list(dls.train)
    assert len(batches) == 2
    for x, y in batches:
        # augmented and made float by the workers: the training size, values in [0, 1], types kept
        assert type(x) is TensorImage and x.dtype == torch.float32 and x.shape == (4, 3, 6, 6)
        assert float(x.min()) >= 0 and float(x.max()) <= 1
        bright = x.mean((1, 2, 3)) > 0.5
        assert [dls.vocab[int(i)] == "b" for i in y] == bright.tolist()
    assert len(dls.train.decode_batch(batches[0], max_n=2)) == 2
