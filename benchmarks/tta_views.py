"""Test-time augmentation over the 8 dihedral views: layered's `learn.tta(tfms=dihedral_views())`
against a hand-written PyTorch loop, and exact flips against grid-sample resampling, in one run.

- TTA: a folder of PNG images (default 256 of 32×32, 2 classes) and a small CNN. layered:
  `ImageDataLoaders.from_folder` + `learn.tta(tfms=dihedral_views(), beta=0)`, which makes one
  pass over the validation loader per view (so it decodes the PNGs once per view, plus the
  plain pass). The limit: the same PNGs decoded once with PIL into one tensor, then a loop over
  batches and the 8 views (`flip`/`transpose`), the softmax averaged. Both give the same numbers
  (checked).
- Views alone: `FixedDihedral(k)` on a float batch (default 64×3×224×224) against `Dihedral`
  drawing the same `k` (one `grid_sample`), averaged over k = 0..7.
Run: python benchmarks/tta_views.py [--n 256] [--size 32] [--bs 64] [--repeats 5] [--threads N]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch
from _timing import fmt_time, interleaved, print_table
from PIL import Image
from torch import nn

from layered.train.learner import Learner
from layered.vision.affine import Dihedral
from layered.vision.dataloaders import ImageDataLoaders
from layered.vision.fixed_symmetries import FixedDihedral, dihedral_views
from layered.vision.types import TensorImage


def write_images(root: Path, n: int, size: int) -> None:
    """`n` random RGB PNGs per split, half in each of two class folders."""
    rng = np.random.default_rng(0)
    for split in ("train", "valid"):
        for label in ("a", "b"):
            (root / split / label).mkdir(parents=True)
            for i in range(n // 2):
                a = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
                Image.fromarray(a).save(root / split / label / f"{i}.png")


def plain_tta(files: list[Path], model: nn.Module, bs: int) -> torch.Tensor:
    """The limit: decode once, then the 8 views of each batch through the model, softmax averaged."""
    x = torch.stack(
        [torch.from_numpy(np.array(Image.open(f).convert("RGB"))).permute(2, 0, 1) for f in files]
    )
    x = x.float() / 255
    out = []
    with torch.no_grad():
        for b in x.split(bs):
            t = b.transpose(-2, -1)
            views = [b, b.flip(-1), b.flip(-2), b.flip(-2, -1), t, t.flip(-1), t.flip(-2), t.flip(-2, -1)]
            out.append(torch.stack([model(v).softmax(1) for v in views]).mean(0))
    return torch.cat(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--bs", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_images(root, args.n, args.size)
        dls = ImageDataLoaders.from_folder(root, bs=args.bs)
        model = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 2),
        )  # fmt: skip
        learn = Learner(dls, model)
        learn.logger = lambda *a, **k: None
        learn.remove_cbs(learn.progress)
        files = list(dls.valid.dataset.tls[0].items)
        ours, _ = learn.tta(tfms=dihedral_views(), beta=0)
        model.eval()
        assert torch.allclose(ours, plain_tta(files, model, args.bs), atol=1e-5), "the two sides disagree"
        med = interleaved(
            {
                "layered": lambda: learn.tta(tfms=dihedral_views(), beta=0),
                "plain": lambda: plain_tta(files, model, args.bs),
            },
            number=1,
            repeats=args.repeats,
        )
        label = f"TTA, 8 views of {len(files)} PNGs of {args.size}px (bs {args.bs})"
        rows.append(
            [label, fmt_time(med["layered"]), fmt_time(med["plain"]), f"{med['layered'] / med['plain']:.2f}×"]
        )
    x = TensorImage(torch.rand(args.bs, 3, 224, 224))
    fixed = [FixedDihedral(k) for k in range(8)]
    dihedral = Dihedral(p=1.0)
    mats = [dihedral.matrix(torch.full((args.bs,), k), (224, 224), (224, 224)) for k in range(8)]
    med = interleaved(
        {
            "fixed": lambda: [f(x) for f in fixed],
            "resampled": lambda: [dihedral.apply(x, m) for m in mats],
        },
        number=1,
        repeats=args.repeats,
    )
    rows.append(
        [
            f"the 8 views of a {args.bs}×3×224×224 batch: FixedDihedral vs Dihedral (grid_sample)",
            fmt_time(med["fixed"]),
            fmt_time(med["resampled"]),
            f"{med['fixed'] / med['resampled']:.2f}×",
        ]
    )
    print(f"{torch.get_num_threads()} torch threads, torch {torch.__version__}, median of {args.repeats}\n")
    print_table(["case", "layered", "limit", "layered / limit"], rows)


if __name__ == "__main__":
    main()
