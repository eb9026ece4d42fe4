import pytest
import torch

from layered.train.callback import Callback
from layered.vision.errors import VisionError
from layered.vision.gan.learner import GANLearner
from layered.vision.gan.losses import wgan_critic_loss
from layered.vision.gan.switchers import AdaptiveGANSwitcher, FixedGANSwitcher
from layered.vision.gan.trainer import GANTrainer, GradientPenalty


class StepWatch(Callback):
    """Per training step: which network trained, which got gradients, which parameters moved."""

    run_after = (GANTrainer, GradientPenalty)

    def __init__(self):
        self.steps = []

    def before_step(self):
        model = self.learn.model
        self.grads = {
            name: [p.grad is not None for p in net.parameters()]
            for name, net in (("gen", model.generator), ("crit", model.critic))
        }
        self.before = {name: [p.detach().clone() for p in net.parameters()] for name, net in self._nets()}

    def _nets(self):
        return (("gen", self.learn.model.generator), ("crit", self.learn.model.critic))

    def after_step(self):
        moved = {
            name: any(not torch.equal(p, q) for p, q in zip(net.parameters(), self.before[name]))
            for name, net in self._nets()
        }
        mode = "G" if self.learn.model.gen_mode else "C"
        self.steps.append((mode, self.grads, moved))


def modes(watch):
    return "".join(m for m, _, _ in watch.steps)


def test_each_step_gives_gradients_to_and_moves_only_the_network_that_trains(standard_learn):
    watch = StepWatch()
    with standard_learn.no_logging():
        standard_learn.fit(1, 1e-2, cbs=watch)
    assert modes(watch) == "CGCGCGCGC"  # 9 batches, one critic step then one generator step
    for mode, grads, moved in watch.steps:
        training, frozen = ("gen", "crit") if mode == "G" else ("crit", "gen")
        assert all(grads[training]) and not any(grads[frozen])
        assert moved[training] and not moved[frozen]


@pytest.mark.parametrize(
    ("n_crit", "n_gen", "gen_first", "expected"),
    [(2, 1, False, "CCGCCGCCG"), (1, 3, True, "GGGCGGGCG"), (5, 1, False, "CCCCCGCCC")],
)
def test_fixed_switcher_gives_the_expected_step_counts(
    gan_dls, tmp_path, tiny_nets, n_crit, n_gen, gen_first, expected
):
    gen, crit = tiny_nets()
    switcher = FixedGANSwitcher(n_crit=n_crit, n_gen=n_gen)
    learn = GANLearner.standard(gan_dls, gen, crit, switcher=switcher, gen_first=gen_first, path=tmp_path)
    watch = StepWatch()
    with learn.no_logging():
        learn.fit(1, 1e-3, cbs=watch)
    assert modes(watch) == expected
    trainer = learn.gan_trainer
    assert (trainer.n_crit_steps, trainer.n_gen_steps) == (expected.count("C"), expected.count("G"))
    assert len(trainer.crit_losses) == trainer.n_crit_steps and len(trainer.gen_losses) == trainer.n_gen_steps


def test_fixed_switcher_counts_carry_over_into_the_next_epoch(gan_dls, tmp_path, tiny_nets):
    gen, crit = tiny_nets()
    learn = GANLearner.standard(
        gan_dls, gen, crit, switcher=FixedGANSwitcher(n_crit=2, n_gen=2), path=tmp_path
    )
    watch = StepWatch()
    with learn.no_logging():
        learn.fit(2, 1e-3, cbs=watch)
    assert modes(watch) == "CCGGCCGGC" + "CGGCCGGCC"


@pytest.mark.parametrize(
    ("critic_thresh", "expected"),
    [(None, "GCGCGCGCG"), (1e9, "GCGCGCGCG"), (-1.0, "GCCCCCCCC")],  # the standard critic loss is >= 0
)
def test_adaptive_switcher_keeps_training_until_the_loss_is_below_its_threshold(
    gan_dls, tmp_path, tiny_nets, critic_thresh, expected
):
    gen, crit = tiny_nets()
    switcher = AdaptiveGANSwitcher(critic_thresh=critic_thresh)
    learn = GANLearner.standard(gan_dls, gen, crit, switcher=switcher, gen_first=True, path=tmp_path)
    watch = StepWatch()
    with learn.no_logging():
        learn.fit(1, 1e-3, cbs=watch)
    assert modes(watch) == expected


def test_switchers_refuse_bad_settings():
    with pytest.raises(VisionError, match="n_gen must be a positive int"):
        FixedGANSwitcher(n_gen=0)
    with pytest.raises(VisionError, match="gen_thresh must be a number or None"):
        AdaptiveGANSwitcher(gen_thresh="low")
    with pytest.raises(VisionError, match="clip must be a positive number"):
        GANTrainer(clip=-0.1)


def test_wgan_clips_the_critic_weights_after_each_critic_step(gan_dls, tmp_path, tiny_nets):
    gen, crit = tiny_nets()
    learn = GANLearner.wgan(gan_dls, gen, crit, clip=0.05, path=tmp_path)
    with learn.no_logging():
        learn.fit(1, 1e-1)
    assert learn.gan_trainer.n_crit_steps > 0
    assert max(float(p.detach().abs().max()) for p in learn.model.critic.parameters()) <= 0.05 + 1e-6
    # the generator is not clipped
    assert max(float(p.detach().abs().max()) for p in learn.model.generator.parameters()) > 0.05


