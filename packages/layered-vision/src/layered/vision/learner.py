"""`vision_learner`: a pretrained (or fresh) architecture cut to its body, with a new head sized from the data.

```python
learn = vision_learner(dls, resnet34, metrics=error_rate)        # torchvision weights from the cache
learn = vision_learner(dls, xresnet18, pretrained=False)           # trained from scratch
learn = vision_learner(dls, resnet18, weights="resnet18.pth")      # weights from a file
learn = vision_learner(dls, "convnext_tiny", pretrained=False)     # any timm architecture (timm extra)
```
What each architecture needs — where to cut it, where to split the body into parameter groups,
which statistics its pretrained weights expect — is in `model_meta`, keyed by the name of the
function building it; add an entry there for your own architecture. Pretrained torchvision
weights are read from torchvision's cache (`$TORCH_HOME/hub/checkpoints`) or a file given as
`weights=`; nothing is downloaded here, and a missing file is an error that says where to put it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import torch
from torch import nn

from layered.core.delegation import delegates
from layered.data.categorize import TensorCategory
from layered.data.normalize import Normalize
from layered.train.learner import Learner
from layered.train.nn.hooks import num_features_model
from layered.train.nn.layers import AdaptiveConcatPool2d, Flatten, LinBnDrop, SigmoidRange
from layered.vision.efficientnet_lite import efficientnet_lite_state, lite_stats
from layered.vision.errors import VisionError
from layered.vision.normalize import ImageNormalize, imagenet_stats
from layered.vision.timm_body import TimmBody, timm_stats
from layered.vision.torchvision_models import real_arch
from layered.vision.types import TensorMask
from layered.vision.xresnet import init_cnn

__all__ = [
    "BodyHeadSplitter",
    "arch_meta",
    "cnn_learner",
    "create_body",
    "create_head",
    "create_vision_model",
    "get_c",
    "model_meta",
    "normalize_dls",
    "vision_learner",
]


def _features(model: nn.Module) -> nn.Sequential:
    """The convolutional part of a torchvision model that keeps it in `.features`, as a flat Sequential."""
    return nn.Sequential(*model.features)


def _densenet_features(model: nn.Module) -> nn.Sequential:
    """DenseNet's features end with a norm; its forward applies the ReLU that the body needs too."""
    return nn.Sequential(*model.features, nn.ReLU(inplace=True))


def _meta(
    cut: int | Callable, split: int | None, stats: tuple = imagenet_stats, state: Callable | None = None
) -> dict:
    return {"cut": cut, "split": split, "stats": stats, "state": state}


