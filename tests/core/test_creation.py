import numpy as np
import pytest
import torch

from layered.core.creation import TensorCreationError, tensor
from layered.core.errors import LayeredError


class Marked(torch.Tensor):
    """A stand-in for a semantic tensor type."""


class ArrayLike:
    def __array__(self, dtype=None, copy=None):
        return np.full((2, 3), 7, dtype=np.uint8)


def test_a_tensor_is_returned_as_is():
    t = torch.arange(3)
    assert tensor(t) is t
    m = torch.zeros(2).as_subclass(Marked)
    assert tensor(m) is m


def test_numpy_arrays_keep_dtype_and_share_memory():
    a = np.arange(4, dtype=np.int16)
    out = tensor(a)
    assert out.dtype == torch.int16
    a[0] = 9
    assert out[0] == 9
    assert tensor(np.zeros(2)).dtype == torch.float64
    assert tensor(np.float64(2.5)).dtype == torch.float64 and tensor(np.float64(2.5)).ndim == 0


def test_arrays_torch_cannot_read_in_place_are_copied():
    rev = np.arange(4)[::-1]
    assert tensor(rev).tolist() == [3, 2, 1, 0]
    big_endian = np.arange(3, dtype=">i4")
    out = tensor(big_endian)
    assert out.dtype == torch.int32 and out.tolist() == [0, 1, 2]
    ro = np.arange(3.0)
    ro.flags.writeable = False
    out = tensor(ro)
    out[0] = 5.0
    assert ro[0] == 0.0
    assert tensor(np.array([1, 2], dtype=object)).tolist() == [1, 2]


def test_python_values():
    assert torch.equal(tensor(1, 2, 3), torch.tensor([1, 2, 3]))
    assert tensor([1, 2]).dtype == torch.int64
    assert tensor([1.5, 2.0]).dtype == torch.float32
    assert tensor(3.0).ndim == 0 and tensor(3.0).dtype == torch.float32
    assert tensor([[1, 2], [3, 4]]).shape == (2, 2)
    assert tensor(True).dtype == torch.bool
    assert tensor([]).shape == (0,)


def test_sequences_of_tensors_and_arrays_are_stacked():
    out = tensor([torch.zeros(2), torch.ones(2)])
    assert out.shape == (2, 2) and out[1].tolist() == [1.0, 1.0]
    out = tensor((np.zeros(3, dtype=np.int8), np.ones(3, dtype=np.int8)))
    assert out.shape == (2, 3) and out.dtype == torch.int8
    assert tensor(torch.tensor(1.0), torch.tensor(2.0)).tolist() == [1.0, 2.0]
    assert tensor([ArrayLike(), ArrayLike()]).shape == (2, 2, 3)


def test_array_likes_go_through_numpy():
    out = tensor(ArrayLike())
    assert out.shape == (2, 3) and out.dtype == torch.uint8 and int(out.sum()) == 42


def test_keyword_arguments_convert_the_result():
    assert tensor([1, 2], dtype=torch.float64).dtype == torch.float64
    assert tensor(np.arange(2), dtype=torch.float32, device="cpu").tolist() == [0.0, 1.0]


def test_clear_errors():
    with pytest.raises(TensorCreationError, match="different shapes") as info:
        tensor([torch.zeros(2), torch.zeros(3)])
    assert isinstance(info.value, LayeredError) and isinstance(info.value, ValueError)
    with pytest.raises(TensorCreationError, match="str 'abc'"):
        tensor("abc")
    with pytest.raises(TensorCreationError, match="dtype <U1"):
        tensor(np.array(["a", "b"]))
