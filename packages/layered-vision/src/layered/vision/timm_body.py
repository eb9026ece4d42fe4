"""timm architectures as vision-learner bodies: `vision_learner(dls, "convnext_tiny")` for any timm model name.

timm is optional (`pip install layered-vision[timm]`) and imported only when a name is used. The
body is the timm model without its classifier and pooling, run through `forward_features`, so
`create_head` pools and classifies its feature maps. Its parameters split into two groups by
timm's own coarse grouping of the model (stem and early stages, then the later ones), so
`freeze` trains the head, `freeze_to(-2)` adds the later stages; norm layers stay trainable
(timm's norm layers are torch's subclasses, which `train_bn` keeps).

Pretrained weights come from a local file (`weights="convnext_tiny.safetensors"` or a `.pth`
state_dict) or from timm's caches (the Hugging Face hub cache, `$HF_HUB_CACHE` or `$HF_HOME/hub`;
torch's hub cache for weights timm names by URL), read as data without running code. Nothing is
downloaded, and a missing file is an error naming what was looked for. An exported learner stores the model's name and its weights; loading rebuilds
the architecture with timm (no weights downloaded) and fills in the weights.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import torch
from torch import nn

from layered.core.registry import register_serializable
from layered.vision.errors import VisionError

__all__ = ["TimmBody", "cached_weights", "import_timm", "timm_state_dict", "timm_stats"]


def import_timm() -> Any:
    """The `timm` module, or a clear error saying how to install it."""
    try:
        return importlib.import_module("timm")
    except ImportError as e:
        raise VisionError(
            "timm model names need the optional dependency timm: pip install 'layered-vision[timm]'"
        ) from e


def timm_stats(name: str) -> tuple[list[float], list[float]]:
    """The mean and standard deviation timm's pretrained weights for `name` expect of each input channel."""
    timm = import_timm()
    cfg = timm.models.get_pretrained_cfg(name) if timm.is_model(name) else None
    if cfg is None or not getattr(cfg, "mean", None):
        return [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]  # ImageNet's, timm's own default
    return list(cfg.mean), list(cfg.std)


def _create(name: str, n_in: int) -> nn.Module:
    """`timm.create_model(name)` without classifier and pooling; a clear error for an unknown name."""
    timm = import_timm()
    if not timm.is_model(name):
        raise VisionError(f"timm has no architecture named {name!r} (see timm.list_models())")
    return timm.create_model(name, pretrained=False, num_classes=0, global_pool="", in_chans=n_in)


