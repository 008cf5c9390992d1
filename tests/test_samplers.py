"""Samplers against the exact answer for Gaussian data.

For x0 ~ N(m, s^2) per dimension under a VP schedule, x_t ~ N(sqrt(ab) m, ab s^2 + 1 - ab), so the
exact noise predictor and the exact probability-flow ODE map x_T -> x0 are known in closed form.
"""

import math

import pytest
import torch
from torch import nn

from model_runtime.diffusion import Schedule
from model_runtime.samplers import METHODS, Cancelled, guided_eps, sample, step_times

SCHEDULES = {"linear": Schedule.linear(), "cosine": Schedule.cosine()}


def gaussian_eps(schedule, m, s):
    """The exact eps*(x, t) for data N(m, s^2), at float times (same ab(t) as the sampler uses)."""

    def eps(x, t):
        ab = schedule.alpha_bar(t.to(torch.float64)).to(x.dtype).view(-1, *[1] * (x.ndim - 1))
        return (1 - ab).sqrt() * (x - ab.sqrt() * m) / (ab * s**2 + 1 - ab)

    return eps


def exact_map(schedule, x_T, m, s):
    ab = schedule.alpha_bar(float(schedule.n - 1))
    return m + s * (x_T - math.sqrt(ab) * m) / (ab * s**2 + 1 - ab) ** 0.5


def image_like_problem(seed=0, dims=2048):
    """Per-dimension means in [-0.8, 0.8] and std log-uniform in [0.02, 1]: a Gaussian with many
    scales, as pixels / latents have (a single scale lets errors cancel by luck)."""
    g = torch.Generator().manual_seed(seed)
    m = torch.rand(dims, generator=g, dtype=torch.float64) * 1.6 - 0.8
    s = torch.exp(torch.rand(dims, generator=g, dtype=torch.float64) * math.log(0.02))
    x_T = torch.randn(2, dims, generator=g, dtype=torch.float64)
    return m, s, x_T


def rms(a, b):
    return float((a - b).pow(2).mean().sqrt())


@pytest.mark.parametrize("sched", SCHEDULES)
def test_ode_samplers_converge_to_the_exact_map(sched):
    schedule = SCHEDULES[sched]
    m, s, x_T = image_like_problem()
    eps, target = gaussian_eps(schedule, m, s), exact_map(schedule, x_T, m, s)
    errors = {
        method: [rms(sample(eps, x_T, schedule, method, k), target) for k in (5, 10, 20, 50)]
        for method in ("ddim", "dpmpp_2m")
    }
    for method, errs in errors.items():
        assert all(a > b for a, b in zip(errs, errs[1:], strict=False)), (method, errs)
    # Second order pays off: DPM-Solver++(2M) well ahead of DDIM at the same budget.
    assert errors["dpmpp_2m"][2] < 0.5 * errors["ddim"][2], errors
    assert errors["dpmpp_2m"][3] < 0.1 * errors["dpmpp_2m"][0], errors


def solver_target(schedule, x_T, m, s):
    """What a perfect solver returns: the exact ODE map down to t = 0, then the final denoise
    (x0-prediction at t = 0).  Free of the small denoise-at-the-end error, so the solver's own
    order of convergence shows."""
    ab_T, ab_0 = schedule.alpha_bar(float(schedule.n - 1)), schedule.alpha_bar(0.0)
    z = (x_T - math.sqrt(ab_T) * m) / (ab_T * s**2 + 1 - ab_T) ** 0.5
    x_0 = math.sqrt(ab_0) * m + (ab_0 * s**2 + 1 - ab_0) ** 0.5 * z
    return m + math.sqrt(ab_0) * s**2 / (ab_0 * s**2 + 1 - ab_0) * (x_0 - math.sqrt(ab_0) * m)


@pytest.mark.parametrize("sched", SCHEDULES)
def test_order_of_convergence(sched):
    """Doubling the steps divides the error by ~2 (DDIM, first order) and by ~4 (2M, second order).
    Catches a wrong multistep ratio r = h_prev / h, which only shows where step sizes jump."""
    schedule = SCHEDULES[sched]
    m, s, x_T = image_like_problem()
    eps, target = gaussian_eps(schedule, m, s), solver_target(schedule, x_T, m, s)
    for method, lo, hi in (("ddim", 1.8, 2.3), ("dpmpp_2m", 3.0, 8.0)):
        errs = [rms(sample(eps, x_T, schedule, method, k), target) for k in (50, 100, 200)]
        ratios = [a / b for a, b in zip(errs, errs[1:], strict=False)]
        assert all(lo < r < hi for r in ratios), (method, errs, ratios)


