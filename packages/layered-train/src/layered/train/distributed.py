"""Data-parallel training with `torch.distributed`: one process per device, launched by torchrun.

Inside `with distrib_ctx(learn):` the same training code runs on every process. The
`DistributedTrainer` callback then, for each fit:

- wraps the model in `DistributedDataParallel` (BatchNorm made `SyncBatchNorm` on GPUs), so the
  gradients of the ranks are averaged before every optimizer step;
- gives each rank its share of every loader (`DistributedDL`): all ranks take the order rank 0
  drew, and rank `r` of `W` keeps items `r, r + W, r + 2W, ...`, so with a per-rank batch of
  `B / W` the ranks' batches together are exactly the batches one process would draw with `B`;
- averages the loss of every training batch and sums the metrics' totals and counts (or gathers
  their stored predictions) at the end of each phase, so the Recorder shows what one process
  would.

Saving (`Learner.save`, `export`, `CheckpointCallback`) writes on rank 0 only, the others waiting
at a barrier. Outside a process group every helper here is a no-op, so the code needs no `if`.
"""

from __future__ import annotations

import contextlib
import copy
import os
import types
from collections.abc import Iterator
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import BatchSampler, IterableDataset, Sampler
from torch.utils.data import DataLoader as TorchDataLoader

from layered.train.callback import Callback
from layered.train.errors import TrainError
from layered.train.metrics.metric import AccumMetric

__all__ = [
    "DistributedDL",
    "DistributedTrainer",
    "barrier_distrib",
    "distrib_ctx",
    "num_distrib",
    "rank0_first",
    "rank_distrib",
    "setup_distrib",
    "teardown_distrib",
    "unwrap_model",
]

_LAUNCH_VARS = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def _initialized() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank_distrib() -> int:
    """This process's rank: from the process group, else torchrun's `RANK`, else 0."""
    return dist.get_rank() if _initialized() else int(os.environ.get("RANK", 0))


def num_distrib() -> int:
    """How many processes train together: the process group's size, else `WORLD_SIZE`, else 1."""
    return dist.get_world_size() if _initialized() else int(os.environ.get("WORLD_SIZE", 1))


def barrier_distrib() -> None:
    """Wait until every rank gets here (no-op outside a process group of more than one)."""
    if _initialized() and dist.get_world_size() > 1:
        dist.barrier()


def setup_distrib(gpu: int | None = None) -> bool:
    """Join the process group torchrun describes; returns True when this call created it.

    Does nothing when the group already exists or `WORLD_SIZE` is 1 or unset. On a machine with
    CUDA it first makes `gpu` (default `LOCAL_RANK`) the current device and uses NCCL; on the CPU
    it uses gloo.
    """
    if torch.cuda.is_available():
        gpu = int(os.environ.get("LOCAL_RANK", 0)) if gpu is None else gpu
        if not 0 <= gpu < torch.cuda.device_count():
            raise TrainError(f"setup_distrib: gpu={gpu}, but this machine has {torch.cuda.device_count()}")
        torch.cuda.set_device(gpu)
    if _initialized() or num_distrib() <= 1:
        return False
    missing = [v for v in _LAUNCH_VARS if v not in os.environ]
    if missing:
        raise TrainError(
            f"setup_distrib: WORLD_SIZE={os.environ['WORLD_SIZE']} but {missing} are not set; launch "
            "with torchrun, which sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT"
        )
    dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo", init_method="env://")
    return True


def teardown_distrib() -> None:
    """Leave and destroy the process group, once every rank is done (no-op without one)."""
    if _initialized():
        barrier_distrib()
        dist.destroy_process_group()


def unwrap_model(model: nn.Module) -> nn.Module:
    """The module inside a `DistributedDataParallel` or `DataParallel` wrapper (others unchanged)."""
    return model.module if isinstance(model, (DistributedDataParallel, nn.DataParallel)) else model


