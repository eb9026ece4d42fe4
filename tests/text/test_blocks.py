import pandas as pd

from layered.data.blocks import CategoryBlock
from layered.data.data_block import DataBlock
from layered.data.getters import FileGetter, parent_label
from layered.data.splitters import GrandparentSplitter, IndexSplitter
from layered.text.blocks import TextBlock
from layered.text.lm_loader import LMDataLoader
from layered.text.numericalize import LMTensorText, TensorText
from layered.text.sorted_loader import SortedDL
from layered.text.tokenizer_transform import Tokenizer


def test_text_block_settings():
    clas = TextBlock(Tokenizer(), min_freq=1, seq_len=5)
    assert clas.dl_type is SortedDL and clas.dls_kwargs["before_batch"].seq_len == 5
    lm = TextBlock.from_df("text", is_lm=True, seq_len=9)
    assert lm.dl_type is LMDataLoader and lm.dls_kwargs == {"seq_len": 9, "backwards": False}
    assert TextBlock.from_df("text", is_lm=True, backwards=True).dls_kwargs["backwards"] is True
    assert lm.tok_tfm.text_cols == ["text"] and lm.vocab is None
    assert TextBlock(Tokenizer(), vocab=["xxunk", "a"]).vocab == ["xxunk", "a"]


def test_from_df_in_a_data_block_learns_vocab_on_training_rows():
    df = pd.DataFrame({"text": ["Good film", "Bad film", "Good plot", "Weird ending"], "label": list("pnpn")})
    block = TextBlock.from_df("text", min_freq=1, n_workers=1)
    dblock = DataBlock(blocks=(block, CategoryBlock), get_y=lambda r: r["label"], splitter=IndexSplitter([3]))
    dls = dblock.dataloaders(df, bs=2)
    assert "weird" not in block.vocab and {"good", "film", "bad", "plot"} <= set(block.vocab)
    x, y = dls.valid.one_batch()
    assert type(x) is TensorText and x.tolist() == [[2, 8, 0, 0]]  # xxbos xxmaj, then 2 unknown words
    assert dls.valid.decode_batch((x, y))[0] == ("xxbos xxmaj xxunk xxunk", "n")


def test_from_folder_language_model(tmp_path):
    for split, label, name, text in [
        ("train", "pos", "a.txt", "One two three four five six seven eight nine ten"),
        ("train", "neg", "b.txt", "Eleven twelve thirteen fourteen fifteen"),
        ("valid", "pos", "c.txt", "One two three four five six"),
    ]:
        (tmp_path / split / label).mkdir(parents=True, exist_ok=True)
        (tmp_path / split / label / name).write_text(text)
    block = TextBlock.from_folder(tmp_path, is_lm=True, seq_len=4, min_freq=1, n_workers=1)
    dblock = DataBlock(blocks=block, get_items=FileGetter(extensions=".txt"), splitter=GrandparentSplitter())
    dls = dblock.dataloaders(tmp_path, bs=2)
    x, _ = dls.train.one_batch()
    assert type(x) is LMTensorText and x.shape == (2, 4) and torch_equal_shift(dls.train)
    assert (tmp_path / ".layered_text").is_dir()  # the tokens were cached beside the data
    assert parent_label(dls.valid.dataset.items[0]) == "pos"


def torch_equal_shift(dl):
    x, y = dl.one_batch()
    return bool((x[:, 1:] == y[:, :-1]).all())
