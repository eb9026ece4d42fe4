"""The Learner: one training loop that never changes, driven by callbacks.

`fit` runs epochs of training batches and validation batches and calls an event at every step
(see `layered.train.callback.EVENTS`). Everything else — progress bars, schedules, metrics,
mixed precision, checkpoints — is a callback that reads and changes the learner's state.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import torch
from torch import nn

from layered.core.attributes import store_attr
from layered.core.delegation import delegates
from layered.core.device import default_device, to_device
from layered.core.item_errors import short_repr
from layered.core.registry import register_serializable
from layered.train.callback import (
    Callback,
    CancelBackwardException,
    CancelBatchException,
    CancelEpochException,
    CancelFitException,
    CancelStepException,
    CancelTrainException,
    CancelValidException,
    event_handlers,
    sort_callbacks,
)
from layered.train.callbacks.bs_finder import SuggestedBS, bs_find
from layered.train.callbacks.lr_finder import LRFinder, SuggestedLRs, valley
from layered.train.callbacks.mc_dropout import mc_dropout_preds
from layered.train.callbacks.mixed_precision import to_bf16, to_fp16, to_fp32
from layered.train.callbacks.param_scheduler import ParamScheduler
from layered.train.callbacks.progress import ProgressCallback
from layered.train.callbacks.recorder import Recorder
from layered.train.callbacks.train_eval import TrainEvalCallback
from layered.train.distributed import barrier_distrib, distrib_ctx, rank_distrib, unwrap_model
from layered.train.errors import TrainError
from layered.train.gather import GatherPredsCallback
from layered.train.losses.default import default_loss, target_type
from layered.train.metrics.metric import mk_metric
from layered.train.nn.summary import model_summary
from layered.train.optim.algorithms import Adam
from layered.train.optim.param_groups import expand_lr, norm_bias_params, norm_params, trainable_params
from layered.train.optim.schedule import flat_cos_scheds, one_cycle_scheds, sgdr_scheds
from layered.train.saving.export import export_learner, read_learner
from layered.train.saving.state_file import load_weights, read_state, write_state
from layered.train.test_time_augmentation import tta
from layered.train.training_loop import show_training_loop

__all__ = ["MODEL_FORMAT", "Learner", "load_learner"]


def _refuse_non_finite(item, inputs) -> None:
    """Raise when the model's input made from `item` holds NaN or inf: its prediction would mean nothing."""
    for k, t in enumerate(_tuple(inputs)):
        if isinstance(t, torch.Tensor) and t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise TrainError(
                f"predict: input {k} made from the item {short_repr(item)} holds non-finite values "
                "(NaN or inf); fill or drop them before predicting"
            )


def _tuple(x) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


MODEL_FORMAT = "layered-model"  # the `format` of the files `Learner.save` writes


