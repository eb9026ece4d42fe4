"""ImageNormalize: per-channel statistics on a batch's images only; Normalize.from_stats works on images too."""

import pytest
import torch

from layered.data.normalize import Normalize
from layered.vision.normalize import ImageNormalize, imagenet_stats
from layered.vision.types import TensorImage, TensorMask


def plain(x):
    return x.as_subclass(torch.Tensor)


def batch():
    g = torch.Generator().manual_seed(0)
    img = TensorImage(torch.rand(4, 3, 5, 5, generator=g))
    mask = TensorMask(torch.randint(0, 2, (4, 5, 5), generator=g).float())
    return img, mask


def test_a_mask_among_the_inputs_is_still_left_alone():
    img, mask = batch()
    norm = ImageNormalize.from_stats(*imagenet_stats)
    norm.n_inp = 2  # even as an input, a mask is not an image
    assert torch.equal(norm((img, mask))[1], mask)


def test_without_stats_they_are_per_channel_from_a_batch():
    img, _ = batch()

    class OneBatch:
        n_inp = 1

        def one_batch(self):
            return (img,)

    norm = ImageNormalize()
    norm.setup(OneBatch())
    assert norm.mean.shape == (1, 3, 1, 1)
    assert norm.mean.flatten() == pytest.approx(img.as_subclass(torch.Tensor).mean((0, 2, 3)).tolist())


def test_the_data_normalize_is_the_one_name_and_from_stats_still_fits_images():
    img, mask = batch()
    assert issubclass(ImageNormalize, Normalize)
    generic, images = Normalize.from_stats(*imagenet_stats), ImageNormalize.from_stats(*imagenet_stats)
    assert torch.allclose(generic((img, mask))[0], images((img, mask))[0])


def test_normalize_from_imagenet_stats_touches_images_only_and_decodes():
    x = TensorImage(torch.rand(2, 3, 4, 4))
    mask = TensorMask(torch.randint(0, 3, (2, 4, 4)))
    norm = ImageNormalize.from_stats(*imagenet_stats)
    y, m = norm((x, mask))
    assert type(y) is TensorImage and m is mask
    expected = (plain(x) - torch.tensor(imagenet_stats[0])[:, None, None]) / torch.tensor(imagenet_stats[1])[
        :, None, None
    ]
    torch.testing.assert_close(plain(y), expected)
    back, _ = norm.decode((y, m))
    assert type(back) is TensorImage
    torch.testing.assert_close(plain(back), plain(x))