def _comm_device() -> torch.device:
    """Where tensors for collectives must live: the current GPU for NCCL, the CPU otherwise."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def _rank_share(order: list, pad: bool) -> list:
    """This rank's items of `order` as rank 0 drew it: every `W`-th one, from position `rank`.

    With `pad`, the order is first extended by its own start so every rank gets as many items.
    """
    order_t = torch.as_tensor(order, dtype=torch.long, device=_comm_device())
    dist.broadcast(order_t, src=0)
    order = order_t.tolist()
    world = dist.get_world_size()
    if pad and len(order) % world:
        extra = world - len(order) % world
        order = order + (order * (extra // max(len(order), 1) + 1))[:extra]
    return order[dist.get_rank() :: world]


def _share_len(n: int, pad: bool) -> int:
    world, rank = dist.get_world_size(), dist.get_rank()
    return -(-n // world) if pad else len(range(rank, n, world))


class _ShardSampler(Sampler):
    """A torch sampler yielding this rank's share of another sampler's order."""

    def __init__(self, sampler: Sampler, pad: bool):
        self.sampler, self.pad = sampler, pad

    def __iter__(self) -> Iterator[int]:
        return iter(_rank_share(list(self.sampler), self.pad))

    def __len__(self) -> int:
        return _share_len(len(self.sampler), self.pad)


class _RankIdxs:
    """A loader's `get_idxs` replaced by this rank's share of what the original returns (picklable)."""

    def __init__(self, full_idxs: Any, pad: bool):
        self.full_idxs, self.pad = full_idxs, pad

    def __call__(self) -> list:
        return _rank_share(list(self.full_idxs()), self.pad)


class DistributedDL:
    """This rank's share of a loader (a layered `DataLoader` or a `torch.utils.data.DataLoader`).

    Every epoch the full order is drawn as usual, rank 0's is broadcast, and this rank keeps
    items `rank, rank + W, ...`. With `pad` (used for training) the order is extended by its own
    first items so every rank has as many items and batches, which DDP needs; a few items are
    then seen twice per epoch unless the length divides evenly. Without `pad` (validation) no
    item is repeated and ranks may differ by one item, so summed metrics equal one process's.
    Other attributes (`dataset`, `bs`, `decode`, `show_batch`, ...) are the loader's.
    """

    def __init__(self, dl: Any, pad: bool = True):
        if not _initialized():
            raise TrainError("DistributedDL needs an initialised process group (see setup_distrib)")
        self.dl, self.pad = dl, pad
        self.loader = self._torch_share(dl) if isinstance(dl, TorchDataLoader) else self._layered_share(dl)

    def _layered_share(self, dl: Any) -> Any:
        if not hasattr(dl, "get_idxs") or not getattr(dl, "indexed", False):
            raise TrainError(
                f"DistributedDL: cannot shard a {type(dl).__name__} (expected a layered DataLoader over an "
                "indexed dataset, or a torch DataLoader with a sampler)"
            )
        share = dl.new()
        # keep whichever get_idxs the loader has (a subclass's or a keyword's), then take our share
        full = share.__dict__.get("get_idxs") or types.MethodType(type(share).get_idxs, share)
        share.get_idxs = _RankIdxs(full, self.pad)
        return share

    def _torch_share(self, dl: TorchDataLoader) -> TorchDataLoader:
        if isinstance(dl.dataset, IterableDataset) or dl.batch_size is None:
            raise TrainError(
                "DistributedDL: cannot shard a torch DataLoader over an IterableDataset or built with "
                "batch_sampler=; give it a dataset with len and a batch_size"
            )
        sampler = dl.batch_sampler.sampler if isinstance(dl.batch_sampler, BatchSampler) else dl.sampler
        return TorchDataLoader(
            dl.dataset,
            batch_size=dl.batch_size,
            sampler=_ShardSampler(sampler, self.pad),
            num_workers=dl.num_workers,
            collate_fn=dl.collate_fn,
            pin_memory=dl.pin_memory,
            drop_last=dl.drop_last,
            timeout=dl.timeout,
            worker_init_fn=dl.worker_init_fn,
            generator=dl.generator,
            persistent_workers=dl.persistent_workers,
        )

    def __len__(self) -> int:
        if isinstance(self.loader, TorchDataLoader):
            return len(self.loader)
        n, bs = _share_len(self.dl.n, self.pad), self.dl.bs
        if bs is None:
            return n
        return n // bs if self.dl.drop_last else -(-n // bs)

    def __iter__(self) -> Iterator:
        return iter(self.loader)

    def __getattr__(self, name: str) -> Any:
        if name in ("dl", "loader", "pad") or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.loader, name)

    def __repr__(self) -> str:
        return (
            f"DistributedDL(rank {dist.get_rank()} of {dist.get_world_size()}, pad={self.pad}, {self.dl!r})"
        )


def _all_reduce_sum(values: list[float]) -> list[float]:
    t = torch.tensor(values, dtype=torch.float64, device=_comm_device())
    dist.all_reduce(t)
    return t.tolist()


def _reduce_metric(m: Any) -> None:
    """Combine a metric's state over the ranks: add totals and counts, or gather stored predictions."""
    if isinstance(m, AccumMetric):
        parts: list = [None] * dist.get_world_size()
        mine = (torch.cat(m.preds), torch.cat(m.targs)) if m.preds else None
        dist.all_gather_object(parts, mine)
        m.preds = [p for p, _ in filter(None, parts)]
        m.targs = [t for _, t in filter(None, parts)]
    elif hasattr(m, "total") and hasattr(m, "count"):
        m.total, count = _all_reduce_sum([float(m.total), float(m.count)])
        m.count = round(count)


