"""VisionError and ImageReadError: what layered-vision raises."""

import numpy as np
import pytest

from layered.core.errors import LayeredError
from layered.vision.drawing import show_image
from layered.vision.errors import ImageReadError, VisionError
from layered.vision.types import PILImage


def test_vision_errors_are_layered_value_errors_naming_the_input(tmp_path):
    assert issubclass(VisionError, LayeredError) and issubclass(VisionError, ValueError)
    assert issubclass(ImageReadError, VisionError)
    with pytest.raises(VisionError, match=r"cannot draw an array of shape \(2, 2, 2, 2\)"):
        show_image(np.zeros((2, 2, 2, 2)))
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(ImageReadError, match=r"broken\.png"):
        PILImage.create(bad)