def test_many_steps_reach_the_exact_map():
    schedule = SCHEDULES["linear"]
    m, s, x_T = 0.5, 0.5, torch.randn(4, 256, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    err = rms(
        sample(gaussian_eps(schedule, m, s), x_T, schedule, "dpmpp_2m", 500), exact_map(schedule, x_T, m, s)
    )
    # What is left is the final denoise from t = 0 (sigma = 0.01): relative size sigma^2 / (2 s^2).
    assert err < 1e-3


def test_float32_run_matches_float64():
    schedule = SCHEDULES["linear"]
    m, s, x_T = image_like_problem(dims=512)
    eps = gaussian_eps(schedule, m, s)
    x64 = sample(eps, x_T, schedule, "dpmpp_2m", 20)
    x32 = sample(eps, x_T.float(), schedule, "dpmpp_2m", 20)
    assert x32.dtype == torch.float32
    assert rms(x32.double(), x64) < 1e-5


def test_ancestral_ddpm_matches_the_data_distribution():
    schedule = SCHEDULES["linear"]
    m, s, n = 0.5, 0.5, 20000
    g = torch.Generator().manual_seed(0)
    x_T = torch.randn(4, n // 4, generator=g, dtype=torch.float64)
    x0 = sample(gaussian_eps(schedule, m, s), x_T, schedule, "ddpm", 1000, generator=g).flatten()
    # 5 standard errors of the sample mean (s/sqrt(n)) and of the sample std (s/sqrt(2n)).
    assert abs(float(x0.mean()) - m) < 5 * s / math.sqrt(n)
    assert abs(float(x0.std()) - s) < 5 * s / math.sqrt(2 * n)


@pytest.mark.parametrize("steps", [10, 37])
def test_strided_ddpm_draws_the_exact_posterior(steps):
    """With point-mass data the x0-prediction is exact, so each strided ancestral step samples the
    true posterior q(x_next | x_t, x0) and every x_t the model sees has the exact marginal
    N(sqrt(ab) m, 1 - ab)."""
    schedule, m, n = SCHEDULES["linear"], 0.7, 20000
    seen = []

    def eps(x, t):
        seen.append((float(t[0]), x.clone()))
        return gaussian_eps(schedule, m, 0.0)(x, t)

    g = torch.Generator().manual_seed(0)
    x_T = math.sqrt(schedule.alpha_bar(999.0)) * m + math.sqrt(1 - schedule.alpha_bar(999.0)) * torch.randn(
        n, generator=g, dtype=torch.float64
    )
    out = sample(eps, x_T[:, None], schedule, "ddpm", steps, generator=g)
    assert len(seen) == steps and torch.allclose(out, torch.full_like(out, m))
    for t, x in seen[1:]:
        ab = schedule.alpha_bar(t)
        sd = math.sqrt(1 - ab)
        assert abs(float(x.mean()) - math.sqrt(ab) * m) < 5 * sd / math.sqrt(n), t
        assert abs(float(x.std()) - sd) < 5 * sd / math.sqrt(2 * n), t


def test_ddpm_is_reproducible_from_the_seed():
    schedule = SCHEDULES["linear"]
    eps = gaussian_eps(schedule, 0.2, 0.3)
    x_T = torch.randn(2, 64, generator=torch.Generator().manual_seed(5))

    def run(seed):
        return sample(eps, x_T, schedule, "ddpm", 50, generator=torch.Generator().manual_seed(seed))

    a, b, c = run(7), run(7), run(8)
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


def test_ddpm_with_all_steps_is_the_classic_chain():
    schedule = SCHEDULES["linear"]
    calls = []

    def eps(x, t):
        calls.append(float(t[0]))
        return torch.zeros_like(x)

    sample(eps, torch.zeros(1, 3), schedule, "ddpm", schedule.n, generator=torch.Generator().manual_seed(0))
    assert calls == [float(t) for t in range(schedule.n - 1, -1, -1)]


class TinyCondNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(8 + 1 + 4, 8)
        self.batches = []

    def forward(self, x, t, cond):
        self.batches.append(x.shape[0])
        return self.lin(torch.cat([x, t[:, None] / 1000, cond], dim=1))


def test_guidance_one_is_exactly_the_conditional_pass():
    torch.manual_seed(0)
    model = TinyCondNet()
    x, t = torch.randn(3, 8), torch.full((3,), 500.0)
    cond, uncond = torch.randn(3, 4), torch.zeros(1, 4)
    with torch.no_grad():
        expected = model(x, t, cond)
        model.batches.clear()
        got = guided_eps(model, cond, uncond, 1.0)(x, t)
    assert torch.equal(got, expected)
    assert model.batches == [3]  # no unconditional half


def test_guidance_batches_both_passes_in_one_forward():
    torch.manual_seed(0)
    model = TinyCondNet()
    x, t = torch.randn(3, 8), torch.full((3,), 250.0)
    cond, uncond = torch.randn(3, 4), torch.zeros(1, 4)
    with torch.no_grad():
        e_c, e_u = model(x, t, cond), model(x, t, uncond.expand(3, 4))
        model.batches.clear()
        got = guided_eps(model, cond, uncond, 4.0)(x, t)
    assert model.batches == [6]
    torch.testing.assert_close(got, e_u + 4.0 * (e_c - e_u))


@pytest.mark.parametrize("method", METHODS)
def test_callback_sees_every_step_and_can_stop(method):
    schedule = SCHEDULES["linear"]
    eps_calls = []

    def eps(x, t):
        eps_calls.append(1)
        return torch.zeros_like(x)

    seen = []

    def record(step, total, x0):
        seen.append((step, total, tuple(x0.shape)))

    x_T = torch.randn(2, 5)
    sample(eps, x_T, schedule, method, 8, callback=record, generator=torch.Generator().manual_seed(0))
    assert seen == [(k, 8, (2, 5)) for k in range(1, 9)]

    eps_calls.clear()
    with pytest.raises(Cancelled):
        sample(eps, x_T, schedule, method, 8, callback=lambda step, total, x0: step == 3)
    assert len(eps_calls) == 3


def test_callback_x0_is_the_final_sample_at_the_last_step():
    schedule = SCHEDULES["linear"]
    previews = []
    x_T = torch.randn(2, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    out = sample(
        gaussian_eps(schedule, 0.1, 0.4),
        x_T,
        schedule,
        "dpmpp_2m",
        6,
        callback=lambda *a: previews.append(a[2]),
    )
    assert torch.equal(previews[-1], out)


def test_bad_arguments_are_one_line_value_errors():
    schedule = SCHEDULES["linear"]
    eps = gaussian_eps(schedule, 0.0, 1.0)
    x = torch.zeros(1, 2)
    with pytest.raises(ValueError, match=", ".join(METHODS)) as err:
        sample(eps, x, schedule, "euler", 10)
    assert "\n" not in str(err.value)
    for bad in (0, -3, 2.5):
        with pytest.raises(ValueError, match="steps"):
            sample(eps, x, schedule, "ddim", bad)
    with pytest.raises(ValueError, match="steps"):
        sample(eps, x, schedule, "ddim", schedule.n + 1)


def test_one_step_returns_the_first_x0_prediction():
    schedule = SCHEDULES["linear"]
    m, s = 0.3, 0.2
    x_T = torch.randn(3, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    for method in METHODS:
        out = sample(gaussian_eps(schedule, m, s), x_T, schedule, method, 1)
        # From pure noise the best single guess is (nearly) the data mean.
        assert float((out - m).abs().max()) < 0.05


def test_partial_start_sdedit():
    """t_start < n-1 integrates from that time: the exact map from x_t at t_start."""
    schedule = SCHEDULES["linear"]
    m, s, t0 = 0.4, 0.3, 600.0
    x_t = torch.randn(2, 256, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    ab = schedule.alpha_bar(t0)
    target = m + s * (x_t - math.sqrt(ab) * m) / math.sqrt(ab * s**2 + 1 - ab)
    calls = []

    def eps(x, t):
        calls.append(float(t[0]))
        return gaussian_eps(schedule, m, s)(x, t)

    out = sample(eps, x_t, schedule, "dpmpp_2m", 30, t_start=t0)
    assert calls[0] == t0
    assert rms(out, target) < 2e-3


@pytest.mark.parametrize("sched", SCHEDULES)
@pytest.mark.parametrize("spacing", ["logsnr", "time", "quadratic"])
def test_step_times_run_from_start_to_zero_strictly_decreasing(sched, spacing):
    ts = step_times(SCHEDULES[sched], 20, spacing)
    assert ts[0] == SCHEDULES[sched].n - 1 and ts[-1] == 0.0 and len(ts) == 20
    assert all(a > b for a, b in zip(ts, ts[1:], strict=False))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_dpmpp_2m_beats_diffusers_default_at_20_steps():
    """The step placement goal: at most half the error of diffusers' DPMSolverMultistepScheduler
    (default settings, same linear schedule, same analytic eps and x_T; see the benchmark)."""
    diffusers = pytest.importorskip("diffusers")
    schedule = SCHEDULES["linear"]
    m, s, x_T = image_like_problem()
    x_T = x_T.float()
    ref = diffusers.DPMSolverMultistepScheduler(
        num_train_timesteps=1000, beta_start=1e-4, beta_end=0.02, prediction_type="epsilon"
    )
    table = ref.alphas_cumprod.double()
    eps_ref = gaussian_eps(schedule, m, s)
    ref.set_timesteps(20)
    x = x_T.clone()
    for t in ref.timesteps:
        ab = table[t.long()].expand(x.shape[0])[:, None]  # diffusers' own table: exact for it
        e = ((1 - ab).sqrt() * (x.double() - ab.sqrt() * m) / (ab * s**2 + 1 - ab)).float()
        x = ref.step(e, t, x).prev_sample
    ab_T = float(table[int(ref.timesteps[0])])
    err_ref = rms(x.double(), m + s * (x_T.double() - math.sqrt(ab_T) * m) / (ab_T * s**2 + 1 - ab_T) ** 0.5)
    err = rms(
        sample(eps_ref, x_T, schedule, "dpmpp_2m", 20).double(), exact_map(schedule, x_T.double(), m, s)
    )
    assert err <= 0.5 * err_ref, (err, err_ref)
