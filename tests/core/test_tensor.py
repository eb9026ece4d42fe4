import io
import pickle

import pytest
import torch

from layered.core.tensor import TensorBase, retain_type, retain_types, safe_tensor_types


class TImage(TensorBase):
    pass


class TMask(TImage):
    pass


def test_type_and_metadata_survive_operations():
    t = TImage(torch.ones(2, 3), img_size=(3, 2))
    for out in (
        t * 2,
        t + t,
        t[0],
        t[:, 1:],
        t.float(),
        t.clone(),
        t.to("cpu"),
        t.cpu(),
        t.sum(),
        torch.cat([t, t]),
        torch.stack([t, t]),
        t.max(dim=0).values,
        torch.relu(t),
        t.new_empty(3),
    ):
        assert type(out) is TImage
    assert (t * 2).img_size == (3, 2) and torch.cat([t, t]).img_size == (3, 2)
    assert type(t + TMask(torch.ones(2, 3))) is TMask  # the more derived type wins


def test_pickle_and_torch_save_with_weights_only():
    t = TImage(torch.arange(4.0), img_size=(2, 2))
    back = pickle.loads(pickle.dumps(t))
    assert type(back) is TImage and back.img_size == (2, 2) and torch.equal(back, t)
    f = io.BytesIO()
    torch.save({"x": t}, f)
    f.seek(0)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(f, weights_only=True)  # refused unless allowed explicitly
    f.seek(0)
    with safe_tensor_types():
        loaded = torch.load(f, weights_only=True)["x"]
    assert type(loaded) is TImage and loaded.img_size == (2, 2)


def test_retain_type():
    t = TImage(torch.zeros(2), img_size=1)
    assert type(retain_type(torch.ones(2), t)) is TImage
    assert retain_type(torch.ones(2), t, copy_meta=True).img_size == 1
    assert type(retain_type(torch.ones(2), 5)) is torch.Tensor  # unrelated types are left alone
    assert type(retain_type(torch.ones(2), typ=TMask)) is TMask
    out = retain_types((torch.ones(1), torch.ones(1)), (t, torch.zeros(1)))
    assert [type(o) for o in out] == [TImage, torch.Tensor]


def test_subclass_view_and_plain_view():
    t = TImage(torch.ones(2), img_size=4)
    plain = t.as_subclass(torch.Tensor)
    assert type(plain) is torch.Tensor
    assert t.as_subclass(TMask).img_size == 4
