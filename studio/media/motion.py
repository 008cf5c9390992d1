"""Frame-rate conversion between a clip's frames: repeat, blend, or interpolate along optical flow.

The bundled model makes 8 fps clips and the film runs at 24: repeating each frame three times moves
a pan in steps of 0, 0, X (judder); blending fades one position into the next (double images).
"flow" (the default) moves the picture instead: for an output time t between source frames a and b
(t in (0, 1)), DIS optical flow (OpenCV) is computed both ways, a is warped forward by t and b back
by 1 - t, and the two are mixed by t. Occlusions: where following one side's flow and coming back
misses (forward and backward flows disagree), that side's pixel has no match on the other side, so
the other side's sample there is the wrong one and is trusted less. Where the flows disagree over
most of the picture (a cut or a flash inside a clip, flow that failed) the pair falls back to the
nearer source frame, so a failure looks like a repeat, not a smear.

(Measured on toy-world clips against frames rendered at the in-between times, tools in
benchmarks/bench_motion.py: a per-pixel fall back to the nearer frame where both sides disagree cost
accuracy at the edges of flat moving objects, whose flow is ambiguous but whose warp is fine, so the
fall back is per frame pair.)

Rules kept by every method: t = 0 returns the source frame itself (unchanged, so a film at the
clip's own rate is its frames exactly), and the same inputs give the same output bit for bit (DIS is
deterministic; nothing here is random or depends on the thread count).

Speed: the flows, the warp fields and the mixing weights are all computed on a grey image of at most
FLOW_MAX_SIDE px (a smooth field loses little when scaled up); only the two warps and the mix run at
the frame's own size.
"""

from __future__ import annotations

from collections import OrderedDict

import cv2
import numpy as np

MOTIONS = ("flow", "blend", "repeat")
MOTION_LABELS = {"flow": "Smooth (optical flow)", "blend": "Blend", "repeat": "Repeat frames"}
DEFAULT_MOTION = "flow"

# The flow raster: longer side at most FLOW_MAX_SIDE (a 1080p source is quartered: DIS cost grows
# with pixels) and at least FLOW_MIN_SIDE (tiny frames are enlarged: DIS patches are 8 px; going
# further, to 256, bought toy-world clips under 0.4 dB for 3-4x the time).
FLOW_MAX_SIDE = 480
FLOW_MIN_SIDE = 128
CONSISTENT_PX2 = 0.5  # squared round-trip miss (flow-raster px^2) tolerated even for still pixels
CUBIC_MAX_SIDE = 1024  # frames up to this long side are warped bicubic, larger ones bilinear
# Pairs whose flows round-trip on fewer pixels than this are not interpolated (toy-world clips
# measure 0.68-0.98, cuts between unrelated frames 0-0.42).
COHERENT_SHARE = 0.5
_CACHE_PAIRS = 4  # flows kept per interpolator: an 8->24 conversion uses each pair twice in a row
_PRESET = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM


def check_motion(motion: str) -> str:
    if motion not in MOTIONS:
        raise ValueError(f"motion must be one of {MOTIONS}, not {motion!r}")
    return motion


