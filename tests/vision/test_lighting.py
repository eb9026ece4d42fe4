import pytest
import torch

from layered.core.seed import set_seed
from layered.vision.errors import VisionError
from layered.vision.lighting import Brightness, Contrast, Hue, LightingTfm, Saturation
from layered.vision.types import TensorImage, TensorImageBW, TensorMask


def plain(x):
    return x.as_subclass(torch.Tensor)


def test_brightness_sets_mid_grey_to_a_value_in_range_per_sample():
    set_seed(0)
    x = TensorImage(torch.full((32, 3, 4, 4), 0.5))
    y = Brightness(max_lighting=0.2, p=1.0)(x, split_idx=0)
    assert type(y) is TensorImage
    per_sample = plain(y).flatten(1)
    torch.testing.assert_close(per_sample, per_sample[:, :1].expand_as(per_sample))  # uniform within a sample
    assert per_sample.min() >= 0.4 - 1e-6 and per_sample.max() <= 0.6 + 1e-6 and per_sample[:, 0].std() > 0.02


def test_contrast_scales_logits_about_mid_grey():
    set_seed(1)
    x = TensorImage(
        torch.stack([torch.full((1, 2, 2), 0.5), torch.full((1, 2, 2), 0.8)], 1).repeat(16, 2, 1, 1)
    )
    y = plain(Contrast(max_lighting=0.3, p=1.0)(x, split_idx=0))
    torch.testing.assert_close(y[:, ::2], torch.full_like(y[:, ::2], 0.5))
    factor = torch.logit(y[:, 1, 0, 0]) / torch.logit(torch.tensor(0.8))
    assert factor.min() >= 0.7 - 1e-4 and factor.max() <= 1 / 0.7 + 1e-4 and factor.std() > 0.05


def test_saturation_zero_gives_grey_and_grey_is_left_alone():
    x = TensorImage(torch.rand(2, 3, 5, 5) * 0.8 + 0.1)
    s = Saturation(p=1.0)
    grey = plain(s.apply(x, *s.logit_map(torch.zeros(2), 3)))
    torch.testing.assert_close(grey, grey[:, :1].expand_as(grey))
    g = TensorImage(torch.full((2, 3, 5, 5), 0.3))
    torch.testing.assert_close(plain(s.apply(g, *s.logit_map(torch.full((2,), 1.4), 3))), plain(g))


def test_hue_by_a_third_of_a_turn_permutes_the_channels():
    x = TensorImage(torch.rand(2, 3, 4, 4) * 0.8 + 0.1)
    h = Hue(p=1.0)
    y = plain(h.apply(x, *h.logit_map(torch.full((2,), 1 / 3), 3)))
    torch.testing.assert_close(y, plain(x).roll(1, dims=1), atol=1e-5, rtol=0)
    torch.testing.assert_close(
        plain(h.apply(x, *h.logit_map(torch.zeros(2), 3))), plain(x), atol=1e-5, rtol=0
    )


def test_composed_lighting_is_one_map_equal_to_applying_the_parts_in_turn():
    x = TensorImage(torch.rand(3, 3, 6, 6) * 0.9 + 0.05)
    b, c, s = Brightness(p=1.0), Contrast(p=1.0), Saturation(p=1.0)
    maps = [b.logit_map(torch.tensor([0.45, 0.55, 0.6]), 3), c.logit_map(torch.tensor([0.8, 1.2, 1.1]), 3)]
    maps.append(s.logit_map(torch.tensor([0.7, 1.3, 1.0]), 3))
    step = x
    for a, bias in maps:
        step = b.apply(step, a, bias)
    set_seed(5)
    composed = b.compose(c).compose(s)
    assert isinstance(composed, LightingTfm) and [type(p) for p in composed.parts] == [
        Brightness,
        Contrast,
        Saturation,
    ]
    a_all, b_all = torch.eye(3).expand(3, 3, 3), torch.zeros(3, 3)
    for a, bias in maps:
        a_all, b_all = a @ a_all, (a @ b_all[..., None])[..., 0] + bias
    torch.testing.assert_close(plain(composed.apply(x, a_all, b_all)), plain(step), atol=1e-5, rtol=0)


def test_draw_composes_the_parts_random_maps_in_order():
    parts = [Brightness(p=0.5), Contrast(p=0.5)]
    set_seed(7)
    a, b, changed = LightingTfm(parts).draw(6, 3)
    set_seed(7)
    (a1, b1, on1), (a2, b2, on2) = parts[0].random(6, 3), parts[1].random(6, 3)
    torch.testing.assert_close(a, a2 @ a1)
    torch.testing.assert_close(b, (a2 @ b1[..., None])[..., 0] + b2)
    assert torch.equal(changed, on1 | on2)


def test_skipped_samples_and_masks_are_exactly_unchanged():
    set_seed(2)
    x = TensorImage(torch.rand(16, 3, 4, 4))
    mask = TensorMask(torch.randint(0, 3, (16, 4, 4)))
    y, m = Brightness(p=0.5).compose(Contrast(p=0.3))((x, mask), split_idx=0)
    same = (plain(y) == plain(x)).flatten(1).all(1)
    assert 0 < same.sum() < 16
    assert m is mask
    assert Brightness(p=1.0)(x, split_idx=1) is x


def test_one_channel_images_change_brightness_but_not_colour():
    set_seed(3)
    x = TensorImageBW(torch.rand(4, 1, 5, 5))
    assert type(Brightness(p=1.0)(x, split_idx=0)) is TensorImageBW
    y = Saturation(p=1.0).compose(Hue(p=1.0))(x, split_idx=0)
    torch.testing.assert_close(plain(y), plain(x), atol=1e-5, rtol=0)


def test_bad_input_and_settings_raise():
    with pytest.raises(VisionError, match="N×C×H×W floats"):
        Brightness(p=1.0)(TensorImage(torch.zeros(2, 3, 4, 4, dtype=torch.uint8)), split_idx=0)
    with pytest.raises(VisionError, match="max_lighting"):
        Contrast(max_lighting=1.0)
    with pytest.raises(VisionError, match="max_hue"):
        Hue(max_hue=0.7)