@register_serializable(reference=True)  # exports name the learner's class, never rebuild its state
class Learner:
    """Train `model` on `dls` with `loss_func`, an optimizer from `opt_func`, callbacks and metrics.

    `dls` is a layered `DataLoaders` or anything with `.train` and `.valid` iterables of batches
    (two plain `torch.utils.data.DataLoader`s wrapped in `DataLoaders` work). A batch is a tuple
    whose first `n_inp` items are the model's inputs and the rest its targets. The loss defaults
    to `default_loss(dls)`: the one the data names (`dls.loss_func`), else the one registered for
    the type of its targets (`register_default_loss`).
    """

    def __init__(
        self,
        dls,
        model: nn.Module,
        loss_func: Callable | None = None,
        opt_func: Callable = Adam,
        lr: float | slice = 1e-3,
        splitter: Callable = trainable_params,
        cbs: Iterable[Callback] | None = None,
        metrics=None,
        path: str | Path | None = None,
        model_dir: str | Path = "models",
        wd: float | None = None,
        wd_bn_bias: bool = False,
        train_bn: bool = True,
        moms: tuple = (0.95, 0.85, 0.95),
        default_cbs: bool = True,
    ):
        self.dls, self.model = dls, model
        self.loss_func = self._infer_loss(loss_func)
        store_attr("opt_func, lr, splitter, model_dir, wd, wd_bn_bias, train_bn, moms")
        self.path = Path(path if path is not None else getattr(dls, "path", "."))
        self.metrics = [
            mk_metric(m)
            for m in (metrics if isinstance(metrics, (list, tuple)) else [metrics])
            if m is not None
        ]
        self.opt, self.training, self.epoch, self.n_epoch = None, False, 0, 1
        self.train_iter, self.pct_train, self.iter, self.n_iter = 0, 0.0, 0, 0
        self.xb, self.yb, self.pred, self.loss = (), (), None, None
        self.logger = print
        self.cbs: list[Callback] = []
        self._event_cbs: dict[str, tuple[bool, list]] = {}  # event -> event_handlers(cbs, event)
        defaults = [TrainEvalCallback(), Recorder(), ProgressCallback()] if default_cbs else []
        self.add_cbs(defaults + _list(cbs))
        self("after_create")

    # ---- data, device and loss -------------------------------------------------------------
    def _infer_loss(self, loss_func):
        if loss_func is not None:
            return loss_func
        inferred = default_loss(self.dls)
        if inferred is None:
            kind = target_type(self.dls)
            found = "no targets it can see" if kind is None else f"targets of type {kind.__name__}"
            raise TrainError(
                f"Learner could not infer a loss function: the data names none and has {found}, for "
                "which no default loss is registered (register_default_loss). Pass loss_func=..., e.g. "
                "CrossEntropyLossFlat() for classification."
            )
        return inferred

    @property
    def device(self) -> torch.device:
        """Where the model and batches live: the data's device, or the best available one."""
        return getattr(self.dls, "device", None) or default_device()

    @property
    def smooth_loss(self) -> float:
        """The smoothed training loss so far, from the Recorder (NaN without one or before any batch).

        Reading it waits for the device: the Recorder keeps batch losses there until asked.
        """
        recorder = getattr(self, "recorder", None)
        return recorder.smooth_value if recorder is not None else float("nan")

    @property
    def n_inp(self) -> int:
        """How many items of a batch are model inputs (the rest are targets)."""
        return getattr(self.dls, "n_inp", 1)

    def _split(self, b) -> None:
        b = _tuple(b)
        i = self.n_inp if len(b) > 1 else 1
        self.xb, self.yb = b[:i], b[i:]

    # ---- callbacks ------------------------------------------------------------------------
    def __call__(self, event: str) -> None:
        # What `event` calls is resolved once per event (add_cbs/remove_cbs reset it); the phase
        # check of `Callback.__call__` is made here, a call fewer per callback in the loop.
        resolved = self._event_cbs.get(event)
        if resolved is None:
            resolved = self._event_cbs[event] = event_handlers(self.cbs, event)
        always, handlers = resolved
        if not handlers:
            return
        training = self.training
        for cb, method in handlers:
            if method is None:
                cb(event)
            elif always or (cb.run_train if training else cb.run_valid):
                method(cb)

    def add_cbs(self, cbs) -> Learner:
        """Add callbacks (instances or classes) and re-validate the order; returns self."""
        for cb in cbs if isinstance(cbs, (list, tuple)) else [cbs]:
            cb = cb() if isinstance(cb, type) else cb
            if not isinstance(cb, Callback):
                raise TrainError(f"{cb!r} is not a Callback (callbacks derive from layered.train.Callback)")
            existing = getattr(self, cb.name, None)
            if isinstance(existing, Callback) and existing in self.cbs:
                raise TrainError(f"a callback named {cb.name!r} is already attached ({existing!r})")
            cb.learn = self
            setattr(self, cb.name, cb)
            self.cbs.append(cb)
        self.cbs = sort_callbacks(self.cbs)
        self._event_cbs.clear()
        return self

    add_cb = add_cbs

    def remove_cbs(self, cbs) -> Learner:
        """Remove callbacks given as instances or classes (all instances of a class); returns self."""
        for ref in cbs if isinstance(cbs, (list, tuple)) else [cbs]:
            for cb in [c for c in self.cbs if c is ref or (isinstance(ref, type) and isinstance(c, ref))]:
                self.cbs.remove(cb)
                if getattr(self, cb.name, None) is cb:
                    delattr(self, cb.name)
                cb.learn = None
        self._event_cbs.clear()
        return self

    remove_cb = remove_cbs

    @contextlib.contextmanager
    def added_cbs(self, cbs):
        """Context manager: callbacks attached for the duration of the block only."""
        cbs = [c() if isinstance(c, type) else c for c in (cbs if isinstance(cbs, (list, tuple)) else [cbs])]
        cbs = [c for c in cbs if c is not None]
        self.add_cbs(cbs)
        try:
            yield self
        finally:
            self.remove_cbs(cbs)

    @contextlib.contextmanager
    def removed_cbs(self, cbs):
        """Context manager: callbacks detached for the duration of the block, then put back."""
        cbs = [
            c
            for c in self.cbs
            if any(
                c is r or (isinstance(r, type) and isinstance(c, r))
                for r in (cbs if isinstance(cbs, (list, tuple)) else [cbs])
            )
        ]
        self.remove_cbs(cbs)
        try:
            yield self
        finally:
            self.add_cbs(cbs)

    def no_bar(self):
        """Context manager: train without the progress bar (the results still go to `logger`)."""
        return self.removed_cbs(ProgressCallback)

    def no_logging(self):
        """Context manager: neither progress bar nor printed results."""
        stack = contextlib.ExitStack()
        stack.enter_context(self.no_bar())
        old, self.logger = self.logger, _silent
        stack.callback(setattr, self, "logger", old)
        return stack

    # ---- optimizer, parameter groups and freezing -----------------------------------------
    def create_opt(self) -> None:
        """Build the optimizer over the splitter's parameter groups."""
        groups = self.splitter(self.model)
        self.opt = self.opt_func(groups, lr=self.lr if not isinstance(self.lr, slice) else self.lr.stop)
        if hasattr(self.opt, "mark_norm_params"):
            self.opt.mark_norm_params(norm_params(self.model) if self.train_bn else [])
        if not self.wd_bn_bias and hasattr(self.opt, "skip_wd"):
            self.opt.skip_wd(norm_bias_params(self.model))
        self.opt.set_hyper("lr", expand_lr(self.lr, len(self.opt.hypers)))

    def _ensure_opt(self):
        if self.opt is None:
            self.create_opt()

    def freeze_to(self, n: int) -> None:
        """Train only the parameter groups from `n` on (norm layers stay trainable if `train_bn`)."""
        self._ensure_opt()
        self.opt.freeze_to(n)
        self.opt.clear_state()

    def freeze(self) -> None:
        """Train only the last parameter group (typically the head)."""
        self.freeze_to(-1)

    def unfreeze(self) -> None:
        """Train every parameter group."""
        self.freeze_to(0)

    # ---- the training loop ----------------------------------------------------------------
    def _with_events(self, f: Callable, name: str, exc: type[Exception], final: Callable | None = None):
        before, after_cancel, after = _event_names(name)
        try:
            self(before)
            f()
        except exc:
            self(after_cancel)
        self(after)
        if final is not None:
            final()

    def fit(
        self,
        n_epoch: int,
        lr=None,
        wd=None,
        cbs=None,
        reset_opt: bool = False,
        start_epoch: int = 0,
        resume_from: str | Path | None = None,
    ) -> None:
        """Train for `n_epoch` epochs at a constant `lr` (default `self.lr`).

        `resume_from`: a file written by `CheckpointCallback` during this same fit call; training
        continues exactly where it was interrupted.
        """
        if resume_from is not None:
            from layered.train.saving.checkpoint import (
                ResumeCallback,  # the checkpoint module imports this one
            )

            cbs = [*_list(cbs), ResumeCallback(resume_from)]
        with self.added_cbs(cbs or []):
            if reset_opt or self.opt is None:
                self.create_opt()
            if wd is None:
                wd = self.wd
            if wd is not None:
                self.opt.set_hyper("wd", wd)
            self.opt.set_hyper("lr", expand_lr(self.lr if lr is None else lr, len(self.opt.hypers)))
            self.n_epoch, self.epoch = n_epoch, start_epoch
            self._check_not_empty()
            self.model.to(self.device)
            try:
                self._with_events(self._do_fit, "fit", CancelFitException, self._end_cleanup)
            except BaseException:
                # interrupted (Ctrl-C, an error): leave the model as after a fit, in evaluation mode
                self.model.eval()
                self.training = False
                raise

    def _check_not_empty(self) -> None:
        """Refuse to fit on a training loader that gives no batch (it would return silently, having learned nothing)."""
        train = self.dls.train if hasattr(self.dls, "train") else None
        try:
            n = len(train)
        except TypeError:  # a loader of unknown length: its batches will tell
            return
        if n == 0:
            size = (
                len(train.dataset) if hasattr(train, "dataset") and hasattr(train.dataset, "__len__") else "?"
            )
            raise TrainError(
                f"fit: the training loader makes no batch ({size} items, bs={getattr(train, 'bs', '?')}, "
                f"drop_last={getattr(train, 'drop_last', '?')}); expected at least one batch"
            )

    def _do_fit(self) -> None:
        for epoch in range(self.epoch, self.n_epoch):
            self.epoch = epoch
            self._with_events(self._do_epoch, "epoch", CancelEpochException)

    def _do_epoch(self) -> None:
        self.dl = self.dls.train
        self._with_events(self._all_batches, "train", CancelTrainException)
        self._do_validate()

    def _do_validate(self, dl=None) -> None:
        self.dl = self.dls.valid if dl is None else dl
        with torch.no_grad():
            self._with_events(self._all_batches, "validate", CancelValidException)

    def _all_batches(self) -> None:
        self.n_iter = len(self.dl) if hasattr(self.dl, "__len__") else 0
        # batches of a loader that already places them on our device need no second walk
        placed = getattr(self.dl, "device", None) == self.device
        # a loader resumed mid-epoch (layered.train.saving.checkpoint) starts at the batch it stopped at
        for i, b in enumerate(self.dl, getattr(self.dl, "first_iter", 0)):
            self.one_batch(i, b, placed)

    def one_batch(self, i: int, b, placed: bool = False) -> None:
        """Run batch `b` (number `i`): forward, loss and, when training, backward and optimizer step.

        `placed=True` says `b` is already on the learner's device.
        """
        # the batch, backward and step events are written out rather than run through
        # `_with_events`: this is the loop's innermost code, and every call here costs each batch
        self.iter = i
        self._split(b if placed else to_device(b, self.device))
        try:
            self("before_batch")
            self._do_one_batch()
        except CancelBatchException:
            self("after_cancel_batch")
        self("after_batch")

    def _do_one_batch(self) -> None:
        self.pred = self.model(*self.xb)
        self("after_pred")
        if self.yb:
            self.loss_grad = self.loss_func(self.pred, *self.yb)
            self.loss = self.loss_grad.detach()  # read by the Recorder in batches: no sync here
        self("after_loss")
        if not self.training or not self.yb:
            return
        try:
            self("before_backward")
            self.loss_grad.backward()
        except CancelBackwardException:
            self("after_cancel_backward")
        self("after_backward")
        try:
            self("before_step")
            self.opt.step()
        except CancelStepException:
            self("after_cancel_step")
        self("after_step")
        self.opt.zero_grad()

    def _end_cleanup(self) -> None:
        self.dl, self.xb, self.yb, self.pred, self.loss = None, (), (), None, None
        self.loss_grad = None

    # ---- schedules ------------------------------------------------------------------------
    def _group_lrs(self, lr) -> np.ndarray:
        self._ensure_opt()
        return expand_lr(self.lr if lr is None else lr, len(self.opt.hypers))

    def fit_one_cycle(
        self,
        n_epoch: int,
        lr_max=None,
        div: float = 25.0,
        div_final: float = 1e5,
        pct_start: float = 0.25,
        wd=None,
        moms=None,
        cbs=None,
        reset_opt=False,
        start_epoch=0,
        resume_from=None,
    ):
        """1cycle: lr warms up from `lr_max/div` then anneals (cosine) to `lr_max/div_final`; momentum opposite."""
        lr_max = self._group_lrs(lr_max)
        scheds = one_cycle_scheds(
            lr_max, div=div, div_final=div_final, pct_start=pct_start, moms=moms or self.moms
        )
        self.fit(
            n_epoch,
            lr_max,
            wd=wd,
            cbs=[ParamScheduler(scheds), *_list(cbs)],
            reset_opt=reset_opt,
            start_epoch=start_epoch,
            resume_from=resume_from,
        )

    def fit_flat_cos(
        self,
        n_epoch: int,
        lr=None,
        pct_start: float = 0.75,
        wd=None,
        cbs=None,
        reset_opt=False,
        start_epoch=0,
        resume_from=None,
    ):
        """Constant `lr` for `pct_start` of training, then cosine annealing to zero."""
        lr = self._group_lrs(lr)
        self.fit(
            n_epoch,
            lr,
            wd=wd,
            cbs=[ParamScheduler(flat_cos_scheds(lr, pct_start=pct_start)), *_list(cbs)],
            reset_opt=reset_opt,
            start_epoch=start_epoch,
            resume_from=resume_from,
        )

    def fit_sgdr(
        self,
        n_cycles: int,
        cycle_len: int,
        lr_max=None,
        cycle_mult: int = 2,
        wd=None,
        cbs=None,
        reset_opt=False,
        resume_from=None,
    ):
        """SGD with warm restarts: `n_cycles` cosine cycles, each `cycle_mult` times longer than the last."""
        lr_max = self._group_lrs(lr_max)
        n_epoch = (
            cycle_len * (cycle_mult**n_cycles - 1) // (cycle_mult - 1)
            if cycle_mult != 1
            else cycle_len * n_cycles
        )
        scheds = sgdr_scheds(n_cycles, cycle_len, lr_max, cycle_mult=cycle_mult)
        self.fit(
            n_epoch,
            lr_max,
            wd=wd,
            cbs=[ParamScheduler(scheds), *_list(cbs)],
            reset_opt=reset_opt,
            resume_from=resume_from,
        )

    def fine_tune(
        self,
        epochs: int,
        base_lr: float = 2e-3,
        freeze_epochs: int = 1,
        lr_mult: float = 100,
        pct_start: float = 0.3,
        div: float = 5.0,
        **kwargs,
    ):
        """Transfer learning: train the head frozen, then everything with discriminative rates."""
        self.freeze()
        self.fit_one_cycle(freeze_epochs, slice(base_lr), pct_start=0.99, **kwargs)
        base_lr /= 2
        self.unfreeze()
        self.fit_one_cycle(epochs, slice(base_lr / lr_mult, base_lr), pct_start=pct_start, div=div, **kwargs)

    def lr_find(
        self,
        start_lr=1e-7,
        end_lr=10.0,
        num_it: int = 100,
        stop_div: bool = True,
        show_plot: bool = True,
        suggest_funcs=(valley,),
    ) -> SuggestedLRs:
        """Find a good learning rate; restores model and optimizer afterwards and returns suggestions."""
        n_epoch = max(1, int(np.ceil(num_it / max(len(self.dls.train), 1))))
        finder = LRFinder(start_lr, end_lr, num_it, stop_div)
        with self.no_logging():
            self.fit(n_epoch, cbs=finder)
        if len(finder.losses) < 2:
            raise TrainError(f"lr_find recorded {len(finder.losses)} finite losses; need at least 2")
        found = {f.__name__: f(finder.lrs, finder.losses) for f in suggest_funcs}
        self.lr_finder = finder
        if show_plot:
            finder.plot(suggestions=found)
        return SuggestedLRs(**found)

    @delegates(bs_find)
    def bs_find(self, **kwargs) -> SuggestedBS:
        """Find a batch size: grow it in powers of two until memory runs out or time per sample stops improving.

        The learner is restored afterwards as after `lr_find`; see `layered.train.callbacks.bs_finder`.
        """
        return bs_find(self, **kwargs)

    # ---- inference ------------------------------------------------------------------------
    def _pred_dl(self, ds_idx: int, dl):
        if dl is None:
            dl = self.dls[ds_idx]
        return dl.new(shuffle=False, drop_last=False) if hasattr(dl, "new") else dl

    def get_preds(
        self,
        ds_idx: int = 1,
        dl=None,
        with_input: bool = False,
        with_decoded: bool = False,
        with_loss: bool = False,
        act=None,
        reorder: bool = True,
        on_batch: Callable | None = None,
    ):
        """Predictions over a dataloader: `(inputs?, preds, targets, decoded?, losses?)`.

        `act` defaults to the loss function's activation. With `on_batch=f`, nothing is gathered:
        `f(inputs, preds, targets, losses)` is called per batch (memory stays bounded) and None
        is returned.
        """
        dl = self._pred_dl(ds_idx, dl)
        act = act if act is not None else getattr(self.loss_func, "activation", None)
        gather = GatherPredsCallback(with_input=with_input, with_loss=with_loss, act=act, on_batch=on_batch)
        self._ensure_opt()
        self.model.to(self.device)
        with self.no_logging(), self.added_cbs(gather):
            self._do_validate(dl)
            self._end_cleanup()
        if on_batch is not None:
            return None
        res = gather.result()
        idxs = getattr(dl, "get_idxs", None)
        if reorder and idxs is not None:
            order = np.asarray(list(idxs()))
            if len(order) == len(res["preds"]) and not np.all(order[:-1] <= order[1:]):
                res = {k: _reorder(v, np.argsort(order)) for k, v in res.items()}
        out = ([res["inputs"]] if with_input else []) + [res["preds"], res["targets"]]
        if with_decoded:
            dec = getattr(self.loss_func, "decodes", None)
            out.append(dec(res["preds"]) if dec is not None else res["preds"])
        if with_loss:
            out.append(res["losses"])
        return tuple(out)

    def validate(self, ds_idx: int = 1, dl=None) -> list:
        """Validation loss and metrics on a dataloader (the validation set by default)."""
        dl = self._pred_dl(ds_idx, dl)
        self._ensure_opt()
        self.model.to(self.device)
        # a Learner made with default_cbs=False still validates: the loop's own callbacks join for this call
        missing = [
            cb() for cb in (TrainEvalCallback, Recorder) if not any(isinstance(c, cb) for c in self.cbs)
        ]
        with self.added_cbs(missing), self.no_logging():
            self.recorder.log = [self.epoch]
            self._do_validate(dl)
            self._end_cleanup()
            return self.recorder.log[1:]

    def predict(self, item, with_input: bool = False):
        """Predict one raw item: `(decoded prediction, decoded index/value, probabilities)`."""
        if not hasattr(self.dls, "test_dl"):
            raise TrainError("predict needs DataLoaders with test_dl (a layered data pipeline)")
        dl = self.dls.test_dl([item], num_workers=0)
        inp, preds, _, dec_preds = self.get_preds(dl=dl, with_input=True, with_decoded=True)
        _refuse_non_finite(item, inp)
        decoded = self.dls.decode_batch((*_tuple(inp), *_tuple(dec_preds)))[0]
        i = len(_tuple(inp))
        res = (decoded[i:] if len(decoded) > i + 1 else decoded[i], dec_preds[0], preds[0])
        return (decoded[:i], *res) if with_input else res

    def show_results(self, ds_idx: int = 1, dl=None, max_n: int = 9, shuffle: bool = True, **kwargs):
        """Show inputs, targets and predictions of one batch, dispatched on their types."""
        dl = self.dls[ds_idx] if dl is None else dl
        dl = dl.new(shuffle=shuffle) if hasattr(dl, "new") else dl
        b = next(iter(dl))
        _, _, preds = self.get_preds(dl=[b], with_decoded=True)
        return dl.show_results(b, preds, max_n=max_n, **kwargs)

    # ---- persistence ----------------------------------------------------------------------
    def _model_file(self, name: str | Path) -> Path:
        return Path(name) if Path(name).suffix else self.path / self.model_dir / f"{name}.safetensors"

    def save(self, name: str | Path, with_opt: bool = True) -> Path:
        """Save model (and optimizer) state to `path/model_dir/name.safetensors`, atomically; returns the file."""
        file = self._model_file(name)
        extra = {"opt": self.opt.state_dict()} if with_opt and self.opt is not None else {}
        if rank_distrib() == 0:  # under DDP the first process writes, the others wait for it
            write_state(file, MODEL_FORMAT, unwrap_model(self.model).state_dict(), extra)
        barrier_distrib()
        return file

    def load(self, name: str | Path, device=None, with_opt: bool = True, strict: bool = True) -> Learner:
        """Load what `save` wrote (never executing code from the file); returns self.

        The weights are checked against the model first: a file of another architecture raises
        an error naming the file and the entries that do not fit.
        """
        file = self._model_file(name)
        weights, extra = read_state(file, MODEL_FORMAT)
        load_weights(unwrap_model(self.model), weights, file, strict=strict)
        if with_opt and isinstance(extra, dict) and "opt" in extra:
            self._ensure_opt()
            self.opt.load_state_dict(extra["opt"])
        if device is not None:
            self.model.to(device)
        return self

    def export(self, fname: str | Path = "export.safetensors", pickle: bool = False) -> Path:
        """Write model, loss and inference pipeline to one safetensors file that loads without running code.

        `load_learner(file)` reads it back. Export checks its own round trip and refuses what it
        cannot describe, naming the attribute path; `pickle=True` writes the trusted pickle format.
        """
        # under DDP the first process writes, the others wait for it
        file = export_learner(self, fname, pickle=pickle) if rank_distrib() == 0 else self.path / fname
        barrier_distrib()
        return file

    def export_onnx(self, fname: str | Path = "model.onnx", **kwargs) -> Path:
        """Write preprocessing, model and decoding as one ONNX graph plus a JSON sidecar, for serving without layered.

        Needs `pip install layered-train[onnx]`; see `layered.train.saving.graph_export.export_onnx`.
        """
        from layered.train.saving.graph_export import export_onnx

        file = export_onnx(self, fname, **kwargs) if rank_distrib() == 0 else self.path / fname
        barrier_distrib()
        return file

    def export_program(self, fname: str | Path = "model.pt2", **kwargs) -> Path:
        """Write the same inference path as a `torch.export` program (`torch.export.load` reads it) plus a sidecar."""
        from layered.train.saving.graph_export import export_program

        file = export_program(self, fname, **kwargs) if rank_distrib() == 0 else self.path / fname
        barrier_distrib()
        return file

    # ---- precision, distribution and introspection (each the work of its own module) -------
    def to_fp16(self, **kwargs) -> Learner:
        """Train in mixed precision, float16 with a gradient scaler (`MixedPrecision`); returns self."""
        return to_fp16(self, **kwargs)

    def to_bf16(self) -> Learner:
        """Train in mixed precision with bfloat16 (no scaler needed); returns self."""
        return to_bf16(self)

    def to_fp32(self) -> Learner:
        """Back to full precision: removes `MixedPrecision`; returns self."""
        return to_fp32(self)

    def distrib_ctx(self, sync_bn: bool = True, gpu: int | None = None, **ddp_kwargs):
        """Context manager: train with DistributedDataParallel under torchrun (a no-op in one process)."""
        return distrib_ctx(self, sync_bn=sync_bn, gpu=gpu, **ddp_kwargs)

    def tta(
        self,
        ds_idx: int = 1,
        dl=None,
        n: int = 4,
        beta: float | None = 0.25,
        use_max: bool = False,
        tfms=None,
    ):
        """Test-time augmentation: predictions averaged over `n` augmented passes (or one pass per
        transform of `tfms`) and mixed with the plain one."""
        return tta(self, ds_idx=ds_idx, dl=dl, n=n, beta=beta, use_max=use_max, tfms=tfms)

    def show_training_loop(self) -> str:
        """Print (and return) which callbacks run at each event of a fit, in order."""
        return show_training_loop(self)

    def mc_dropout_preds(self, ds_idx: int = 1, dl=None, n_samples: int = 10, **kwargs) -> tuple:
        """Monte-Carlo dropout: `(preds, targets)` with preds of `n_samples` passes, dropout on, stacked on a first dimension."""
        return mc_dropout_preds(self, ds_idx=ds_idx, dl=dl, n_samples=n_samples, **kwargs)

    def summary(self, *xb) -> str:
        """Per-layer output shapes and parameter counts, totals, optimizer, loss and callbacks."""
        return model_summary(self, *xb)


def _reorder(v, order):
    if isinstance(v, torch.Tensor):
        return v[torch.as_tensor(order)]
    if isinstance(v, (tuple, list)):
        return type(v)(_reorder(o, order) for o in v)
    return v


def _list(x) -> list:
    return [] if x is None else list(x) if isinstance(x, (list, tuple)) else [x]


@functools.cache
def _event_names(name: str) -> tuple[str, str, str]:
    """The events framing step `name`: before, after a cancellation, and after."""
    return f"before_{name}", f"after_cancel_{name}", f"after_{name}"


def _silent(*args, **kwargs) -> None:
    """A logger that discards everything."""


def load_learner(fname: str | Path, cpu: bool = True, trusted: bool = False) -> Learner:
    """Rebuild an exported Learner for inference (`predict`, `get_preds`, `dls.test_dl`), running no code from the file.

    Only registered components are built (`layered.core.registry`): import the modules that
    register your own classes before loading. `trusted=True` also reads the pickle format of
    `export(..., pickle=True)`, which runs code from the file. `cpu=True` loads onto the CPU.
    """
    return read_learner(fname, Learner, cpu=cpu, trusted=trusted)