class PlainCriticLoss(Callback):
    """Beside each critic step's loss, the WGAN critic loss without the penalty, on the same fakes."""

    run_after = (GradientPenalty,)

    def __init__(self):
        self.pairs = []

    def after_loss(self):
        model = self.learn.model
        if not self.learn.training or model.gen_mode:
            return
        with torch.no_grad():
            real, noise = self.learn.xb[0], self.learn.yb[0]
            plain = wgan_critic_loss(model.critic(real), model.critic(model.generator(noise)))
        self.pairs.append((float(self.learn.loss), float(plain)))


def test_wgan_gp_adds_the_gradient_penalty_to_the_critic_loss_and_clips_nothing(gan_dls, tmp_path, tiny_nets):
    gen, crit = tiny_nets(norm_type=None)
    learn = GANLearner.wgan(gan_dls, gen, crit, gp_weight=10.0, path=tmp_path)
    assert learn.gan_trainer.clip is None and learn.gradient_penalty.weight == 10.0
    check = PlainCriticLoss()
    with learn.no_logging():
        learn.fit(1, 1e-3, cbs=check)
    assert len(check.pairs) == learn.gan_trainer.n_crit_steps > 0
    # a random critic's gradient is far from norm 1: each penalised loss is above the plain one
    assert all(loss > plain + 1e-4 for loss, plain in check.pairs)


def test_after_fit_the_model_generates_and_every_weight_is_trainable(standard_learn):
    with standard_learn.no_logging():
        standard_learn.fit(1, 1e-3)
    model = standard_learn.model
    assert model.gen_mode and not model.training
    assert all(p.requires_grad for p in model.parameters())
    # validation ran in generator mode: its loss is the generator's on real targets, a positive BCE
    assert standard_learn.recorder.values[-1][1] > 0


def test_gan_trainer_refuses_a_model_that_is_not_a_gan_module(gan_dls, tmp_path):
    from torch import nn

    from layered.train.learner import Learner

    learn = Learner(gan_dls, nn.Linear(4, 64), loss_func=nn.MSELoss(), cbs=GANTrainer(), path=tmp_path)
    with pytest.raises(VisionError, match="GANTrainer needs a GANModule as the model, got Linear"):
        learn.fit(1)


class BatchRecord(Callback):
    """Each training batch as the model gets it (after GANTrainer's swap), with the mode it trains."""

    run_after = (GANTrainer,)

    def __init__(self):
        self.batches = []

    def before_batch(self):
        if self.learn.training:
            xb, yb = self.learn.xb[0].detach().clone(), self.learn.yb[0].detach().clone()
            self.batches.append(("G" if self.learn.model.gen_mode else "C", xb, yb))


def _plain_dcgan(gen, crit, batches, lr):
    """DCGAN written out: on C, the critic's BCE of the real batch as 1 and the detached fakes as 0 (two
    separate batch-norm batches, both networks in train mode); on G, the fakes' BCE as 1; one Adam
    each (β 0.5, 0.999), gradients zeroed before each backward, only the training network stepping."""
    import torch.nn.functional as F

    opt_g = torch.optim.Adam(gen.parameters(), lr=lr, betas=(0.5, 0.999), eps=1e-5)
    opt_c = torch.optim.Adam(crit.parameters(), lr=lr, betas=(0.5, 0.999), eps=1e-5)
    gen.train(), crit.train()
    for mode, xb, yb in batches:
        if mode == "C":
            real_pred = crit(xb)
            with torch.no_grad():
                fake = gen(yb)
            fake_pred = crit(fake)
            loss = F.binary_cross_entropy_with_logits(real_pred, torch.ones_like(real_pred))
            loss = loss + F.binary_cross_entropy_with_logits(fake_pred, torch.zeros_like(fake_pred))
            opt_c.zero_grad()
            loss.backward()
            opt_c.step()
        else:
            fake_pred = crit(gen(xb))
            loss = F.binary_cross_entropy_with_logits(fake_pred, torch.ones_like(fake_pred))
            opt_g.zero_grad()
            loss.backward()
            opt_g.step()


def test_standard_training_takes_the_same_steps_as_a_hand_written_dcgan_loop(gan_dls, tmp_path, tiny_nets):
    # any slip in the alternation (a frozen network stepping on stale Adam state, the generator's
    # output not detached, a network in the wrong train/eval mode, real and fake batch statistics
    # mixed, gradients left over from the other network's step) moves some weight or running
    # statistic away from the plain loop's
    import copy

    gen, crit = tiny_nets()
    gen_ref, crit_ref = copy.deepcopy(gen), copy.deepcopy(crit)
    learn = GANLearner.standard(gan_dls, gen, crit, path=tmp_path)
    record = BatchRecord()
    with learn.no_logging():
        learn.fit(2, 1e-2, cbs=record)
    assert "".join(m for m, _, _ in record.batches) == "CGCGCGCGC" + "GCGCGCGCG"
    _plain_dcgan(gen_ref, crit_ref, record.batches, 1e-2)
    for net, ref in ((gen, gen_ref), (crit, crit_ref)):
        got, want = net.state_dict(), ref.state_dict()
        assert got.keys() == want.keys()
        for key in got:
            torch.testing.assert_close(got[key], want[key], rtol=1e-4, atol=1e-5, msg=key)
