"""show_training_loop: which callbacks run at each event, in order."""

from train_tasks import linear_learner

from layered.train.callbacks.lr_finder import LRFinder
from layered.train.callbacks.short_epoch import ShortEpochCallback
from layered.train.training_loop import loop_callbacks


def test_the_loop_lists_callbacks_in_their_order_and_phase(capsys):
    learn, _ = linear_learner()
    learn.add_cbs([ShortEpochCallback(), LRFinder()])
    runs = loop_callbacks(learn)
    by_event = {}
    for depth, event, names in runs:
        by_event.setdefault(event, []).append((depth, names))
    assert by_event["before_fit"] == [(0, ["TrainEvalCallback", "Recorder", "LRFinder"])]
    # after_batch runs in training and in validation; LRFinder (run_valid=False) only in training
    train_batch, valid_batch = by_event["after_batch"]
    assert train_batch == (3, ["TrainEvalCallback", "Recorder", "LRFinder", "ShortEpochCallback"])
    assert valid_batch == (3, ["TrainEvalCallback", "Recorder", "ShortEpochCallback"])
    text = learn.show_training_loop()
    assert capsys.readouterr().out.strip() == text
    lines = text.splitlines()
    assert lines[0] == "fit:" and "    before_epoch: Recorder" in lines
    assert "        after_batch: TrainEvalCallback, Recorder, LRFinder, ShortEpochCallback" in lines
    assert not any(line.strip().startswith("after_cancel_step") for line in lines)  # no callback runs there
