"""The wire protocol: every message survives a round trip over a real Pipe, frames are JSON + raw
bytes (never pickle), and a version mismatch or a corrupt frame is a ProtocolError."""

from __future__ import annotations

import ast
import json
import multiprocessing
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from contract import protocol as P

ROOT = Path(__file__).resolve().parent.parent

SAMPLES = [
    P.Hello(pid=123, role="studio"),
    P.SubmitJob("j1", {"prompt": "a red ball", "steps": 8, "guidance": 2.5, "frames": None, "image": "/x/ref.png"},
                "/tmp/media", "shot-j1", 0.1),
    P.CancelJob("j1"),
    P.SwitchModel("/models/a.safetensors", "cuda", False, {"width": 64}),
    P.SwitchModel(),
    P.Shutdown(),
    P.WorkerReady(1, "toy", "ab12", "cpu", 8 << 30, 16, 32, 32, 8.0, 1234, 0.0125, 300 << 20, 1.5, 0.2, 4),
    P.Progress("j1", 3, 20, 1.75),
    P.ClipDone("j1", {"video": "/m/a.mp4"}, {"seed": 7, "timings": {"generate_s": 1.0}, "parameters": {"prompt": "p"}}),
    P.JobError("j1", "cancelled", "cancelled"),
    P.JobError("", "checkpoint", "no checkpoint at /x"),
]


@pytest.mark.parametrize("msg", SAMPLES, ids=lambda m: type(m).__name__)
def test_round_trip(msg):
    assert P.decode(P.encode(msg)) == msg


def test_preview_frames_travel_as_raw_bytes():
    frames = np.random.default_rng(0).integers(0, 256, (16, 32, 32, 3), dtype=np.uint8)
    msg = P.Preview("j1", 5, 20, frames.shape, frames.tobytes())
    frame = P.encode(msg)
    (n,) = struct.unpack(">I", frame[:4])
    header = json.loads(frame[4 : 4 + n])
    assert header["type"] == "Preview" and header["payload"] == "frames"
    assert "frames" not in header["data"]
    assert frame[4 + n :] == frames.tobytes()  # the pixels follow the header untouched
    back = P.decode(frame)
    assert back.shape == (16, 32, 32, 3) and isinstance(back.shape, tuple)
    np.testing.assert_array_equal(np.frombuffer(back.frames, np.uint8).reshape(back.shape), frames)


def test_round_trip_over_a_pipe():
    a, b = multiprocessing.Pipe()
    try:
        for msg in SAMPLES:
            P.send(a, msg)
            assert P.recv(b) == msg
    finally:
        a.close()
        b.close()


def test_version_mismatch_is_a_protocol_error():
    frame = P.encode(P.Progress("j", 1, 2, 0.5), version=P.PROTOCOL_VERSION + 1)
    with pytest.raises(P.ProtocolError, match="version mismatch"):
        P.decode(frame)


def test_version_is_checked_before_the_rest_of_the_header():
    # A future version may change everything else; the error must still name the version.
    raw = json.dumps({"v": 99, "kind": "something new"}).encode()
    with pytest.raises(P.ProtocolError, match="speaks version 99"):
        P.decode(struct.pack(">I", len(raw)) + raw)


@pytest.mark.parametrize(
    "frame",
    [
        b"",
        b"\x00\x00",
        struct.pack(">I", 1000) + b"{}",  # header longer than the frame
        struct.pack(">I", 3) + b"\xff\xfe\xfd",  # not UTF-8 JSON
        struct.pack(">I", 2) + b"[]",  # not an object
    ],
)
def test_corrupt_frames_are_protocol_errors(frame):
    with pytest.raises(P.ProtocolError):
        P.decode(frame)


def _frame(header: dict) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack(">I", len(raw)) + raw


def test_unknown_type_and_bad_fields_are_protocol_errors():
    with pytest.raises(P.ProtocolError, match="unknown message type"):
        P.decode(_frame({"v": P.PROTOCOL_VERSION, "type": "RunArbitraryCode", "data": {}}))
    with pytest.raises(P.ProtocolError, match="malformed Progress"):
        P.decode(_frame({"v": P.PROTOCOL_VERSION, "type": "Progress", "data": {"job_id": "j", "bogus": 1}}))


def test_pickled_objects_are_never_accepted():
    import pickle

    with pytest.raises(P.ProtocolError):
        P.decode(pickle.dumps(P.CancelJob("j")))


def test_encode_rejects_non_messages():
    with pytest.raises(TypeError):
        P.encode({"type": "Progress"})  # type: ignore[arg-type]


def test_messages_are_frozen():
    msg = P.CancelJob("j")
    with pytest.raises(AttributeError):
        msg.job_id = "k"  # type: ignore[misc]


def test_the_contract_package_is_stdlib_only():
    """Both processes import contract/: it must pull in neither the studio (Qt, pydantic) nor the
    model (torch, numpy)."""
    modules = sorted((ROOT / "contract").glob("*.py"))
    assert {m.name for m in modules} >= {"__init__.py", "protocol.py", "request.py", "rules.py"}
    roots = set()
    for module in modules:
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                roots.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                roots.add(node.module.split(".")[0])
    assert roots <= set(sys.stdlib_module_names) | {"__future__", "contract"}, roots


def test_partial_names_are_hidden_and_keep_the_extension():
    for role, ext in P.CLIP_FILES.items():
        name = P.partial_name("shot-1", role)
        assert name.startswith(".") and name.endswith(ext) and name != P.clip_name("shot-1", role)


def test_explicit_shot_fields_override_the_prompt():
    """Inspector fields win over the prompt's own words for the same slot (DESIGN: storyboard fields
    override what the prompt says)."""
    from contract import vocabulary as tw
    from contract.prompt_parser import parse_prompt
    from studio.engine.params import compose_prompt
    from studio.project.schema import Camera, GenParams, Motion, ShotSize

    p = GenParams(prompt="wide shot of a red ball moving left at night, camera static",
                  shot_size=ShotSize.CLOSE_UP, camera=Camera.PAN_LEFT, motion=Motion.BOUNCING)
    parsed = parse_prompt(compose_prompt(p))
    assert (parsed.size, parsed.camera, parsed.motion) == (
        tw.SIZES.index("close-up"), tw.CAMERAS.index("pans left"), tw.MOTIONS.index("bouncing"))
    assert (parsed.subject, parsed.color, parsed.background) == (0, 0, tw.BACKGROUNDS.index("night"))
    plain = parse_prompt(compose_prompt(GenParams(prompt="wide shot of a red ball")))
    assert plain.size == tw.SIZES.index("wide") and plain.unknown == []
