"""Interpretation of vision models: segmentation IoU and confusion per pixel, top losses per image, plots."""

import functools

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.metrics import confusion_matrix as sk_confusion_matrix

from layered.core.seed import set_seed
from layered.train.interpret import ClassificationInterpretation
from layered.train.losses.flattened import CrossEntropyLossFlat
from layered.vision.dataloaders import ImageDataLoaders, SegmentationDataLoaders
from layered.vision.interpret import SegmentationInterpretation
from layered.vision.learner import vision_learner
from layered.vision.unet import DynamicUnet, unet_learner
from layered.vision.xresnet import xresnet18

tiny = functools.partial(xresnet18, widen=0.125, stem_szs=(8, 8, 16))
CODES = ["background", "square"]


def quiet(learn):
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    return learn


@pytest.fixture(scope="module")
def seg_dls(tmp_path_factory):
    """16px images with a dark square at a random place; masks mark the square (class 1)."""
    root, rng = tmp_path_factory.mktemp("seg"), np.random.default_rng(0)
    (root / "images").mkdir()
    (root / "masks").mkdir()
    for i in range(24):
        img = rng.integers(120, 255, (16, 16, 3)).astype(np.uint8)
        mask = np.zeros((16, 16), np.uint8)
        r, c = rng.integers(0, 9, 2)
        img[r : r + 7, c : c + 7] //= 5
        mask[r : r + 7, c : c + 7] = 1
        Image.fromarray(img).save(root / "images" / f"{i}.png")
        Image.fromarray(mask).save(root / "masks" / f"{i}.png")

    def mask_of(f):
        return root / "masks" / f.name

    files = sorted((root / "images").glob("*.png"))
    return SegmentationDataLoaders.from_label_func(root, files, mask_of, codes=CODES, bs=4, seed=0)


@pytest.fixture(scope="module")
def seg_interp(seg_dls):
    set_seed(0)
    learn = quiet(unet_learner(seg_dls, tiny, pretrained=False))
    assert isinstance(learn.model, DynamicUnet) and learn.model.final[0].out_channels == 2  # n_out from codes
    assert isinstance(learn.loss_func, CrossEntropyLossFlat) and learn.loss_func.axis == 1
    learn.fit_one_cycle(6, 1e-2)
    return SegmentationInterpretation.from_learner(learn)


def test_segmentation_confusion_and_iou_per_pixel(seg_interp):
    interp, n = seg_interp, len(seg_interp.learn.dls.valid_ds)
    assert interp.vocab == CODES
    assert interp.preds.shape == (n, 2, 16, 16) and interp.targs.shape == (n, 16, 16)
    t, d = interp.targs.reshape(-1).numpy(), interp.decoded.reshape(-1).numpy()
    cm = sk_confusion_matrix(t, d, labels=[0, 1])
    np.testing.assert_array_equal(interp.confusion_matrix().numpy(), cm)
    iou = interp.per_class_iou()
    for k, name in enumerate(CODES):
        inter, union = ((t == k) & (d == k)).sum(), ((t == k) | (d == k)).sum()
        assert iou[name] == pytest.approx(inter / union)
    assert interp.mean_iou() == pytest.approx(np.mean(list(iou.values())))
    assert iou["square"] > 0.5  # the trained model finds the dark squares
    acc = interp.per_class_accuracy()
    assert acc["background"] == pytest.approx(cm[0, 0] / cm[0].sum())


def test_segmentation_top_losses_are_per_image(seg_interp):
    interp = seg_interp
    assert interp.losses.shape == (len(interp.preds),)
    log_p = interp.preds.clamp_min(1e-12).log().gather(1, interp.targs.long()[:, None])[:, 0]
    assert torch.allclose(interp.losses, -log_p.mean((1, 2)), atol=1e-4)
    values, _ = interp.top_losses(2)
    assert torch.equal(values, interp.losses.sort(descending=True).values[:2])
    axes = interp.plot_top_losses(2)
    assert len(axes) == 4  # target and prediction side by side, per image
    assert axes[0].get_title().endswith(f"loss {values[0].item():.2f}")
    assert axes[2].get_title().endswith(f"loss {values[1].item():.2f}")


def test_image_classification_plot_top_losses_titles(tmp_path):
    rng = np.random.default_rng(1)
    for split in ("train", "valid"):
        for label in ("dark", "light"):
            (tmp_path / split / label).mkdir(parents=True)
            for i in range(4):
                lo = 10 if label == "dark" else 150
                Image.fromarray(rng.integers(lo, lo + 100, (8, 8, 3)).astype(np.uint8)).save(
                    tmp_path / split / label / f"{i}.png"
                )
    dls = ImageDataLoaders.from_folder(tmp_path, bs=4)
    set_seed(0)
    interp = ClassificationInterpretation.from_learner(quiet(vision_learner(dls, tiny, pretrained=False)))
    axes = interp.plot_top_losses(3)
    _, idxs = interp.top_losses(3)
    for ax, i in zip(axes, idxs):
        target, pred = dls.vocab[int(interp.targs[i])], dls.vocab[int(interp.decoded[i])]
        prob = interp.preds[i, int(interp.decoded[i])].item()
        first, second = ax.get_title().split("\n")
        assert first == f"{target} / {pred}"
        assert second == f"loss {interp.losses[i].item():.2f}, p {prob:.2f}"
        assert ax.title.get_color() == ("green" if target == pred else "red")
