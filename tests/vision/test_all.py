"""`from layered.vision.all import *` is all a fastai-style vision script imports."""

import textwrap

SCRIPT = textwrap.dedent(
    """
    from layered.vision.all import *

    torch.manual_seed(0)
    path = Path(folder)
    for label, value in (("dark", 40), ("light", 210)):
        (path / label).mkdir(parents=True)
        for i in range(8):
            pixels = np.full((16, 16, 3), value + i, dtype=np.uint8)
            PILImage.create(pixels).save(path / label / f"{i}.png")
    dls = ImageDataLoaders.from_folder(path, valid_pct=0.25, seed=0, item_tfms=Resize(16), bs=4)
    learn = vision_learner(dls, resnet18, pretrained=False, metrics=partial(accuracy))
    learn.fit_one_cycle(1, 1e-3)
    preds, targs = learn.get_preds()
    probs = F.softmax(preds, dim=1)
    table = pd.DataFrame({"target": targs.tolist(), "p_light": probs[:, 1].tolist()})
    body_is_module = isinstance(learn.model[0], nn.Module)
    """
)


def test_a_fastai_style_script_runs_with_only_the_star_import(tmp_path):
    namespace = {"folder": str(tmp_path / "images")}
    exec(SCRIPT, namespace)
    assert namespace["dls"].vocab == ["dark", "light"]
    assert len(namespace["table"]) == 4 and set(namespace["table"]["target"]) <= {0, 1}
    assert abs(float(namespace["probs"].sum(1).mean()) - 1.0) < 1e-5
    assert namespace["body_is_module"] is True
    # the constructor came from torchvision, by name, only when the learner was built
    assert namespace["resnet18"].function.__module__.startswith("torchvision.models")