def blend(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """(1 - t) a + t b, rounded, uint8 (SIMD through OpenCV; no float copies of big frames)."""
    return cv2.addWeighted(a, 1.0 - t, b, t, 0.0)


def flow_raster(w: int, h: int) -> tuple[int, int]:
    """The size flows are computed at for a w×h frame."""
    side = max(w, h)
    s = FLOW_MAX_SIDE / side if side > FLOW_MAX_SIDE else max(1.0, FLOW_MIN_SIDE / side)
    return max(8, round(w * s)), max(8, round(h * s))


class _PairFlow:
    """Both flows of one frame pair on the flow raster, how far each side's flow round-trips, and
    whether the pair is coherent enough to interpolate at all."""

    __slots__ = ("fwd", "bwd", "err_a", "err_b", "coherent")

    def __init__(self, fwd: np.ndarray, bwd: np.ndarray):
        self.fwd, self.bwd = fwd, bwd  # h×w×2 float32: a(x) ~ b(x + fwd(x)); b(x) ~ a(x + bwd(x))
        self.err_a = _disagreement(fwd, bwd)  # at a's pixels; 1 = the occlusion threshold
        self.err_b = _disagreement(bwd, fwd)
        share = min(float((self.err_a < 1.0).mean()), float((self.err_b < 1.0).mean()))
        self.coherent = share >= COHERENT_SHARE


def _remap(img: np.ndarray, offset: np.ndarray, interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """img sampled at x + offset(x) (a relative map saves building x + offset)."""
    return cv2.remap(img, offset, None, interpolation | cv2.WARP_RELATIVE_MAP, borderMode=cv2.BORDER_REPLICATE)


def _disagreement(there: np.ndarray, back: np.ndarray) -> np.ndarray:
    """How far following the flow and coming back misses home, 1 at the usual occlusion threshold
    (Sundaram et al. 2010: |u + v|^2 > 0.01 (|u|^2 + |v|^2) + 0.5, u = there(x), v = back(x + u))."""
    back_at = _remap(back, there)
    miss = there + back_at
    tolerance = 0.01 * ((there * there).sum(-1) + (back_at * back_at).sum(-1)) + CONSISTENT_PX2
    return (miss * miss).sum(-1) / tolerance


_STILL = object()  # the "flows" of two identical frames


class FlowInterpolator:
    """Interpolates between frames along DIS optical flow; flows are cached per frame pair.

    One per clip (a key must always name the same two frames); not thread-safe: one per thread.
    """

    def __init__(self, cache_pairs: int = _CACHE_PAIRS):
        self._dis = cv2.DISOpticalFlow_create(_PRESET)
        self._cache: OrderedDict[object, _PairFlow | object] = OrderedDict()
        self._cache_pairs = max(1, cache_pairs)

    def frame(self, a: np.ndarray, b: np.ndarray, t: float, key: object = None) -> np.ndarray:
        """The picture a fraction t of the way from frame a to frame b (H×W×3 uint8 each).

        `key` names the pair (e.g. its frame indices) so its flows are computed once; without one
        they are computed afresh. t <= 0 is a itself, t >= 1 is b itself.
        """
        if t <= 0.0:
            return a
        if t >= 1.0:
            return b
        if a.shape != b.shape:
            raise ValueError(f"frames differ in size: {a.shape} and {b.shape}")
        a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
        pair = self._pair(a, b, key)
        if pair is _STILL:
            return a
        if not pair.coherent:
            return a if t < 0.5 else b
        return _warp_mix(a, b, pair, float(t))

    def _pair(self, a: np.ndarray, b: np.ndarray, key: object) -> _PairFlow | object:
        if key is not None and key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        if np.array_equal(a, b):  # a held frame: nothing moves (and no flow to pay for)
            pair = _STILL
        else:
            fw, fh = flow_raster(a.shape[1], a.shape[0])
            ga, gb = _grey(a, fw, fh), _grey(b, fw, fh)
            pair = _PairFlow(self._dis.calc(ga, gb, None), self._dis.calc(gb, ga, None))
        if key is not None:
            self._cache[key] = pair
            while len(self._cache) > self._cache_pairs:
                self._cache.popitem(last=False)
        return pair


def _grey(frame: np.ndarray, w: int, h: int) -> np.ndarray:
    g = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY)
    if (g.shape[1], g.shape[0]) == (w, h):
        return g
    return cv2.resize(g, (w, h), interpolation=cv2.INTER_AREA if w < g.shape[1] else cv2.INTER_CUBIC)


def _warp_mix(a: np.ndarray, b: np.ndarray, pair: _PairFlow, t: float) -> np.ndarray:
    fwd, bwd = pair.fwd, pair.bwd
    fh, fw = fwd.shape[:2]
    # Where does the pixel at x at time t come from? Linear motion, with each flow read at x rather
    # than at the moving point's origin; each estimate is best near its own end, so they are
    # weighted by closeness (the Super SloMo approximation; exact for a translation):
    #   to a: -(1-t) t fwd + t^2 bwd      to b: (1-t)^2 fwd - t (1-t) bwd
    # (Solving p + t fwd(p) = x by fixed-point iteration instead was tried: better on motions of 15 px
    # a frame, worse at the model's usual 5 px and at occlusions, where the flow DIS extrapolates
    # into a hidden region leads the iteration astray.)
    to_a = (-(1.0 - t) * t) * fwd + (t * t) * bwd
    to_b = ((1.0 - t) ** 2) * fwd + (-t * (1.0 - t)) * bwd
    # Occlusion: an a-pixel whose flow does not round-trip (ea high) is hidden in b, so b's sample
    # at that place is the wrong one (it shows the occluder): trust b less there, and vice versa.
    ea = _remap(pair.err_a, to_a)
    eb = _remap(pair.err_b, to_b)
    trust_a = 1.0 / (1.0 + eb)
    trust_b = 1.0 / (1.0 + ea)
    # Mix by time, each side scaled by its trust (blendLinear divides by the sum of the weights).
    weight_a = (1.0 - t) * trust_a
    weight_b = t * trust_b

    h, w = a.shape[:2]
    if (fw, fh) != (w, h):  # vectors rescaled to the frame's pixels (on the small field), then resized
        scale = np.array([w / fw, h / fh], np.float32)
        to_a, to_b = (cv2.resize(f * scale, (w, h), interpolation=cv2.INTER_LINEAR) for f in (to_a, to_b))
        weight_a, weight_b = (cv2.resize(f, (w, h), interpolation=cv2.INTER_LINEAR) for f in (weight_a, weight_b))
    # bicubic: bilinear softens the picture by an amount that depends on the fractional shift, so an
    # in-between frame is blurrier than its neighbours (a flicker; 1-1.5 dB worse on toy clips, which
    # the film then enlarges); above CUBIC_MAX_SIDE that one-pixel softening is small against the
    # picture and bicubic costs 3x
    interp = cv2.INTER_CUBIC if max(w, h) <= CUBIC_MAX_SIDE else cv2.INTER_LINEAR
    wa = _remap(a, to_a, interp)
    wb = _remap(b, to_b, interp)
    return cv2.blendLinear(wa, wb, weight_a, weight_b)