class DistributedTrainer(Callback):
    """Train with DDP for the duration of each fit: wrap the model, shard the loaders, combine results.

    `sync_bn` turns BatchNorm layers into `SyncBatchNorm` (GPU only: torch computes synced
    statistics on accelerators) sharing the same parameters and buffers. Other keyword
    arguments go to `DistributedDataParallel`. During validation the unwrapped model runs:
    no gradients are synced, so the ranks may hold different numbers of batches.
    """

    order = -20  # before TrainEvalCallback counts the (sharded) training batches

    def __init__(self, sync_bn: bool = True, **ddp_kwargs: Any):
        self.sync_bn, self.ddp_kwargs = sync_bn, ddp_kwargs
        self._saved: tuple | None = None  # the learner's own dls and model while a fit runs
        self._module: nn.Module | None = None
        self._ddp: DistributedDataParallel | None = None

    def before_fit(self):
        if not _initialized():
            raise TrainError("DistributedTrainer needs an initialised process group (use distrib_ctx)")
        dls, model = self.learn.dls, self.learn.model
        if not hasattr(dls, "loaders"):
            raise TrainError(
                f"DistributedTrainer: the learner's dls ({type(dls).__name__}) has no list of loaders; "
                "wrap the loaders in layered DataLoaders"
            )
        self._saved = (dls, model)
        sharded = copy.copy(dls)
        sharded.loaders = [DistributedDL(dl, pad=i == 0) for i, dl in enumerate(dls.loaders)]
        module = unwrap_model(model)
        on_gpu = any(p.is_cuda for p in module.parameters())
        if self.sync_bn and on_gpu:
            module = nn.SyncBatchNorm.convert_sync_batchnorm(module)
        device_ids = [torch.cuda.current_device()] if on_gpu else None
        self._module, self._ddp = (
            module,
            DistributedDataParallel(module, device_ids=device_ids, **self.ddp_kwargs),
        )
        self.learn.dls, self.learn.model = sharded, self._ddp

    def after_loss(self):
        if not self.training or self._saved is None or not len(self.learn.yb):
            return
        # the loss of the global batch: the ranks' means weighted by their batch sizes
        size = float(self.learn.yb[0].shape[0])
        total, count = _all_reduce_sum([float(self.learn.loss.float().mean()) * size, size])
        self.learn.loss = torch.tensor(
            total / count, dtype=self.learn.loss.dtype, device=self.learn.loss.device
        )

    def _phase_metrics(self, with_metrics_flag: str) -> list:
        recorder = getattr(self.learn, "recorder", None)
        if recorder is None or self._saved is None:
            return []
        return [recorder.loss, *(self.learn.metrics if getattr(recorder, with_metrics_flag) else [])]

    def after_train(self):
        for m in self._phase_metrics("train_metrics"):
            _reduce_metric(m)

    def before_validate(self):
        if self._saved is not None:
            self.learn.model = self._module

    def after_validate(self):
        if self._saved is None:
            return
        for m in self._phase_metrics("valid_metrics"):
            _reduce_metric(m)
        self.learn.model = self._ddp

    def after_fit(self):
        self.restore()

    def restore(self) -> None:
        """Put back the learner's own loaders and model (as trained); safe to call twice."""
        if self._saved is not None:
            self.learn.dls, self.learn.model = self._saved
            self._saved, self._module, self._ddp = None, None, None


@contextlib.contextmanager
def distrib_ctx(learn: Any, sync_bn: bool = True, gpu: int | None = None, **ddp_kwargs: Any):
    """Context manager: train `learn` data-parallel across the processes torchrun started.

    Joins the process group if needed (`setup_distrib`), places the data on this rank's GPU if
    there is one, and attaches a `DistributedTrainer`; on exit detaches it and leaves the group
    if it joined it here. In a single process it changes nothing.
    """
    created = setup_distrib(gpu)
    if num_distrib() <= 1:
        yield learn
        return
    if torch.cuda.is_available() and hasattr(learn.dls, "to"):
        learn.dls.to(torch.device("cuda", torch.cuda.current_device()))
    trainer = DistributedTrainer(sync_bn=sync_bn, **ddp_kwargs)
    learn.add_cbs(trainer)
    try:
        yield learn
    finally:
        trainer.restore()
        learn.remove_cbs(trainer)
        if created:
            teardown_distrib()


def rank0_first(func: Any, *args: Any, **kwargs: Any) -> Any:
    """`func(*args, **kwargs)` run by rank 0 first, then by the other ranks once it is done; returns its result.

    For data preparation under DDP (`untar_data`, caching a tokenized corpus): rank 0 downloads
    or builds, the others wait and then find the work done. In one process it just calls `func`.
    """
    if rank_distrib() == 0:
        result = func(*args, **kwargs)
        barrier_distrib()
        return result
    barrier_distrib()
    return func(*args, **kwargs)