# cut: the child index (or a function of the model) where the body ends; split: the body child
# where the second parameter group starts (None: halfway); stats: what the pretrained weights expect;
# state: a function renaming a published weights file's keys to the model's (None: they match).
model_meta: dict[str, dict] = {
    **{n: _meta(-2, -2) for n in ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152")},
    **{n: _meta(-2, -2) for n in ("resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d")},
    **{n: _meta(-2, -2) for n in ("wide_resnet50_2", "wide_resnet101_2")},
    **{
        n: _meta(_densenet_features, -5) for n in ("densenet121", "densenet161", "densenet169", "densenet201")
    },
    **{f"vgg{d}{bn}": _meta(_features, None) for d in (11, 13, 16, 19) for bn in ("", "_bn")},
    **{n: _meta(_features, None) for n in ("alexnet", "squeezenet1_0", "squeezenet1_1")},
    **{n: _meta(_features, None) for n in ("mobilenet_v2", "mobilenet_v3_large", "mobilenet_v3_small")},
    **{f"efficientnet_b{i}": _meta(_features, None) for i in range(8)},
    **{f"efficientnet_v2_{s}": _meta(_features, None) for s in ("s", "m", "l")},
    **{f"convnext_{s}": _meta(_features, None) for s in ("tiny", "small", "base", "large")},
    **{
        f"{kind}{depth}": _meta(-4, -2)
        for kind, depths in (
            ("xresnet", (18, 34, 50, 101, 152)),
            ("xresnext", (18, 34, 50, 101)),
            ("xse_resnet", (18, 34, 50, 101, 152)),
            ("xse_resnext", (18, 34, 50, 101)),
        )
        for depth in depths
    },
    **{f"xresnet{d}_{x}": _meta(-4, -2) for d in (18, 34, 50) for x in ("deep", "deeper")},
    "efficientnet_lite0": _meta(-4, None, lite_stats, efficientnet_lite_state),
}


def _arch_name(arch: Callable) -> str:
    """The name `model_meta` knows an architecture by: its function's name (through `functools.partial`)."""
    inner = getattr(arch, "func", arch)
    return getattr(inner, "__name__", type(inner).__name__)


def arch_meta(arch: Callable | str) -> dict:
    """`model_meta`'s entry for `arch` (cut, split, stats), or defaults: cut at the last pooling, split halfway.

    A timm model name gets the statistics of timm's pretrained weights for it.
    """
    if isinstance(arch, str):
        return {"cut": None, "split": None, "stats": timm_stats(arch), "state": None}
    return model_meta.get(_arch_name(arch), {"cut": None, "split": None, "stats": None, "state": None})


def _is_torchvision(arch: Callable) -> bool:
    return getattr(getattr(arch, "func", arch), "__module__", "").startswith("torchvision.models")


def _cached_file(weights: Any) -> Path:
    """Where torchvision keeps the file of a `WeightsEnum` member."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(weights.url).path).name


def _torchvision_weights(arch: Callable) -> Any:
    from torchvision.models import get_model_weights

    try:
        return get_model_weights(getattr(arch, "func", arch)).DEFAULT
    except (ValueError, KeyError, AttributeError) as e:
        raise VisionError(
            f"torchvision knows no pretrained weights for {_arch_name(arch)}; pass weights=<path to a "
            "state_dict file> or pretrained=False"
        ) from e


def _from_cache(arch: Callable, weights: Any) -> nn.Module:
    """Build a torchvision model with `weights` (a `WeightsEnum` member) found in torchvision's cache."""
    file = _cached_file(weights)
    if not file.is_file():
        raise VisionError(
            f"pretrained weights for {_arch_name(arch)} not found: expected the file {file}. Download "
            f"{weights.url} and put it there (or set TORCH_HOME to the folder holding hub/checkpoints), "
            "pass weights='<path to the .pth file>', or use pretrained=False"
        )
    # torchvision reads a cached file without any network access (and fixes old key layouts)
    return getattr(arch, "func", arch)(weights=weights, **getattr(arch, "keywords", {}))


def _from_file(model: nn.Module, file: str | Path, name: str, rename: Callable | None = None) -> nn.Module:
    """Load the state_dict saved in `file` (keys renamed by `rename` when given) into `model`, failing with the file's name."""
    file = Path(file)
    if not file.is_file():
        raise VisionError(f"weights file {file} for {name} does not exist; expected a saved state_dict")
    try:
        state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as e:
        raise VisionError(f"could not read weights file {file} for {name}: {e}") from e
    if not isinstance(state, dict):
        raise VisionError(
            f"weights file {file} holds a {type(state).__name__}; expected a state_dict for {name}"
        )
    if rename is not None:
        state = rename(state)
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    if missing or unexpected:
        raise VisionError(
            f"weights file {file} does not fit {name}: missing keys {missing[:5]}, unexpected keys "
            f"{unexpected[:5]}{' ...' if len(missing) > 5 or len(unexpected) > 5 else ''}"
        )
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise VisionError(f"weights file {file} does not fit {name}: {e}") from e
    return model


def _build(arch: Callable, pretrained: bool, weights: Any) -> nn.Module:
    """The full architecture, with its pretrained weights when asked."""
    arch = real_arch(arch)
    name, tv = _arch_name(arch), _is_torchvision(arch)
    if weights is not None and not pretrained:
        raise VisionError(f"weights={weights!r} given for {name} with pretrained=False; drop one of them")
    if not pretrained:
        return arch(weights=None) if tv else arch()
    if weights is None or (hasattr(weights, "url") and hasattr(weights, "get_state_dict")):
        if not tv:
            raise VisionError(
                f"no pretrained weights are known for {name}: pass weights=<path to a file holding its "
                "state_dict>, or pretrained=False"
            )
        return _from_cache(arch, weights if weights is not None else _torchvision_weights(arch))
    return _from_file(arch(weights=None) if tv else arch(), weights, name, arch_meta(arch)["state"])


def _has_pool(m: nn.Module) -> bool:
    pools = (nn.modules.pooling._AdaptiveAvgPoolNd, nn.modules.pooling._AdaptiveMaxPoolNd)
    return any(isinstance(o, pools) for o in m.modules())


def _cut(model: nn.Module, cut: int | Callable | None, name: str) -> nn.Sequential:
    if callable(cut):
        return cut(model)
    children = list(model.children())
    if cut is None:
        pooled = [i for i, c in enumerate(children) if _has_pool(c)]
        if not pooled:
            raise VisionError(
                f"cannot tell where the body of {name} ends (no adaptive pooling layer among its children); "
                "pass cut=<child index or function returning the body>"
            )
        cut = pooled[-1]
    return nn.Sequential(*children[:cut])


def _adapt_input(body: nn.Module, n_in: int, pretrained: bool) -> None:
    """Give the first convolution `n_in` input channels, keeping what pretrained weights compute."""
    conv = next((m for m in body.modules() if isinstance(m, nn.modules.conv._ConvNd)), None)
    if conv is None or conv.in_channels == n_in:
        return
    if conv.groups != 1:
        raise VisionError(f"cannot change the input channels of a grouped first conv ({conv}) to n_in={n_in}")
    w = conv.weight.detach()
    if pretrained:
        # each new channel gets the mean kernel over the old ones: n_in equal channels give the old output
        new = w.sum(1, keepdim=True).repeat(1, n_in, *([1] * (w.ndim - 2))) / n_in
    else:
        new = nn.init.kaiming_normal_(torch.empty(w.shape[0], n_in, *w.shape[2:], dtype=w.dtype))
    conv.weight = nn.Parameter(new.contiguous())
    conv.in_channels = n_in


def create_body(
    arch: Callable | str,
    n_in: int = 3,
    pretrained: bool = True,
    cut: int | Callable | None = None,
    weights: Any = None,
) -> nn.Module:
    """The body of `arch` (its layers before the pooling), with `n_in` input channels.

    `arch` builds the model (a torchvision function such as `resnet34`, or `xresnet18`), or is a
    timm model name (a `TimmBody`; timm is an optional dependency). `cut` is a child index, or a
    function returning the body; by default `model_meta` says, else the last child holding an
    adaptive pooling. `weights` is a state_dict file or a torchvision `WeightsEnum` member, used
    when `pretrained`.
    """
    if isinstance(arch, str):
        if cut is not None:
            raise VisionError(f"cut={cut!r} given for timm's {arch}: a timm body is cut by timm; drop cut")
        return TimmBody(arch, n_in=n_in, pretrained=pretrained, weights=weights)
    model = _build(arch, pretrained, weights)
    body = _cut(model, cut if cut is not None else arch_meta(arch)["cut"], _arch_name(arch))
    _adapt_input(body, n_in, pretrained)
    return body


def create_head(
    nf: int,
    n_out: int,
    lin_ftrs: Sequence[int] | None = None,
    ps: float | Sequence[float] = 0.5,
    pool: bool = True,
    concat_pool: bool = True,
    first_bn: bool = True,
    bn_final: bool = False,
    lin_first: bool = False,
    y_range: tuple[float, float] | None = None,
) -> nn.Sequential:
    """A classifier head over `nf` feature maps: pooling, then linear blocks (batch norm, dropout) to `n_out`.

    `lin_ftrs` are the hidden sizes (default `[512]`); `ps` the dropout before each linear layer
    (a number gives half of it to the hidden ones and all of it to the last). Concat pooling
    doubles the features. `lin_first` puts each hidden linear layer before its norm and dropout;
    `bn_final` normalises the outputs; `y_range` squashes them into `(low, high)`.
    """
    sizes = [nf * (2 if pool and concat_pool else 1), *([512] if lin_ftrs is None else lin_ftrs), n_out]
    n_lin = len(sizes) - 1
    ps = [ps / 2] * (n_lin - 1) + [ps] if isinstance(ps, (int, float)) else list(ps)
    if len(ps) != n_lin:
        raise VisionError(
            f"create_head: {len(ps)} dropout values for {n_lin} linear layers; give one per layer"
        )
    layers: list[nn.Module] = []
    if pool:
        layers += [AdaptiveConcatPool2d() if concat_pool else nn.AdaptiveAvgPool2d(1), Flatten()]
    for i, (ni, no, p) in enumerate(zip(sizes[:-1], sizes[1:], ps)):
        if i < n_lin - 1:
            act = nn.ReLU(inplace=True)
            layers.append(LinBnDrop(ni, no, bn=first_bn or i > 0, p=p, act=act, lin_first=lin_first))
        elif lin_first:  # the hidden blocks already normalised what reaches the last layer
            layers += ([nn.Dropout(p)] if p > 0 else []) + [nn.Linear(ni, no)]
        else:
            layers.append(LinBnDrop(ni, no, bn=first_bn or i > 0, p=p))
    if bn_final:
        layers.append(nn.BatchNorm1d(n_out, momentum=0.01))
    if y_range is not None:
        layers.append(SigmoidRange(*y_range))
    return nn.Sequential(*layers)


def create_vision_model(
    arch: Callable | str,
    n_out: int,
    pretrained: bool = True,
    weights: Any = None,
    cut: int | Callable | None = None,
    n_in: int = 3,
    init: Callable | None = nn.init.kaiming_normal_,
    custom_head: nn.Module | None = None,
    concat_pool: bool = True,
    pool: bool = True,
    lin_ftrs: Sequence[int] | None = None,
    ps: float | Sequence[float] = 0.5,
    first_bn: bool = True,
    bn_final: bool = False,
    lin_first: bool = False,
    y_range: tuple[float, float] | None = None,
) -> nn.Sequential:
    """`nn.Sequential(body, head)`: `create_body(arch, ...)` and `create_head` (or `custom_head`) for `n_out`.

    `init` initialises the new head's layers (not a custom head, nor the body).
    """
    body = create_body(arch, n_in=n_in, pretrained=pretrained, cut=cut, weights=weights)
    if custom_head is not None:
        return nn.Sequential(body, custom_head)
    nf = body.num_features if isinstance(body, TimmBody) else num_features_model(body)
    head = create_head(
        nf,
        n_out,
        lin_ftrs=lin_ftrs,
        ps=ps,
        pool=pool,
        concat_pool=concat_pool,
        first_bn=first_bn,
        bn_final=bn_final,
        lin_first=lin_first,
        y_range=y_range,
    )
    if init is not None:
        init_cnn(head, init)
    return nn.Sequential(body, head)


class BodyHeadSplitter:
    """Three parameter groups: the body up to child `at` (None: halfway), the rest of the body, the head.

    The body is the model's `encoder` (a U-Net) or its first child (a vision model); the head is
    every other parameter. A body with a `param_groups()` method (a `TimmBody`) gives its own two
    groups. All parameters are returned, frozen or not: freezing works on groups.
    """

    def __init__(self, at: int | None = None):
        self.at = at

    def __call__(self, model: nn.Module) -> list[list[nn.Parameter]]:
        body = model.encoder if hasattr(model, "encoder") else model[0]
        if callable(getattr(body, "param_groups", None)):
            parts = body.param_groups()
        else:
            children = list(body.children())
            at = len(children) // 2 if self.at is None else self.at
            parts = [list(nn.Sequential(*c).parameters()) for c in (children[:at], children[at:])]
        groups = [p for p in parts if p]
        in_body = {id(p) for p in body.parameters()}
        return [*groups, [p for p in model.parameters() if id(p) not in in_body]]

    def __repr__(self) -> str:
        return f"BodyHeadSplitter(at={self.at})"


def _vocab_size(dls: Any) -> int | None:
    """The number of classes of the (first) target: from `dls.c`, `dls.vocab` or the target's transforms."""
    for attr in ("c", "vocab"):
        found = getattr(dls, attr, None)
        if found is not None:
            return int(found) if attr == "c" else len(found)
    ds = getattr(dls, "train_ds", None)
    tls = getattr(ds, "tls", [])[getattr(ds, "n_inp", 1) :]
    for f in reversed(tls[0].tfms.fs if tls else []):
        for attr in ("c", "vocab"):
            found = getattr(f, attr, None)
            if found is not None:
                return int(found) if attr == "c" else len(found)
    return None


def _target_shape(dls: Any) -> tuple[int, ...] | None:
    """The shape of one target of a training batch (None for class indices or when there are no targets)."""
    b = dls.one_batch()
    b = b if isinstance(b, tuple) else (b,)
    n_inp = getattr(dls, "n_inp", 1)
    if len(b) <= n_inp:
        return None
    y = b[n_inp]
    if isinstance(y, (TensorCategory, TensorMask)) or not y.is_floating_point():
        return None
    return tuple(y.shape[1:])


def _outputs(dls: Any) -> tuple[int | None, tuple[int, ...] | None]:
    """How many outputs the targets call for, and the shape of one target when it is a tensor of numbers."""
    c = _vocab_size(dls)
    if c is not None:
        return c, None
    shape = _target_shape(dls)
    return (None, None) if shape is None else (math.prod(shape), shape)


def get_c(dls: Any) -> int | None:
    """The number of outputs the targets of `dls` call for: their vocabulary's size, else the size of one target.

    None when it cannot be told (class indices without a vocabulary).
    """
    return _outputs(dls)[0]


def normalize_dls(dls: Any, stats: tuple) -> bool:
    """Add `ImageNormalize.from_stats(*stats)` to the batch transforms of every loader of `dls`, unless one is there.

    Returns whether it was added.
    """
    loaders = [dl for dl in getattr(dls, "loaders", []) if hasattr(dl, "after_batch")]
    if not loaders or any(isinstance(f, Normalize) for dl in loaders for f in dl.after_batch.fs):
        return False
    norm = ImageNormalize.from_stats(*stats)
    norm.setup(loaders[0])
    for dl in loaders:
        dl.after_batch.fs = [*dl.after_batch.fs, norm]
    return True


@delegates(Learner.__init__)
def vision_learner(
    dls: Any,
    arch: Callable | str,
    normalize: bool = True,
    n_out: int | None = None,
    pretrained: bool = True,
    weights: Any = None,
    splitter: Callable | None = None,
    cut: int | Callable | None = None,
    n_in: int = 3,
    init: Callable | None = nn.init.kaiming_normal_,
    custom_head: nn.Module | None = None,
    concat_pool: bool = True,
    lin_ftrs: Sequence[int] | None = None,
    ps: float | Sequence[float] = 0.5,
    pool: bool = True,
    first_bn: bool = True,
    bn_final: bool = False,
    lin_first: bool = False,
    y_range: tuple[float, float] | None = None,
    **kwargs: Any,
) -> Learner:
    """A `Learner` for image data `dls` with `arch`'s body and a new head.

    `n_out` defaults to the targets' vocabulary size (or the size of one target, e.g. 2 numbers per
    point, which the model then outputs in the target's shape); the loss to the data's. With
    `pretrained`, the architecture's normalisation is added to the data's batch transforms (when
    `normalize` and none is there) and the body is frozen — but for its norm layers when
    `train_bn`. Other keyword arguments go to `Learner`.
    """
    meta = arch_meta(arch)
    n_out, shape = _outputs(dls) if n_out is None else (n_out, None)
    if not n_out:
        raise VisionError(
            "vision_learner could not tell the number of outputs from the data (no vocabulary and no "
            "float targets); pass n_out="
        )
    if normalize and pretrained and meta["stats"] is not None:
        normalize_dls(dls, meta["stats"])
    model = create_vision_model(
        arch,
        n_out,
        pretrained=pretrained,
        weights=weights,
        cut=cut,
        n_in=n_in,
        init=init,
        custom_head=custom_head,
        concat_pool=concat_pool,
        pool=pool,
        lin_ftrs=lin_ftrs,
        ps=ps,
        first_bn=first_bn,
        bn_final=bn_final,
        lin_first=lin_first,
        y_range=y_range,
    )
    if shape is not None and len(shape) > 1:
        model.append(nn.Unflatten(1, shape))  # e.g. points: outputs shaped like the targets decode like them
    learn = Learner(
        dls,
        model,
        splitter=splitter if splitter is not None else BodyHeadSplitter(meta["split"]),
        **kwargs,
    )
    if pretrained:
        learn.freeze()
    return learn


cnn_learner = vision_learner