def timm_state_dict(file: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a weights file, read as data: `.safetensors`, else a `torch.save`d state_dict."""
    file = Path(file)
    if not file.is_file():
        raise VisionError(f"weights file {file} does not exist; expected a state_dict (.safetensors or .pth)")
    try:
        if file.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(file)
        else:
            state = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as e:
        raise VisionError(f"could not read weights file {file}: {e}") from e
    if not isinstance(state, dict):
        raise VisionError(f"weights file {file} holds a {type(state).__name__}; expected a state_dict")
    return state


def _load_file(model: nn.Module, name: str, file: str | Path, n_in: int) -> None:
    """Load `file` into `model`; only the classifier's weights (which the body lacks) may be left over.

    With `n_in` other than the file's channels, the first convolution's kernel is adapted by timm.
    """
    state = timm_state_dict(file)
    first = f"{model.pretrained_cfg.get('first_conv')}.weight"
    if first in state and state[first].ndim == 4 and state[first].shape[1] != n_in:
        from timm.models import adapt_input_conv

        state[first] = adapt_input_conv(n_in, state[first])
    classifier = model.pretrained_cfg.get("classifier") or "head"
    classifiers = classifier if isinstance(classifier, (list, tuple)) else [classifier]
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own and not any(k.startswith(c + ".") for c in classifiers)]
    if missing or unexpected:
        raise VisionError(
            f"weights file {file} does not fit timm's {name}: missing keys {missing[:5]}, unexpected keys "
            f"{unexpected[:5]}{' ...' if len(missing) > 5 or len(unexpected) > 5 else ''}"
        )
    try:
        model.load_state_dict({k: state[k] for k in own})
    except RuntimeError as e:
        raise VisionError(f"weights file {file} does not fit timm's {name}: {e}") from e


def _hub_cache() -> Path:
    """The Hugging Face hub cache timm downloads into: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else the default."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]) / "hub"
    return Path.home() / ".cache" / "huggingface" / "hub"


def cached_weights(name: str) -> Path:
    """The file of timm's pretrained weights for `name` in timm's caches, or an error naming where it looked.

    Weights on the Hugging Face hub are looked for in its cache (`model.safetensors`, then
    `pytorch_model.bin`, of the repository timm names); older ones at a URL in torch's hub cache.
    Nothing is downloaded.
    """
    cfg = import_timm().models.get_pretrained_cfg(name)
    looked: list[str] = []
    if cfg is not None and cfg.hf_hub_id:
        from huggingface_hub import try_to_load_from_cache

        for filename in ("model.safetensors", "pytorch_model.bin"):
            found = try_to_load_from_cache(cfg.hf_hub_id, filename, cache_dir=_hub_cache())
            if isinstance(found, str):
                return Path(found)
        looked.append(
            f"{cfg.hf_hub_id} (model.safetensors or pytorch_model.bin) in the Hugging Face cache {_hub_cache()}"
        )
    if cfg is not None and cfg.url:
        file = Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(cfg.url).path).name
        if file.is_file():
            return file
        looked.append(f"{file} (from {cfg.url})")
    where = "; ".join(looked) or "nowhere: timm knows no pretrained weights for it"
    raise VisionError(
        f"pretrained weights for timm's {name} not found; looked for {where}. Download them with timm on a "
        "machine online (timm.create_model(name, pretrained=True)) and copy the cache, pass "
        "weights='<path to a .safetensors or .pth state_dict>', or use pretrained=False"
    )


@register_serializable(name="layered.vision.TimmBody")
class TimmBody(nn.Module):
    """The feature extractor of timm's `name` (its `forward_features`), with `n_in` input channels."""

    def __init__(self, name: str, n_in: int = 3, pretrained: bool = False, weights: str | Path | None = None):
        super().__init__()
        if weights is not None and not pretrained:
            raise VisionError(f"weights={weights!r} given for timm's {name} with pretrained=False; drop one")
        self.name, self.n_in = name, n_in
        self.model = _create(name, n_in)
        if pretrained:
            _load_file(self.model, name, weights if weights is not None else cached_weights(name), n_in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = self.model.forward_features(x)
        if features.ndim != 4:
            raise VisionError(
                f"timm's {self.name} gives features of shape {tuple(features.shape)}; a vision learner "
                "needs feature maps (batch, channels, height, width)"
            )
        return features

    @property
    def num_features(self) -> int:
        """The channels of the feature maps this body gives (timm's `num_features`)."""
        return int(self.model.num_features)

    def param_groups(self) -> list[list[nn.Parameter]]:
        """Two groups of the body's parameters: timm's coarse groups (stem, stages), first half then second."""
        from timm.models import group_parameters

        named = dict(self.model.named_parameters())
        groups = list(group_parameters(self.model, self.model.group_matcher(coarse=True)).values())
        half = max(1, len(groups) // 2)
        return [[named[n] for g in part for n in g] for part in (groups[:half], groups[half:])]

    def get_config(self) -> dict:
        """What rebuilds the architecture: timm's name and the input channels (weights are stored apart)."""
        return {"name": self.name, "n_in": self.n_in}

    @classmethod
    def from_config(cls, config: dict) -> TimmBody:
        """The architecture, freshly initialised; the export's weights are loaded into it afterwards."""
        return cls(config["name"], n_in=config["n_in"])
