"""Schedules and the noise-prediction loss."""

import math

import pytest
import torch

from model_runtime.diffusion import Schedule, noise_prediction_loss


def test_linear_betas():
    sch = Schedule.linear(n=1000, beta_start=1e-4, beta_end=0.02)
    assert sch.n == 1000 and len(sch.betas) == 1000 and len(sch.alphas_cumprod) == 1000
    assert sch.betas.dtype == torch.float64 and sch.alphas_cumprod.dtype == torch.float64
    assert float(sch.betas[0]) == pytest.approx(1e-4, rel=1e-12)
    assert float(sch.betas[-1]) == pytest.approx(0.02, rel=1e-12)
    torch.testing.assert_close(sch.alphas_cumprod, torch.cumprod(1 - sch.betas, 0))


@pytest.mark.parametrize("n", [1000, 50])
def test_cosine_alpha_bar_decreases_in_unit_interval(n):
    ab = Schedule.cosine(n).alphas_cumprod
    assert bool((ab > 0).all()) and bool((ab <= 1).all())
    assert bool((ab[1:] < ab[:-1]).all())
    # Nichol & Dhariwal: ab(t) = f(t) / f(0), f(u) = cos((u + s) / (1 + s) * pi / 2)^2.
    f = lambda u: math.cos((u + 0.008) / 1.008 * math.pi / 2) ** 2  # noqa: E731
    assert float(ab[n // 2]) == pytest.approx(f((n // 2 + 1) / n) / f(0), rel=1e-9)


@pytest.mark.parametrize("make", [Schedule.linear, Schedule.cosine])
def test_continuous_time_helpers(make):
    sch = make()
    ints = torch.arange(sch.n, dtype=torch.float64)
    torch.testing.assert_close(sch.alpha_bar(ints), sch.alphas_cumprod)  # exact on the grid
    assert sch.alpha_bar(-1.0) == 1.0 and sch.sigma(-1.0) == 0.0 and sch.lambda_(-1.0) == math.inf
    fine = torch.linspace(-1, sch.n - 1, 5001, dtype=torch.float64)
    ab = sch.alpha_bar(fine)
    assert bool((ab[1:] < ab[:-1]).all())  # strictly decreasing between the integers too
    assert sch.alpha_bar(10.5) == pytest.approx(
        math.sqrt(float(sch.alphas_cumprod[10] * sch.alphas_cumprod[11]))
    )
    torch.testing.assert_close(sch.alpha(fine) ** 2 + sch.sigma(fine) ** 2, torch.ones_like(fine))
    assert sch.alpha_bar(300.25) == pytest.approx(float(sch.alpha_bar(torch.tensor([300.25]))[0]), rel=1e-12)
    for t in (0.0, 3.7, 250.0, 998.2):
        assert sch.t_of_lambda(sch.lambda_(t)) == pytest.approx(t, abs=1e-6)


def test_q_sample_integer_and_float_times():
    sch = Schedule.linear()
    x0, noise = torch.randn(3, 2, 4), torch.randn(3, 2, 4)
    t = torch.tensor([0, 500, 999])
    out = sch.q_sample(x0, t, noise)
    ab = sch.alphas_cumprod[t].float().view(3, 1, 1)
    torch.testing.assert_close(out, ab.sqrt() * x0 + (1 - ab).sqrt() * noise)
    assert out.dtype == torch.float32
    torch.testing.assert_close(sch.q_sample(x0, t.float(), noise), out)


class Recorder(torch.nn.Module):
    """Returns a constant prediction and remembers what it was called with."""

    def __init__(self, value=0.0):
        super().__init__()
        self.value = value
        self.calls = []

    def forward(self, x, t, cond):
        self.calls.append((x.clone(), t.clone(), cond.clone()))
        return torch.full_like(x, self.value)


def batch(b=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(b, 2, 3, 4, generator=g), torch.randn(b, 5, generator=g) + 3.0, torch.zeros(1, 5)


def test_loss_is_mse_against_the_drawn_noise_at_integer_times():
    sch = Schedule.linear()
    x0, cond, null = batch()
    model = Recorder(0.25)
    loss = noise_prediction_loss(model, x0, cond, null, sch, generator=torch.Generator().manual_seed(1))
    x_t, t, _ = model.calls[0]
    assert t.dtype == torch.float32 and bool((t == t.round()).all()) and 0 <= t.min() and t.max() < sch.n
    ab = sch.alphas_cumprod[t.long()].float().view(-1, 1, 1, 1)
    noise = (x_t - ab.sqrt() * x0) / (1 - ab).sqrt()  # recover the noise the loss drew
    assert float(loss) == pytest.approx(float(((0.25 - noise) ** 2).mean()), rel=1e-4)


def test_loss_trains_on_the_noise_it_is_given():
    sch = Schedule.linear()
    x0, cond, null = batch()
    given = torch.randn(x0.shape, generator=torch.Generator().manual_seed(9))
    model = Recorder(0.25)
    loss = noise_prediction_loss(model, x0, cond, null, sch, generator=torch.Generator().manual_seed(1), noise=given)
    x_t, t, _ = model.calls[0]
    ab = sch.alphas_cumprod[t.long()].float().view(-1, 1, 1, 1)
    torch.testing.assert_close(x_t, ab.sqrt() * x0 + (1 - ab).sqrt() * given)
    assert float(loss) == pytest.approx(float(((0.25 - given) ** 2).mean()), rel=1e-4)
    with pytest.raises(ValueError, match="noise shape"):
        noise_prediction_loss(model, x0, cond, null, sch, noise=given[:1])


def test_loss_is_deterministic_given_the_generator():
    sch = Schedule.cosine()
    x0, cond, null = batch()
    model = Recorder()

    def run(seed):
        return noise_prediction_loss(
            model, x0, cond, null, sch, generator=torch.Generator().manual_seed(seed)
        )

    assert torch.equal(run(3), run(3))
    assert not torch.equal(run(3), run(4))


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 1.0])
def test_condition_dropout_rate(p):
    sch = Schedule.linear()
    b = 4000
    x0 = torch.zeros(b, 2)
    cond, null = torch.ones(b, 3), torch.full((1, 3), -1.0)
    model = Recorder()
    noise_prediction_loss(model, x0, cond, null, sch, p_uncond=p, generator=torch.Generator().manual_seed(0))
    seen = model.calls[0][2]
    dropped = (seen == -1).all(1)
    assert bool((dropped | (seen == 1).all(1)).all())  # whole rows, either kept or replaced
    frac = float(dropped.float().mean())
    assert abs(frac - p) <= 5 * math.sqrt(p * (1 - p) / b) + 1e-12


def test_loss_mask_and_known_frames_are_excluded():
    sch = Schedule.linear()
    x0, cond, null = batch(8)
    frames = torch.arange(2).view(1, 2, 1, 1)
    known = frames == 0  # first "frame" is a clean conditioning frame
    gen = lambda: torch.Generator().manual_seed(7)  # noqa: E731

    class Garbage(Recorder):
        """Exact on unknown elements (recovers the noise), arbitrary on the known ones."""

        def __init__(self, junk):
            super().__init__()
            self.junk = junk

        def forward(self, x, t, cond):
            self.calls.append((x.clone(), t.clone(), cond.clone()))
            ab = sch.alphas_cumprod[t.long()].float().view(-1, 1, 1, 1)
            noise = (x - ab.sqrt() * x0) / (1 - ab).sqrt()
            return torch.where(known, torch.full_like(x, self.junk), noise + 0.5)

    a, b = Garbage(100.0), Garbage(-7.0)
    la = noise_prediction_loss(a, x0, cond, null, sch, generator=gen(), known_mask=known)
    lb = noise_prediction_loss(b, x0, cond, null, sch, generator=gen(), known_mask=known)
    assert float(la) == pytest.approx(0.25, rel=1e-4) and float(lb) == pytest.approx(0.25, rel=1e-4)
    # Known elements are fed clean.
    x_t = a.calls[0][0]
    assert torch.equal(x_t[:, :1], x0[:, :1]) and not torch.equal(x_t[:, 1:], x0[:, 1:])
    # An explicit x_known is what the model sees there.
    c = Garbage(0.0)
    noise_prediction_loss(
        c, x0, cond, null, sch, generator=gen(), x_known=torch.zeros_like(x0), known_mask=known
    )
    assert bool((c.calls[0][0][:, :1] == 0).all())
    # loss_mask works the same way (here: the complement is masked out).
    ld = noise_prediction_loss(Garbage(55.0), x0, cond, null, sch, generator=gen(), loss_mask=~known)
    assert float(ld) == pytest.approx(0.25, rel=1e-4)


def test_loss_backpropagates_into_the_model():
    sch = Schedule.linear()
    x0, cond, null = batch(4)
    lin = torch.nn.Linear(4, 4)
    model = lambda x, t, c: lin(x)  # noqa: E731
    noise_prediction_loss(model, x0, cond, null, sch, generator=torch.Generator().manual_seed(0)).backward()
    assert lin.weight.grad is not None and float(lin.weight.grad.abs().sum()) > 0


def test_v_prediction_target_is_alpha_eps_minus_sigma_x0():
    """A model that answers with the true v has zero loss; one that answers with the noise does not."""
    sch = Schedule.linear()
    x0 = torch.randn(4, 3, 2, 4, 4, generator=torch.Generator().manual_seed(5))
    cond = torch.ones(4, 1)
    # replay the loss's own draws (t, then noise) to know the true v
    g = torch.Generator().manual_seed(9)
    t = torch.randint(0, sch.n, (4,), generator=g)
    noise = torch.randn(x0.shape, generator=g)
    shape = (-1, 1, 1, 1, 1)
    v = sch.alpha(t).float().view(shape) * noise - sch.sigma(t).float().view(shape) * x0

    def oracle(x_t, tt, c):
        return v

    def eps_model(x_t, tt, c):
        return noise

    loss_v = noise_prediction_loss(oracle, x0, cond, cond, sch, p_uncond=0.0,
                                   generator=torch.Generator().manual_seed(9), prediction="v")
    assert float(loss_v) < 1e-10
    loss_eps = noise_prediction_loss(eps_model, x0, cond, cond, sch, p_uncond=0.0,
                                     generator=torch.Generator().manual_seed(9), prediction="v")
    assert float(loss_eps) > 1e-3
    with pytest.raises(ValueError):
        noise_prediction_loss(oracle, x0, cond, cond, sch, prediction="x")


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0])
def test_high_noise_share_draws_that_share_of_t_from_the_top(p):
    sch = Schedule.linear()
    b = 4000
    model = Recorder()
    noise_prediction_loss(model, torch.zeros(b, 2), torch.ones(b, 3), torch.zeros(1, 3), sch,
                          p_high_noise=p, high_noise_from=0.7, generator=torch.Generator().manual_seed(0))
    t = model.calls[0][1]
    top = float((t >= 700).float().mean())
    # a uniform draw lands in the top 30% that often anyway; the rest of the share all lands there
    expected = p + (1 - p) * 0.3
    assert abs(top - expected) <= 5 * math.sqrt(expected * (1 - expected) / b) + 1e-12
    assert 0 <= t.min() and t.max() < sch.n


def test_no_high_noise_share_keeps_the_draws_of_earlier_runs():
    """With p_high_noise 0 the noise is the generator's second draw, right after t: a run resumed from
    before the option existed sees the same numbers."""
    sch = Schedule.linear()
    x0, cond, null = batch()
    model = Recorder()
    noise_prediction_loss(model, x0, cond, null, sch, p_high_noise=0.0, generator=torch.Generator().manual_seed(5))
    x_t, t, _ = model.calls[0]
    g = torch.Generator().manual_seed(5)
    assert torch.equal(t.long(), torch.randint(0, sch.n, (x0.shape[0],), generator=g))
    assert torch.allclose(x_t, sch.q_sample(x0, t.long(), torch.randn(x0.shape, generator=g)))
    with pytest.raises(ValueError):
        noise_prediction_loss(model, x0, cond, null, sch, p_high_noise=1.5)
