import pytest
import torch

from layered.core.pipeline import Pipeline
from layered.core.seed import set_seed
from layered.core.tensor_types import TensorBase
from layered.core.transform import Transform
from layered.data.categorize import Categorize, Category, TensorCategory
from layered.data.datasets import Datasets
from layered.data.tfmd_loader import TfmdDL

WORDS = ["cat", "dog", "cat", "bird", "dog", "cat", "dog", "bird"]

LABELS = ["cat", "dog", "bird"]


class TFloat(TensorBase):
    pass


class TLabel(TensorBase):
    pass


class Pairs:
    """Items `(TFloat([i]), TLabel(i % 3))`; `decode` turns a label index into its name."""

    def __init__(self, n=8, split_idx=None, n_inp=None):
        self.n, self.split_idx = n, split_idx
        if n_inp is not None:
            self.n_inp = n_inp

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return TFloat(torch.tensor([float(i)])), TLabel(torch.tensor(i % 3))

    def decode(self, o, full=True):
        x, y = o
        return x, LABELS[int(y)]


class AddOne(Transform):
    def encodes(self, x: TFloat):
        return x + 1

    def decodes(self, x: TFloat):
        return x - 1


class Scale(Transform):
    def encodes(self, x: TFloat):
        return x * 10

    def decodes(self, x: TFloat):
        return x / 10


class TrainOnlyNegate(Transform):
    split_idx = 0

    def encodes(self, x: TFloat):
        return -x


class BatchMean(Transform):
    """Set up from a batch: records the mean of x in the batch it is given by `dl.one_batch()`."""

    order = 10

    def setups(self, dl):
        self.mean = dl.one_batch()[0].mean().item()

    def encodes(self, x: TFloat):
        return x - self.mean


def test_stages_run_as_pipelines_and_decode_round_trips():
    seen = []
    dl = TfmdDL(
        Pairs(8),
        bs=4,
        after_item=AddOne(),
        before_batch=lambda items: seen.append(len(items)) or items,
        after_batch=[Scale()],
    )
    assert all(isinstance(getattr(dl, s), Pipeline) for s in ("after_item", "before_batch", "after_batch"))
    x, y = dl.one_batch()
    assert type(x) is TFloat and type(y) is TLabel and seen == [4]
    assert x[:, 0].tolist() == [10.0, 20.0, 30.0, 40.0] and y.tolist() == [0, 1, 2, 0]
    dx, dy = dl.decode((x, y))
    assert dx[:, 0].tolist() == [0.0, 1.0, 2.0, 3.0] and torch.equal(dy, y)
    items = dl.decode_batch((x, y), max_n=3)
    assert len(items) == 3 and all(type(it) is tuple and len(it) == 2 for it in items)
    assert [(it[0].item(), it[1]) for it in items] == [(0.0, "cat"), (1.0, "dog"), (2.0, "bird")]


def test_recorded_types_let_plain_tensors_decode():
    dl = TfmdDL(Pairs(8), bs=4, after_batch=Scale())
    x, y = next(iter(dl))
    assert dl._types == (TFloat, TLabel)
    plain = (x.as_subclass(torch.Tensor), y.as_subclass(torch.Tensor))
    decoded = dl.decode_batch(plain, max_n=2)
    assert [(it[0].item(), it[1]) for it in decoded] == [(0.0, "cat"), (1.0, "dog")]
    fresh = TfmdDL(Pairs(8), bs=4, after_batch=Scale())  # nothing iterated yet: one batch is made
    assert fresh.decode(plain)[0][:, 0].tolist() == [0.0, 1.0, 2.0, 3.0] and fresh._types == (TFloat, TLabel)


def test_split_idx_reaches_the_pipelines_and_new_follows_it():
    train = TfmdDL(Pairs(4, split_idx=0), bs=4, after_batch=TrainOnlyNegate())
    assert train.split_idx == 0 and train.one_batch()[0][:, 0].tolist() == [-0.0, -1.0, -2.0, -3.0]
    valid = train.new(Pairs(4, split_idx=1))
    assert valid.split_idx == 1 and valid.one_batch()[0][:, 0].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert train.after_batch.split_idx == 0  # the original keeps its own pipelines
    doubled = train.new(after_batch=[lambda x: x * 2], shuffle=False)
    assert isinstance(doubled.after_batch, Pipeline) and doubled.one_batch()[1].tolist() == [0, 2, 4, 0]


def test_n_inp_and_show_batch_split_inputs_from_targets():
    assert TfmdDL(Pairs(4), bs=2).n_inp == 1
    assert TfmdDL(Pairs(4, n_inp=2), bs=2).n_inp == 2
    assert TfmdDL(Pairs(4, n_inp=2), bs=2, n_inp=1).n_inp == 1
    dl = TfmdDL(Pairs(4), bs=2)
    assert dl._split((1, 2, 3)) == (1, (2, 3)) and dl._split((1,)) == (1, None)


