"""Round trips with the defaults: every vision learner, exported and loaded, predicts as before.

One test per row of issue 14's matrix: every `ImageDataLoaders.from_*` factory (with a regex
labeller among them), torchvision bodies, a U-Net, points and boxes. The models are fresh
(`pretrained=False`, untrained): the same weights and pipeline must give the same outputs.
"""

import functools

import numpy as np
import pandas as pd
import pytest
import torch
import torchvision
from PIL import Image
from torch import nn

from layered.core.registry import register_serializable
from layered.core.seed import set_seed
from layered.data.data_block import DataBlock
from layered.data.splitters import RandomSplitter
from layered.train.learner import Learner, load_learner
from layered.vision.augment import aug_transforms
from layered.vision.blocks import BBoxBlock, BBoxLblBlock, ImageBlock, PointBlock
from layered.vision.dataloaders import ImageDataLoaders, SegmentationDataLoaders
from layered.vision.item_transforms import Resize
from layered.vision.learner import vision_learner
from layered.vision.normalize import ImageNormalize as Normalize
from layered.vision.normalize import imagenet_stats
from layered.vision.types import TensorBBox, TensorMask, TensorPoint
from layered.vision.unet import unet_learner
from layered.vision.xresnet import xresnet18

SIZE = 16
LABELS = ("cat", "dog")
tiny_xresnet = functools.partial(xresnet18, widen=0.125, stem_szs=(8, 8, 16))


@register_serializable
def label_of_path(path):
    """The label of an image file: its folder's name."""
    return path.parent.name


@register_serializable
def label_of_name(name):
    """The label of an image file from its name alone, e.g. `cat_3.png` -> `cat`."""
    return name.split("_")[0]


@register_serializable
def mask_of(path):
    """The mask file of an image: `<stem>_mask.png` beside it."""
    return path.with_name(f"{path.stem}_mask.png")


@register_serializable
def centre_of(path):
    """The keypoint of a point image: the bright square's centre, encoded in the name `pt_<x>_<y>.png`."""
    _, x, y = path.stem.split("_")
    return np.array([[int(x) + 0.5, int(y) + 0.5]], dtype=np.float32)


