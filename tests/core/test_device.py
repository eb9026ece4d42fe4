from collections import namedtuple

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from layered.core.device import default_device, set_default_device, to_cpu, to_detach, to_device, to_float
from layered.core.errors import LayeredError

Batch = namedtuple("Batch", "x y")


class Marked(torch.Tensor):
    """A stand-in for a semantic tensor type."""


def test_default_device_choice():
    best = default_device()
    if torch.cuda.is_available():
        assert best.type == "cuda"
    else:
        assert best.type in ("cpu", "mps")
    assert default_device(False) == torch.device("cpu")
    assert default_device("cpu") == torch.device("cpu")
    assert default_device(torch.device("meta")) == torch.device("meta")
    set_default_device(False)
    try:
        assert default_device() == torch.device("cpu")
        assert default_device(True) == best  # an explicit choice wins over the default
    finally:
        set_default_device(None)
    assert default_device() == best


def test_bad_device_choice_is_refused():
    with pytest.raises(LayeredError, match="found int"):
        default_device(3)
    with pytest.raises(LayeredError, match="found list"):
        set_default_device(["cpu"])


def test_to_device_keeps_structure_and_subclasses():
    m = torch.ones(2).as_subclass(Marked)
    b = Batch(m, [torch.arange(3), {"h": torch.ones(1)}, "tag"])
    out = to_device(b, "meta")
    assert isinstance(out, Batch) and isinstance(out.y, list) and isinstance(out.y[1], dict)
    assert type(out.x) is Marked and out.x.device.type == "meta" and out.y[0].device.type == "meta"
    assert out.y[2] == "tag"
    # meta tensors hold no data to copy back, so to_cpu is checked on CPU input
    back = to_cpu(Batch(m, [torch.arange(3)]))
    assert isinstance(back, Batch) and type(back.x) is Marked and back.y[0].tolist() == [0, 1, 2]


def test_to_device_defaults_to_default_device():
    set_default_device("meta")
    try:
        assert to_device((torch.zeros(1),))[0].device.type == "meta"
    finally:
        set_default_device(None)


def test_to_detach_cuts_the_graph():
    w = torch.ones(2, requires_grad=True)
    b = {"pred": w * 2, "rest": (w.sum().as_subclass(Marked),)}
    out = to_detach(b)
    assert not out["pred"].requires_grad and out["pred"].grad_fn is None
    assert out["pred"].tolist() == [2.0, 2.0] and out["pred"].device.type == "cpu"
    assert type(out["rest"][0]) is Marked and not out["rest"][0].requires_grad
    # no process group is running, so gather is a no-op
    assert torch.equal(to_detach(b, gather=True)["pred"], out["pred"])
    assert to_detach(to_device(b, "meta"), cpu=False)["pred"].device.type == "meta"


def test_to_float_only_touches_floating_tensors():
    b = (
        torch.ones(2, dtype=torch.float64),
        [torch.arange(3)],
        {"h": torch.ones(1, dtype=torch.float16)},
        torch.tensor([True]),
    )
    out = to_float(b)
    assert out[0].dtype == torch.float32 and out[2]["h"].dtype == torch.float32
    assert out[1][0].dtype == torch.int64 and out[3].dtype == torch.bool


def _gather_worker(rank: int, store: str, results) -> None:
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=2)
    try:
        # rank 0 holds 2 rows, rank 1 holds 3: uneven shards must still come back whole, in rank order
        x = torch.full((rank + 2, 2), float(rank), requires_grad=True) * 1
        b = {"x": x, "n": torch.tensor(rank + 10), "lbl": torch.arange(rank + 2)}
        out = to_detach(b, gather=True)
        results.put((rank, out["x"].tolist(), out["n"].tolist(), out["lbl"].tolist(), out["x"].requires_grad))
    finally:
        dist.destroy_process_group()


def test_to_detach_gathers_across_processes(tmp_path):
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    store = str(tmp_path / "store")
    mp.start_processes(_gather_worker, args=(store, results), nprocs=2, start_method="spawn")
    got = sorted(results.get(timeout=30) for _ in range(2))
    expected_x = [[0.0, 0.0]] * 2 + [[1.0, 1.0]] * 3
    for _rank, x, n, lbl, grad in got:
        assert x == expected_x and n == [10, 11] and lbl == [0, 1, 0, 1, 2] and grad is False
