"""DDP on the CPU: 2 processes (gloo) with batches of B/2 train like 1 process with batches of B."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader as TorchDataLoader

from layered.core.seed import set_seed
from layered.data.dataloaders import DataLoaders
from layered.data.loader import DataLoader
from layered.train.callback import Callback
from layered.train.distributed import (
    DistributedDL,
    DistributedTrainer,
    distrib_ctx,
    num_distrib,
    rank0_first,
    rank_distrib,
    setup_distrib,
    unwrap_model,
)
from layered.train.errors import TrainError
from layered.train.learner import Learner
from layered.train.losses.flattened import CrossEntropyLossFlat
from layered.train.metrics.classification import accuracy
from layered.train.metrics.metric import AccumMetric

HERE = Path(__file__).parent
WORLD, GLOBAL_BS = 2, 16


def exact_accuracy(preds, targs):
    return (preds.argmax(-1) == targs).float().mean()


def make_learner(path, bs: int) -> Learner:
    """96 training items (shuffled, last partial batch dropped) and 33 validation items, 3 classes."""
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 3, (129,), generator=g)
    x = torch.randn(129, 5, generator=g) + y[:, None].float()
    x[:, 0] = torch.arange(129.0) / 128  # the item's index, so the test can see which items each batch held
    train = DataLoader((x[:96], y[:96]), bs=bs, shuffle=True, drop_last=True)
    valid = DataLoader((x[96:], y[96:]), bs=bs)
    set_seed(1)
    model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 3))
    metrics = [accuracy, AccumMetric(exact_accuracy, flatten=False, name="accum_accuracy")]
    learn = Learner(
        DataLoaders(train, valid, device="cpu"), model, CrossEntropyLossFlat(), metrics=metrics, path=path
    )
    learn.recorder.train_metrics = True
    learn.logger = lambda *a, **k: None
    learn.remove_cbs(learn.progress)
    return learn


def item_ids(x: torch.Tensor) -> list[int]:
    return (x[:, 0] * 128).round().long().tolist()


class BatchItems(Callback):
    """The item indices of every training batch of the first epoch, and the losses the Recorder saw."""

    def __init__(self):
        self.batches, self.losses = [], []

    def after_batch(self):
        if self.training and self.learn.epoch == 0:
            self.batches.append(item_ids(self.learn.xb[0]))
            self.losses.append(float(self.learn.loss))


def train(learn: Learner) -> BatchItems:
    items = BatchItems()
    set_seed(5)
    learn.fit_one_cycle(2, 2e-2, cbs=items)
    return items


def prepare_once(file: Path, rank: int) -> str:
    """Data preparation: the first caller writes its rank (rank 0 slowly); later callers find the file made."""
    if not file.exists():
        if rank == 0:
            time.sleep(0.5)  # a slow download: without rank0_first, rank 1 would write first
        file.write_text(str(rank))
    return file.read_text()


def worker_main(out: str) -> None:
    """One rank, started the way torchrun starts it (RANK, WORLD_SIZE, MASTER_ADDR, ... in the environment)."""
    torch.set_num_threads(1)
    rank = rank_distrib()
    learn = make_learner(Path(out), bs=GLOBAL_BS // WORLD)
    with distrib_ctx(learn):
        items = train(learn)
        learn.save(f"final_rank{rank}", with_opt=False)  # only rank 0 writes
        torch_share = list(DistributedDL(TorchDataLoader(range(11), batch_size=2)))
        valid_share = [item_ids(b[0]) for b in DistributedDL(learn.dls.valid, pad=False)]
        prepared = rank0_first(prepare_once, Path(out, "prepared.txt"), rank)
    result = {
        "values": learn.recorder.values,
        "batches": items.batches,
        "losses": items.losses,
        "model_after": type(learn.model).__name__,
        "train_batches_after": len(learn.dls.train),
        "torch_share": [b.tolist() for b in torch_share],
        "valid_share": valid_share,
        "prepared": prepared,
        "weights": {k: v.tolist() for k, v in learn.model.state_dict().items()},
    }
    Path(out, f"rank{rank}.json").write_text(json.dumps(result))


def flat(lists: list[list]) -> list:
    return [x for xs in lists for x in xs]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_single_process_helpers_change_nothing(tmp_path, monkeypatch):
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(var, raising=False)
    assert (rank_distrib(), num_distrib()) == (0, 1)
    assert setup_distrib() is False
    assert rank0_first(prepare_once, tmp_path / "prepared.txt", 0) == "0"  # one process: just a call
    learn = make_learner(tmp_path, bs=GLOBAL_BS)
    with distrib_ctx(learn) as same:
        assert same is learn and not any(isinstance(cb, DistributedTrainer) for cb in learn.cbs)
    wrapped = nn.parallel.DataParallel(learn.model)
    assert unwrap_model(wrapped) is learn.model and unwrap_model(learn.model) is learn.model
    with pytest.raises(TrainError, match="initialised process group"):
        DistributedDL(learn.dls.train)
    monkeypatch.setenv("WORLD_SIZE", "2")
    with pytest.raises(TrainError, match="RANK"):
        setup_distrib()


def test_two_gloo_processes_train_like_one_with_the_global_batch(tmp_path):
    port = free_port()
    code = f"import sys; sys.path.insert(0, {str(HERE)!r}); import test_distributed as t; t.worker_main({str(tmp_path)!r})"
    procs = []
    for rank in range(WORLD):
        env = {
            **os.environ,
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "WORLD_SIZE": str(WORLD),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
        }
        procs.append(
            subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE, text=True)
        )
    single = make_learner(tmp_path / "single", bs=GLOBAL_BS)
    single_items = train(single)  # meanwhile, one process on the global batch
    for rank, p in enumerate(procs):
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, f"rank {rank} failed:\n{err}"
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(WORLD)]

    # each global batch is split between the ranks: disjoint halves of the batch one process draws
    assert len(ranks[0]["batches"]) == len(ranks[1]["batches"]) == len(single_items.batches) == 6
    for j, batch in enumerate(single_items.batches):
        halves = [r["batches"][j] for r in ranks]
        assert len(halves[0]) == len(halves[1]) == GLOBAL_BS // WORLD
        assert sorted(halves[0] + halves[1]) == sorted(batch)
    # the recorded batch losses are the global batch's, on every rank
    for r in ranks:
        assert r["losses"] == pytest.approx(single_items.losses, abs=1e-5)
    # same weights as one process, and the same on both ranks
    for name, p in single.model.state_dict().items():
        for r in ranks:
            assert torch.allclose(torch.tensor(r["weights"][name]), p, atol=1e-5), name
    # losses and metrics (averaged, and gathered for AccumMetric) equal one process's
    expected = [x for v in single.recorder.values for x in v]
    for r in ranks:
        assert flat(r["values"]) == pytest.approx(expected, abs=1e-5)
    # validation shards: disjoint, no padding, together the whole set (17 and 16 items)
    valid = [flat(r["valid_share"]) for r in ranks]
    assert (len(valid[0]), len(valid[1])) == (17, 16) and sorted(valid[0] + valid[1]) == list(range(96, 129))
    # a torch loader's share: every other item, padded from the start so both ranks get 6
    assert flat(ranks[0]["torch_share"]) == [0, 2, 4, 6, 8, 10]
    assert flat(ranks[1]["torch_share"]) == [1, 3, 5, 7, 9, 0]
    # after the fit, the learner's own model and loaders are back; only rank 0 saved
    assert ranks[1]["model_after"] == "Sequential" and ranks[1]["train_batches_after"] == 12
    assert (tmp_path / "models" / "final_rank0.safetensors").exists()
    assert not (tmp_path / "models" / "final_rank1.safetensors").exists()
    # rank0_first: rank 0 prepared the data, rank 1 waited and found it made
    assert [r["prepared"] for r in ranks] == ["0", "0"]
