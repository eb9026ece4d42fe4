import pytest
import torch
from torch import nn

from layered.train.learner import load_learner
from layered.vision.errors import VisionError
from layered.vision.gan.diff_augment import DiffAugment
from layered.vision.gan.learner import GANLearner
from layered.vision.gan.models import basic_critic, basic_generator

from .conftest import NOISE


def dots(n: int) -> torch.Tensor:
    """`n` 2×16×16 images on -1, each with one pixel in the middle: 1 in the first channel, 0.5 in the second."""
    x = torch.full((n, 2, 16, 16), -1.0)
    x[:, 0, 8, 8], x[:, 1, 8, 8] = 1.0, 0.5
    return x


def test_eval_mode_leaves_the_images_alone():
    aug, x = DiffAugment(translate=0.25, cutout=0.5).eval(), dots(3)
    assert aug(x) is x


def test_each_image_moves_by_whole_pixels_within_the_limit_and_channels_together():
    torch.manual_seed(0)
    aug, x = DiffAugment(translate=0.25, fill=-1.0), dots(400)
    out = aug(x)
    assert out.shape == x.shape
    where = (out[:, 0] == 1).nonzero()[:, 1:]  # (row, col) of the dot in each image
    assert len(where) == 400  # every dot stays whole: 16 × 0.25 = 4 pixels at most from the centre
    shifts = where - 8
    assert shifts.abs().max() == 4 and set(shifts[:, 0].tolist()) == set(range(-4, 5))
    assert (out[:, 0] == -1).sum() == 400 * 255  # the rest is the background or the fill, no blur
    assert torch.equal(out[:, 1] == 0.5, out[:, 0] == 1)  # both channels moved alike


def test_the_uncovered_border_gets_the_fill():
    torch.manual_seed(1)
    out = DiffAugment(translate=0.25, fill=0.5)(torch.zeros(50, 1, 8, 8))
    assert set(out.unique().tolist()) == {0.0, 0.5}
    assert ((out == 0.5).flatten(1).any(1)).float().mean() > 0.5  # most images moved


def test_cutout_blanks_one_square_per_image():
    torch.manual_seed(2)
    out = DiffAugment(translate=0.0, cutout=0.25, fill=7.0)(torch.zeros(200, 3, 16, 16))
    blank = out[:, 0] == 7
    assert torch.equal(out == 7, blank[:, None].expand_as(out))
    sides = blank.any(2).sum(1), blank.any(1).sum(1)  # rows and columns touched
    counts = blank.flatten(1).sum(1)
    assert (
        counts == sides[0] * sides[1]
    ).all() and counts.max() == 25  # a square of side 4 + 1, cut at the edges
    assert (counts > 0).all()


def test_the_generators_gradient_passes_through():
    torch.manual_seed(3)
    x = torch.randn(4, 1, 8, 8, requires_grad=True)
    weights = torch.randn(4, 1, 8, 8)
    (DiffAugment(translate=0.25)(x) * weights).sum().backward()
    # each input pixel's gradient is the weight of the output pixel it became, or 0 when shifted out
    assert x.grad is not None and set(x.grad.flatten().tolist()) <= set(weights.flatten().tolist()) | {0.0}
    assert (x.grad != 0).sum() >= 4 * 4 * 4  # at least the middle 4×4 of each image stays in view


@pytest.mark.parametrize(
    ("kwargs", "name"), [({"translate": 1.5}, "translate"), ({"cutout": -0.1}, "cutout")]
)
def test_fractions_outside_zero_to_one_are_refused(kwargs, name):
    with pytest.raises(VisionError, match=f"{name} is a fraction"):
        DiffAugment(**kwargs)


def test_images_of_another_rank_are_refused():
    with pytest.raises(
        VisionError, match=r"expected images \(bs, channels, height, width\), got shape \(3, 8\)"
    ):
        DiffAugment()(torch.zeros(3, 8))


def test_a_gan_with_an_augmented_critic_trains_exports_and_loads(gan_dls, tmp_path):
    torch.manual_seed(0)
    critic = nn.Sequential(
        DiffAugment(translate=0.25, cutout=0.25, fill=-1.0), basic_critic(8, 1, n_features=4)
    )
    learn = GANLearner.standard(gan_dls, basic_generator(8, 1, NOISE, n_features=4), critic, path=tmp_path)
    with learn.no_logging(), learn.no_bar():
        learn.fit(1, 1e-3)
    assert learn.gan_trainer.n_crit_steps > 0 and learn.gan_trainer.n_gen_steps > 0
    loaded = load_learner(learn.export("gan.safetensors"))
    augment = loaded.model.critic[0]
    assert isinstance(augment, DiffAugment)
    assert (augment.translate, augment.cutout, augment.fill) == (0.25, 0.25, -1.0)
    for live, new in zip(learn.model.state_dict().values(), loaded.model.state_dict().values()):
        assert torch.equal(live, new)
