"""Every other file the library reads, given a pickle payload: our error, no marker, nothing written.

Saved models (`learn.load`), checkpoints (`fit(resume_from=...)`), text encoders
(`load_encoder`), pretrained text weights and vision weight files.
"""

import os

import pytest
import torch
from train_tasks import class_task, mlp

from layered.core.errors import LayeredError
from layered.train.learner import Learner
from layered.train.losses.flattened import CrossEntropyLossFlat


class Payload:
    """Unpickled, it would run a shell command that creates a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def payload_file(tmp_path):
    def make(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save({"model": Payload(tmp_path / "pwned")}, path)
        return path

    return make


def learner(tmp_path):
    return Learner(class_task(), mlp(), loss_func=CrossEntropyLossFlat(), path=tmp_path)


def test_learn_load_and_resume_refuse_a_payload(tmp_path, payload_file):
    learn = learner(tmp_path)
    payload_file(tmp_path / "models" / "evil.safetensors")
    with pytest.raises(LayeredError, match=r"evil.safetensors is a zip archive \(a torch.save file"):
        learn.load("evil")
    with pytest.raises(LayeredError, match="zip archive"):
        learn.fit(1, resume_from=tmp_path / "models" / "evil.safetensors")
    assert not (tmp_path / "pwned").exists()


def test_text_encoder_and_pretrained_weights_refuse_a_payload(tmp_path, payload_file):
    import json

    import pandas as pd

    from layered.text.awd_lstm import AWD_LSTM
    from layered.text.dataloaders import TextDataLoaders
    from layered.text.learner import language_model_learner

    df = pd.DataFrame({"text": ["the cat sat on the mat", "a dog ran in the park"] * 20})
    dls = TextDataLoaders.from_df(df, text_col="text", is_lm=True, bs=4, seq_len=8, min_freq=1, n_workers=1)
    config = {"emb_sz": 8, "n_hid": 8, "n_layers": 1}
    learn = language_model_learner(dls, AWD_LSTM, config=config, pretrained=False, path=tmp_path)
    payload_file(tmp_path / "models" / "enc.safetensors")
    with pytest.raises(LayeredError, match="zip archive"):
        learn.load_encoder("enc")
    weights = payload_file(tmp_path / "lm" / "weights.pth")
    (tmp_path / "lm" / "vocab.json").write_text(json.dumps(list(dls.vocab)))
    with pytest.raises(LayeredError, match=r"could not read pretrained weights .*weights.pth"):
        learn.load_pretrained(weights, tmp_path / "lm" / "vocab.json")
    assert not (tmp_path / "pwned").exists()


def test_vision_weight_files_refuse_a_payload(tmp_path, payload_file):
    from layered.vision.learner import create_body
    from layered.vision.xresnet import xresnet18

    weights = payload_file(tmp_path / "body.pth")
    with pytest.raises(LayeredError, match=r"could not read weights file .*body.pth"):
        create_body(xresnet18, pretrained=True, weights=weights)
    assert not (tmp_path / "pwned").exists()
