"""GAN training: `GANLearner.standard` against a hand-written PyTorch loop doing the same steps.

Both train the same DCGAN pair (`basic_generator(32, 1, 64, n_features=16)` against
`basic_critic(32, 1, 16)`, fresh copies of one initialisation) on the same in-memory batches of
64 noise vectors and 64 32×32 images, alternating one critic step and one generator step with
the non-saturating loss and Adam (β₁ 0.5, β₂ 0.999). The plain loop freezes nothing: it detaches
the fakes for the critic step and zeroes the critic's gradients it leaves behind, as such loops
do. The learner runs over plain torch DataLoaders with its default callbacks (recorder, no
progress bar) and its own Adam. One epoch of 20 batches per call, median over repeats, timed in
turn. Limit: the learner within 1.25× of the plain loop.

Run: python benchmarks/gan.py [--repeats R]
"""

from __future__ import annotations

import argparse
import copy
from functools import partial

import torch
import torch.nn.functional as F
from _timing import interleaved, print_table, ratio_row
from torch.utils.data import DataLoader, TensorDataset

from layered.data.dataloaders import DataLoaders
from layered.train.optim.algorithms import Adam
from layered.vision.gan.learner import GANLearner
from layered.vision.gan.models import basic_critic, basic_generator

BS, N_BATCHES, NOISE = 64, 20, 64
LIMIT = 1.25


def make_data():
    """`N_BATCHES` batches of noise and images in [-1, 1], as one tensor dataset."""
    torch.manual_seed(0)
    n = BS * N_BATCHES
    return TensorDataset(torch.randn(n, NOISE), torch.rand(n, 1, 32, 32) * 2 - 1)


def plain_epoch(gen, crit, ds) -> None:
    """One epoch of the hand-written loop: critic step, generator step, in turn."""
    opt_g = torch.optim.Adam(gen.parameters(), 2e-4, betas=(0.5, 0.999), eps=1e-5)
    opt_c = torch.optim.Adam(crit.parameters(), 2e-4, betas=(0.5, 0.999), eps=1e-5)
    gen.train(), crit.train()
    for i, (noise, real) in enumerate(DataLoader(ds, batch_size=BS)):
        if i % 2 == 0:
            real_pred, fake_pred = crit(real), crit(gen(noise).detach())
            loss = F.binary_cross_entropy_with_logits(real_pred, torch.ones_like(real_pred))
            loss = loss + F.binary_cross_entropy_with_logits(fake_pred, torch.zeros_like(fake_pred))
            opt_c.zero_grad()
            loss.backward()
            opt_c.step()
        else:
            fake_pred = crit(gen(noise))
            loss = F.binary_cross_entropy_with_logits(fake_pred, torch.ones_like(fake_pred))
            opt_g.zero_grad()
            loss.backward()
            opt_g.step()
            crit.zero_grad()


def main() -> None:
    """Print the table: one epoch with the learner and with the plain loop."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    ds = make_data()
    torch.manual_seed(1)
    gen0, crit0 = basic_generator(32, 1, NOISE, n_features=16), basic_critic(32, 1, n_features=16)
    dls = DataLoaders(DataLoader(ds, batch_size=BS), DataLoader(ds, batch_size=BS))
    learn = GANLearner.standard(
        dls, copy.deepcopy(gen0), copy.deepcopy(crit0), opt_func=partial(Adam, mom=0.5, sqr_mom=0.999, wd=0.0)
    )
    gen, crit = copy.deepcopy(gen0), copy.deepcopy(crit0)

    def learner_epoch() -> None:
        with learn.no_logging(), learn.removed_cbs(learn.recorder):
            learn.fit(1, 2e-4)

    # the learner's fit validates too: time its training alone by giving it no validation batches
    learn.dls = DataLoaders(DataLoader(ds, batch_size=BS), [])
    times = interleaved(
        {"learner": learner_epoch, "plain": lambda: plain_epoch(gen, crit, ds)},
        number=1,
        repeats=args.repeats,
    )
    print(f"one epoch of {N_BATCHES} batches of {BS} (10 critic + 10 generator steps), 1 thread\n")
    print_table(
        ["case", "GANLearner", "plain torch", "ratio", "limit", "verdict"],
        [ratio_row("one GAN epoch", times["learner"], times["plain"], LIMIT)],
    )


if __name__ == "__main__":
    main()
