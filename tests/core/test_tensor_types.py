import copy
import io
import pickle

import numpy as np
import pytest
import torch

from layered.core.tensor_types import (
    TensorBase,
    TensorTypeError,
    register_safe_tensor_types,
    retain_type,
    retain_types,
    safe_tensor_types,
)


class TImage(TensorBase):
    pass


class TMask(TImage):
    pass


class TPoints(TensorBase):
    pass


class Label(str):
    pass


def image(**meta) -> TImage:
    return TImage(torch.arange(6.0).reshape(2, 3), **meta)


def test_construction_from_tensors_lists_and_arrays():
    base = torch.ones(2)
    t = TImage(base, img_size=(1, 2))
    assert type(t) is TImage and t.img_size == (1, 2)
    t[0] = 5
    assert base[0] == 5  # a view, not a copy
    assert TImage([1, 2]).tolist() == [1, 2] and TImage([1, 2]).dtype == torch.int64
    assert TImage(np.zeros(3, dtype=np.float32)).dtype == torch.float32
    assert TImage().shape == (0,)
    assert TMask(t).img_size == (1, 2)  # another semantic tensor's metadata is kept


OPS = {
    "mul": lambda t: t * 2,
    "radd": lambda t: 1 + t,
    "add self": lambda t: t + t,
    "index": lambda t: t[0],
    "slice": lambda t: t[:, 1:],
    "bool mask": lambda t: t[t > 2],
    "float": lambda t: t.float(),
    "double": lambda t: t.double(),
    "long": lambda t: t.long(),
    "clone": lambda t: t.clone(),
    "to device": lambda t: t.to("cpu"),
    "to dtype": lambda t: t.to(torch.float16),
    "to meta device": lambda t: t.to("meta"),
    "cpu": lambda t: t.cpu(),
    "contiguous": lambda t: t.t().contiguous(),
    "detach": lambda t: t.detach(),
    "sum": lambda t: t.sum(),
    "mean dim": lambda t: t.mean(dim=0),
    "view": lambda t: t.view(3, 2),
    "reshape": lambda t: t.reshape(-1),
    "permute": lambda t: t.permute(1, 0),
    "unsqueeze": lambda t: t.unsqueeze(0),
    "relu": torch.relu,
    "matmul": lambda t: t @ t.T,
    "where": lambda t: torch.where(t > 1, t, torch.zeros_like(t)),
    "cat": lambda t: torch.cat([t, t]),
    "stack": lambda t: torch.stack([t, t]),
    "new_empty": lambda t: t.new_empty(3),
    "new_tensor": lambda t: t.new_tensor([1.0]),
    "new_ones": lambda t: t.new_ones(2),
    "zeros_like": torch.zeros_like,
}


@pytest.mark.parametrize("name", list(OPS))
def test_type_and_metadata_survive_operations(name):
    t = image(img_size=(3, 2))
    out = OPS[name](t)
    assert type(out) is TImage, name
    assert out.img_size == (3, 2), name


def test_values_are_those_of_plain_tensors():
    t, plain = image(), torch.arange(6.0).reshape(2, 3)
    assert torch.equal((t * 2 + 1).as_subclass(torch.Tensor), plain * 2 + 1)
    assert (t @ t.T).as_subclass(torch.Tensor).tolist() == (plain @ plain.T).tolist()


def test_tuple_results_non_tensor_results_and_in_place_ops():
    t = image(img_size=1)
    values, indices = t.max(dim=0)
    assert type(values) is TImage and type(indices) is TImage and values.img_size == 1
    assert type(t.max(dim=0)).__name__ == "max" and t.max(dim=0).values.tolist() == [3.0, 4.0, 5.0]
    parts = t.split(1)
    assert isinstance(parts, tuple) and all(type(p) is TImage for p in parts)
    assert type(t.shape) is torch.Size and t.shape == (2, 3)
    assert t.dtype == torch.float32 and t.dim() == 2 and t.sum().item() == 15.0
    assert t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    same = t.add_(1)
    assert same is t and t[0, 0] == 1.0


def test_metadata_is_a_shallow_copy():
    sizes = [3, 2]
    t = image(img_size=sizes)
    out = t * 2
    assert out.img_size is sizes  # the values are shared ...
    out.img_size = (9, 9)
    out.extra = True
    assert t.img_size is sizes and not hasattr(t, "extra")  # ... the attribute dict is not


def test_mixing_semantic_types_follows_the_documented_rule():
    img, pts = image(img_size=1), TPoints(torch.ones(2, 3), n=2)
    mask = TMask(torch.ones(2, 3), kind="mask")
    # unrelated classes: the leftmost argument's type and metadata
    assert type(img + pts) is TImage and (img + pts).img_size == 1
    assert type(pts + img) is TPoints and (pts + img).n == 2
    # a subclass wins over its base, with its own metadata
    out = img + mask
    assert type(out) is TMask and out.kind == "mask"
    # a plain tensor never wins
    assert type(torch.ones(2, 3) + img) is TImage and (torch.ones(2, 3) + img).img_size == 1
    assert type(torch.cat([torch.ones(1, 3), img])) is TImage