@register_serializable
def boxes_of(path):
    """Two boxes per box image: the bright square, and the whole left half."""
    _, x, y = path.stem.split("_")
    x, y = int(x), int(y)
    return [[x - 2, y - 2, x + 3, y + 3], [0, 0, SIZE // 2, SIZE]]


@register_serializable
def box_labels_of(path):
    """The labels of `boxes_of`'s boxes."""
    return ["spot", "half"]


@register_serializable
class TinyDetector(nn.Module):
    """`n` boxes and their class scores from a small convolutional body (a stand-in for a detector)."""

    def __init__(self, n_boxes: int = 2, n_classes: int = 3):
        super().__init__()
        self.n_boxes, self.n_classes = n_boxes, n_classes
        self.body = nn.Sequential(
            nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten()
        )
        self.boxes = nn.Linear(8, n_boxes * 4)
        self.scores = nn.Linear(8, n_boxes * n_classes)

    def forward(self, x):
        h = self.body(x)
        return torch.tanh(self.boxes(h)).view(-1, self.n_boxes, 4), self.scores(h).view(
            -1, self.n_boxes, self.n_classes
        )


@register_serializable
def box_loss(pred_boxes, pred_scores, boxes, labels):
    """L1 on the boxes plus cross-entropy on their labels (boxes and labels padded alike)."""
    n = boxes.shape[1]
    box_part = (pred_boxes[:, :n] - boxes).abs().mean()
    label_part = nn.functional.cross_entropy(pred_scores[:, :n].flatten(0, 1), labels.flatten().long())
    return box_part + label_part


def _noise(rng):
    return Image.fromarray(rng.integers(0, 256, (SIZE, SIZE, 3)).astype(np.uint8))


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """`root/{train,valid}/<label>/<label>_<i>.png`: 16 px noise images; returns the root and all files."""
    root, rng, files = tmp_path_factory.mktemp("pets"), np.random.default_rng(0), []
    for split, n in (("train", 5), ("valid", 2)):
        for label in LABELS:
            folder = root / split / label
            folder.mkdir(parents=True)
            for i in range(n):
                file = folder / f"{label}_{split}{i}.png"
                _noise(rng).save(file)
                files.append(file)
    return root, files


@pytest.fixture(scope="module")
def spots(tmp_path_factory):
    """Black images with a bright 3x3 square at a random place, its centre in the name, and its mask."""
    root, rng, files = tmp_path_factory.mktemp("spots"), np.random.default_rng(1), []
    for _ in range(12):
        x, y = (int(v) for v in rng.integers(3, SIZE - 3, 2))
        a = np.zeros((SIZE, SIZE, 3), np.uint8)
        a[y - 1 : y + 2, x - 1 : x + 2] = 255
        file = root / f"pt_{x}_{y}.png"
        Image.fromarray(a).save(file)
        Image.fromarray((a[..., 0] > 0).astype(np.uint8)).save(mask_of(file))
        files.append(file)
    return root, files


def batch_tfms():
    return [*aug_transforms(size=SIZE - 4), Normalize.from_stats(*imagenet_stats)]


def classifier(dls, arch=tiny_xresnet):
    set_seed(0)
    return vision_learner(dls, arch, pretrained=False, path=dls.path)


def same(a, b):
    """Whether two decoded predictions are equal: tensors (of the same type) to 1e-6, anything else by `==`."""
    if isinstance(a, torch.Tensor):
        return type(a) is type(b) and a.shape == b.shape and torch.allclose(a, b, atol=1e-6)
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def assert_round_trip(learn, items, raw_item):
    """Export `learn`, load it with the defaults; `get_preds` on `items` and `predict(raw_item)` agree."""
    loaded = load_learner(learn.export())
    assert type(loaded.model) is type(learn.model) and loaded.opt is None
    expected = learn.get_preds(dl=learn.dls.test_dl(items))[0]
    got = loaded.get_preds(dl=loaded.dls.test_dl(items))[0]
    assert len(expected) == len(items) and torch.isfinite(expected).all()
    assert got.shape == expected.shape and torch.allclose(got, expected, atol=1e-6)
    decoded, index, probs = learn.predict(raw_item)
    decoded2, index2, probs2 = loaded.predict(raw_item)
    assert same(decoded2, decoded) and same(index2, index)
    assert torch.allclose(probs2, probs, atol=1e-6)
    return loaded, decoded


def assert_classifier_round_trip(learn, items, raw_item, label):
    """`assert_round_trip`, and the loaded labeller (a regex, a function, a column reader) still labels `raw_item`."""
    loaded, decoded = assert_round_trip(learn, items, raw_item)
    assert int(loaded.dls.valid_ds.tls[1].tfms(raw_item)) == LABELS.index(label)
    assert list(loaded.dls.vocab) == list(learn.dls.vocab) == list(LABELS)
    assert decoded in LABELS
    # the augmentations and the normalization come back, in order, as the same classes
    assert [type(t) for t in loaded.dls.valid.after_batch.fs] == [
        type(t) for t in learn.dls.valid.after_batch.fs
    ]
    assert any(isinstance(t, Normalize) for t in loaded.dls.valid.after_batch.fs)


def test_from_folder(images):
    root, files = images
    dls = ImageDataLoaders.from_folder(root, batch_tfms=batch_tfms(), bs=4)
    assert_classifier_round_trip(classifier(dls), files[::3], files[1], files[1].parent.name)


def test_from_path_func(images):
    root, files = images
    dls = ImageDataLoaders.from_path_func(root, files, label_of_path, seed=0, batch_tfms=batch_tfms(), bs=4)
    assert_classifier_round_trip(classifier(dls), files[::3], files[-1], files[-1].parent.name)


def test_from_name_func(images):
    root, files = images
    dls = ImageDataLoaders.from_name_func(root, files, label_of_name, seed=0, batch_tfms=batch_tfms(), bs=4)
    assert_classifier_round_trip(classifier(dls), files[::3], files[2], files[2].parent.name)


def test_from_name_re(images):
    """The Pets recipe: a regex labeller, whose compiled pattern must round-trip."""
    root, files = images
    dls = ImageDataLoaders.from_name_re(
        root, files, r"^([a-z]+)_\w+\.png$", seed=0, batch_tfms=batch_tfms(), bs=4
    )
    learn = classifier(dls)
    assert_classifier_round_trip(learn, files[::3], files[4], files[4].parent.name)


def test_from_path_re(images):
    root, files = images
    dls = ImageDataLoaders.from_path_re(
        root, files, r"/([a-z]+)/[a-z]+_\w+\.png$", seed=0, batch_tfms=batch_tfms(), bs=4
    )
    assert_classifier_round_trip(classifier(dls), files[::3], files[5], files[5].parent.name)


def _frame(root, files):
    return pd.DataFrame(
        {"fname": [str(f.relative_to(root)) for f in files], "label": [f.parent.name for f in files]}
    )


def test_from_df(images):
    root, files = images
    df = _frame(root, files)
    dls = ImageDataLoaders.from_df(df, root, seed=0, batch_tfms=batch_tfms(), bs=4)
    assert_classifier_round_trip(classifier(dls), df.iloc[::3], df.iloc[6], df.iloc[6]["label"])


def test_from_csv(images):
    root, files = images
    df = _frame(root, files)
    df.to_csv(root / "labels.csv", index=False)
    dls = ImageDataLoaders.from_csv(root, seed=0, batch_tfms=batch_tfms(), bs=4)
    assert_classifier_round_trip(classifier(dls), df.iloc[1::3], df.iloc[7], df.iloc[7]["label"])


def test_from_lists(images):
    root, files = images
    fnames = [f.relative_to(root) for f in files]
    labels = [f.parent.name for f in files]
    dls = ImageDataLoaders.from_lists(root, fnames, labels, seed=0, batch_tfms=batch_tfms(), bs=4)
    items = [[root / f, y] for f, y in zip(fnames[::3], labels[::3])]
    assert_classifier_round_trip(classifier(dls), items, [root / fnames[8], labels[8]], labels[8])


@pytest.mark.parametrize(
    "arch",
    [
        torchvision.models.resnet18,
        torchvision.models.resnet34,
        torchvision.models.resnet50,
        torchvision.models.efficientnet_b0,
    ],
    ids=lambda a: a.__name__,
)
def test_torchvision_body(images, arch):
    """The Pets recipe with torchvision's own blocks in the body."""
    root, files = images
    dls = ImageDataLoaders.from_name_re(
        root, files, r"^([a-z]+)_\w+\.png$", seed=0, batch_tfms=batch_tfms(), bs=4
    )
    learn = classifier(dls, arch)
    assert any(type(m).__module__.startswith("torchvision.") for m in learn.model.modules())
    assert_classifier_round_trip(learn, files[::3], files[3], files[3].parent.name)


def test_unet_segmentation(spots):
    root, files = spots
    dls = SegmentationDataLoaders.from_label_func(
        root, files, mask_of, codes=["background", "spot"], seed=0, batch_tfms=batch_tfms(), bs=4
    )
    set_seed(0)
    learn = unet_learner(dls, tiny_xresnet, pretrained=False, path=root)
    loaded, decoded = assert_round_trip(learn, files[::2], files[1])
    assert type(decoded) is TensorMask and decoded.ndim == 2
    assert list(loaded.dls.vocab) == ["background", "spot"]


def test_points(spots):
    root, files = spots
    dblock = DataBlock(
        blocks=(ImageBlock, PointBlock),
        get_y=centre_of,
        splitter=RandomSplitter(0.25, seed=0),
        item_tfms=Resize(SIZE),
        batch_tfms=batch_tfms(),
    )
    dls = dblock.dataloaders(files, path=root, bs=4)
    set_seed(0)
    learn = vision_learner(dls, tiny_xresnet, pretrained=False, y_range=(-1.1, 1.1), path=root)
    _, decoded = assert_round_trip(learn, files[::2], files[3])
    assert type(decoded) is TensorPoint and decoded.shape == (1, 2)


def test_boxes(spots):
    """No learner builds detectors: the box pipeline and a registered model round-trip under a plain Learner."""
    root, files = spots
    dblock = DataBlock(
        blocks=(ImageBlock, BBoxBlock, BBoxLblBlock),
        get_y=[boxes_of, box_labels_of],
        splitter=RandomSplitter(0.25, seed=0),
        item_tfms=Resize(SIZE, method="squish"),
        batch_tfms=Normalize.from_stats(*imagenet_stats),
        n_inp=1,
    )
    dls = dblock.dataloaders(files, path=root, bs=4)
    set_seed(0)
    vocab = dls.train_ds.tls[2].tfms.fs[-1].vocab
    assert list(vocab) == ["#na#", "half", "spot"]
    learn = Learner(dls, TinyDetector(2, len(vocab)), loss_func=box_loss, path=root)
    loaded = load_learner(learn.export())
    assert type(loaded.model) is TinyDetector and list(loaded.dls.valid_ds.tls[2].tfms.fs[-1].vocab) == list(
        vocab
    )
    items = files[::2]
    expected = learn.get_preds(dl=learn.dls.test_dl(items))[0]
    got = loaded.get_preds(dl=loaded.dls.test_dl(items))[0]
    assert len(expected) == len(got) == 2
    for e, g in zip(expected, got):
        assert e.shape[0] == len(items) and g.shape == e.shape and torch.allclose(g, e, atol=1e-6)
    # the boxes decode to the same pixel coordinates through the loaded pipeline
    x = loaded.dls.test_dl(items[:1]).one_batch()[0]
    boxes = TensorBBox(got[0][:1], img_size=(SIZE, SIZE))
    dec = loaded.dls.decode_batch((x, boxes, got[1][:1].argmax(-1)))[0]
    dec_live = learn.dls.decode_batch(
        (x, TensorBBox(expected[0][:1], img_size=(SIZE, SIZE)), expected[1][:1].argmax(-1))
    )[0]
    assert torch.allclose(dec[1], dec_live[1], atol=1e-5) and list(dec[2]) == list(dec_live[2])