def test_batch_transforms_are_set_up_on_a_batch_of_the_transforms_before_them():
    dl = TfmdDL(Pairs(4), bs=4, after_batch=[BatchMean(), Scale()])
    mean = dl.after_batch[1]
    assert isinstance(mean, BatchMean) and mean.mean == 15.0  # saw x * 10, not its own output
    assert dl.one_batch()[0][:, 0].tolist() == [-15.0, -5.0, 5.0, 15.0]
    assert not hasattr(
        TfmdDL(Pairs(4), bs=4, after_batch=[BatchMean()], do_setup=False).after_batch[0], "mean"
    )


def test_fast_path_with_empty_item_pipelines():
    x, y = TFloat(torch.arange(10.0)[:, None]), torch.arange(10)
    fast = TfmdDL((x, y), bs=4, shuffle=True, after_batch=Scale())
    slow = TfmdDL((x, y), bs=4, shuffle=True, after_batch=Scale(), after_item=lambda o: o)
    assert fast.fast_path and not slow.fast_path
    set_seed(5)
    a = list(fast)
    set_seed(5)
    b = list(slow)
    assert len(a) == 3 and all(torch.equal(p[0], q[0]) and torch.equal(p[1], q[1]) for p, q in zip(a, b))
    assert type(a[0][0]) is TFloat and sorted(torch.cat([o[1] for o in a]).tolist()) == list(range(10))


def test_show_batch_and_show_results_default(capsys):
    dl = TfmdDL(Pairs(6), bs=3, after_batch=Scale())
    samples = dl.show_batch(show=False, max_n=2)
    assert [(s[0].item(), s[1]) for s in samples] == [(0.0, "cat"), (1.0, "dog")]
    frame = dl.show_batch(max_n=2)
    printed = capsys.readouterr().out
    assert list(frame.columns) == ["item_0", "item_1"] and list(frame["item_1"]) == ["cat", "dog"]
    assert "dog" in printed and "bird" not in printed
    x, y = dl.one_batch()
    preds = torch.tensor([2, 2, 1])  # plain model output, decoded like a target
    samples, outs = dl.show_results((x, y), preds, show=False)
    assert [o[0] for o in outs] == ["bird", "bird", "dog"] and [s[1] for s in samples] == LABELS
    frame = dl.show_results((x, y), preds, max_n=2)
    assert list(frame["pred_0"]) == ["bird", "bird"] and list(frame["item_0"]) == ["[0.0]", "[1.0]"]


def test_with_datasets_and_categorize():
    words = ["cat", "dog", "cat", "bird", "dog", "cat", "dog", "bird"]
    dsets = Datasets(
        list(range(8)),
        [[lambda i: TFloat(torch.tensor([float(i)]))], [lambda i: words[i], Categorize()]],
        splits=[[0, 1, 2, 3, 4, 5], [6, 7]],
    )
    dl = TfmdDL(dsets.train, bs=3, after_batch=Scale())
    x, y = dl.one_batch()
    assert type(y) is TensorCategory and x[:, 0].tolist() == [0.0, 10.0, 20.0]
    items = dl.decode_batch((x, y))
    assert [it[1] for it in items] == ["cat", "dog", "cat"] and isinstance(items[0][1], Category)
    assert [it[0].item() for it in items] == [0.0, 1.0, 2.0]
    valid = dl.new(dsets.valid)
    assert valid.n == 2 and [it[1] for it in valid.decode_batch(valid.one_batch())] == ["dog", "bird"]


def test_unknown_arguments_are_refused():
    with pytest.raises(TypeError, match="unexpected arguments"):
        TfmdDL(Pairs(4), batch_tfms=[Scale()])


def test_tfmd_dl_runs_pipelines_decodes_and_shows():
    class Double(Transform):
        def encodes(self, x: torch.Tensor):
            return x * 2

        def decodes(self, x: torch.Tensor):
            return x / 2

    dsets = Datasets(
        list(range(8)),
        [[lambda i: torch.tensor([float(i)])], [lambda i: WORDS[i], Categorize()]],
        splits=[list(range(8)), []] if False else [[0, 1, 2, 3, 4, 5], [6, 7]],
    )
    dl = TfmdDL(dsets.train, bs=3, after_batch=Double())
    x, y = dl.one_batch()
    assert torch.equal(x, torch.tensor([[0.0], [2.0], [4.0]])) and type(y) is TensorCategory
    items = dl.decode_batch((x, y))
    assert items[1][0].item() == 1.0 and items[1][1] == "dog"
    frame = dl.show_batch(max_n=2)
    assert list(frame.columns) == ["item_0", "item_1"] and len(frame) == 2