def test_autograd_flows_through_semantic_tensors():
    w = TImage(torch.ones(3), tag="w").requires_grad_()
    loss = (w * torch.tensor([1.0, 2.0, 3.0])).sum()
    assert type(loss) is TImage
    loss.backward()
    assert type(w.grad) is torch.Tensor  # torch's nowrap rule: gradients stay plain
    assert w.grad.tolist() == [1.0, 2.0, 3.0]


def test_as_subclass_and_plain_views():
    t = image(img_size=4)
    plain = t.as_subclass(torch.Tensor)
    assert type(plain) is torch.Tensor and plain.__dict__ == {}
    mask = t.as_subclass(TMask)
    assert type(mask) is TMask and mask.img_size == 4


def test_pickle_and_deepcopy_keep_type_metadata_and_grad_flag():
    t = image(img_size=(2, 3))
    for back in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t)):
        assert type(back) is TImage and back.img_size == (2, 3) and torch.equal(back, t)
        assert back.data_ptr() != t.data_ptr()
    w = TImage(torch.ones(2), tag=[1]).requires_grad_()
    back = pickle.loads(pickle.dumps(w))
    assert back.requires_grad and back.is_leaf and back.tag == [1]
    deep = copy.deepcopy(w)
    assert deep.requires_grad and deep.tag == [1] and deep.tag is not w.tag


def test_torch_save_and_weights_only_load_need_an_explicit_allow_list():
    t = image(img_size=(2, 3))
    buf = io.BytesIO()
    torch.save({"x": t, "plain": torch.ones(1)}, buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(buf, weights_only=True)  # nothing is allowed at import
    buf.seek(0)
    with safe_tensor_types():
        loaded = torch.load(buf, weights_only=True)
    assert type(loaded["x"]) is TImage and loaded["x"].img_size == (2, 3)
    assert torch.equal(loaded["x"], t) and type(loaded["plain"]) is torch.Tensor
    buf.seek(0)
    with safe_tensor_types(TPoints), pytest.raises(pickle.UnpicklingError, match="TImage"):
        torch.load(buf, weights_only=True)  # only the classes named are allowed
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(buf, weights_only=True)  # the context manager left nothing behind


def test_register_safe_tensor_types_is_explicit_and_process_wide():
    before = torch.serialization.get_safe_globals()
    assert not any(getattr(g, "__name__", "") == "_rebuild_semantic_tensor" for g in before)
    buf = io.BytesIO()
    torch.save(TMask(torch.ones(2), kind="m"), buf)
    try:
        added = register_safe_tensor_types(TMask)
        assert TMask in added and TImage not in added
        buf.seek(0)
        loaded = torch.load(buf, weights_only=True)
        assert type(loaded) is TMask and loaded.kind == "m"
    finally:
        torch.serialization.clear_safe_globals()
        torch.serialization.add_safe_globals(before)


def test_only_semantic_tensor_classes_can_be_allow_listed():
    with pytest.raises(TensorTypeError, match="expected a TensorBase subclass"):
        register_safe_tensor_types(torch.Tensor)
    with pytest.raises(TypeError, match="cannot allow-list 'x'"), safe_tensor_types("x"):
        pass


def test_repr_shows_the_type_and_metadata():
    assert repr(TImage(torch.tensor([1, 2]), img_size=(1, 2))) == "TImage(tensor([1, 2]), img_size=(1, 2))"


def test_retain_type_casts_to_a_subclass_only():
    t = image(img_size=1)
    assert type(retain_type(torch.ones(2), t)) is TImage
    assert not hasattr(retain_type(torch.ones(2), t), "img_size")  # no metadata unless asked
    assert retain_type(torch.ones(2), t, copy_meta=True).img_size == 1
    assert type(retain_type(torch.ones(2), typ=TMask)) is TMask
    assert type(retain_type(TPoints(torch.ones(1)), t)) is TPoints  # not a subclass: unchanged
    assert type(retain_type(torch.ones(2), 5)) is torch.Tensor
    assert retain_type(torch.ones(2)) is not None and retain_type(None, t) is None
    own = TImage(torch.ones(1), own=True)
    assert retain_type(own, typ=TMask).own  # a semantic tensor keeps its own metadata
    same = TImage(torch.ones(1))
    assert retain_type(same, t, copy_meta=True) is same and same.img_size == 1  # in place


def test_retain_type_on_other_objects():
    assert type(retain_type("cat", Label("dog"))) is Label and retain_type("cat", Label("dog")) == "cat"
    assert retain_type(5, True) == 5 and type(retain_type(5, True)) is int  # builtins are never cast
    assert retain_type(3, "x") == 3 and retain_type(1.5, typ=Label) == 1.5


def test_retain_types_works_element_wise_and_recursively():
    t, p = image(), TPoints(torch.zeros(1))
    out = retain_types(
        (torch.ones(1), torch.ones(1), (torch.ones(1), "a")), (t, torch.zeros(1), (p, Label("b")))
    )
    assert [type(o) for o in out[:2]] == [TImage, torch.Tensor]
    assert type(out[2][0]) is TPoints and type(out[2][1]) is Label
    out = retain_types((torch.ones(1), (torch.ones(1),)), typs=(TMask, (TPoints,)))
    assert type(out[0]) is TMask and type(out[1][0]) is TPoints
    assert type(retain_types(torch.ones(1), t)) is TImage
    assert retain_types((1, 2)) == (1, 2)
