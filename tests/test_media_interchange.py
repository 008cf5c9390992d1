import re

import opentimelineio as otio
import pytest

from studio.errors import StudioError
from studio.media.assembly import assembled_duration
from studio.media.interchange import from_otio, read_timeline, to_otio, write_timeline
from studio.media.resolve import segments_from_project
from studio.project.schema import Transition
from tests.media_testkit import make_project, ramp, solid, textured


def build(tmp_path, lead="cut"):
    folder = tmp_path / "p.vstudio"
    proj = make_project(
        folder,
        [
            {"frames": textured(16), "transition": lead, "transition_s": 0.0 if lead == "cut" else 0.5},
            {"frames": textured(16, seed=3), "in_s": 0.25, "out_s": 1.75, "transition": "crossfade", "transition_s": 0.5},
            {"frames": solid((1, 2, 3)), "transition": "fade_black", "transition_s": 1.0},
            {"frames": ramp(24), "in_s": 0.5},
        ],
    )  # fmt: skip
    return proj, folder


@pytest.mark.parametrize("lead", ["cut", "crossfade", "fade_black"])
def test_otio_round_trip(tmp_path, lead):
    proj, folder = build(tmp_path, lead)
    path = write_timeline(proj, folder, tmp_path / "cut.otio")
    expected = [(c, s.transition) for c, s in zip(proj.timeline.clips, proj.shots, strict=True)]
    if lead == "crossfade":  # a crossfade into the first clip is a cut in the film, so in the file too
        expected[0] = (expected[0][0], Transition())
    assert [tuple(r) for r in read_timeline(path, proj, folder)] == expected
    # the OTIO track runs as long as the assembled film
    t = otio.adapters.read_from_file(str(path))
    assert t.duration().to_seconds() == pytest.approx(assembled_duration(segments_from_project(proj, folder)))


def test_otio_structure(tmp_path):
    proj, folder = build(tmp_path)
    t = to_otio(proj, folder)
    items = list(t.tracks[0])
    kinds = [type(i).__name__ for i in items]
    assert kinds == ["Clip", "Transition", "Clip", "Transition", "Gap", "Transition", "Clip", "Clip"]
    dissolve = items[1]
    assert dissolve.transition_type == otio.schema.TransitionTypes.SMPTE_Dissolve
    assert dissolve.in_offset.to_seconds() == dissolve.out_offset.to_seconds() == pytest.approx(0.25)
    # the trim shows through: source_range plus what the transitions borrow
    assert items[2].visible_range().start_time.to_seconds() == pytest.approx(0.25)
    assert items[2].visible_range().end_time_exclusive().to_seconds() == pytest.approx(1.75)
    assert items[4].duration().to_seconds() == pytest.approx(0.5)  # black between the fades
    ref = items[0].media_reference
    assert isinstance(ref, otio.schema.ExternalReference)
    assert ref.target_url == (folder / proj.shots[0].takes[0].clip).absolute().as_uri()
    assert items[7].source_range.start_time.to_seconds() == pytest.approx(0.5)


def test_match_by_media_path_without_ids(tmp_path):
    proj, folder = build(tmp_path)
    t = to_otio(proj, folder)
    for item in t.tracks[0]:
        item.metadata.pop("vstudio", None)
    assert [r.clip for r in from_otio(t, proj, folder)] == proj.timeline.clips
    assert [r.transition for r in from_otio(t, proj, folder)] == [s.transition for s in proj.shots]


def test_unknown_media_is_a_user_error(tmp_path):
    proj, folder = build(tmp_path)
    t = to_otio(proj, folder)
    clip = t.tracks[0][0]
    clip.metadata.pop("vstudio")
    clip.media_reference.target_url = "file:///elsewhere/other.mp4"
    with pytest.raises(StudioError) as e:
        from_otio(t, proj, folder)
    assert e.value.kind == "interchange"
    bad = tmp_path / "bad.otio"
    bad.write_text("{not json")
    with pytest.raises(StudioError):
        read_timeline(bad, proj, folder)


def test_edl(tmp_path):
    proj, folder = build(tmp_path)
    path = write_timeline(proj, folder, tmp_path / "cut.edl")
    text = path.read_text()
    assert text.startswith("TITLE: Test film")
    events = re.findall(r"^(\d{3})\s+(\S+)\s+V\s+(C|D)\s*(\d{3})?", text, re.M)
    assert [e[2] for e in events].count("D") == 3  # the crossfade, and a dissolve to and from black
    assert ("003", "BL", "D", "012") in events  # fade to black: 12 frames = 0.5 s at 24 fps
    assert "* FROM CLIP: file://" in text
    t = otio.adapters.read_from_file(str(path), adapter_name="cmx_3600", rate=24)
    assert t.duration().to_seconds() == pytest.approx(7.5)
    clips = [i for i in t.tracks[0] if isinstance(i, otio.schema.Clip)]
    black = [c for c in clips if isinstance(c.media_reference, otio.schema.GeneratorReference)]
    assert len(clips) - len(black) == 4 and len(black) == 1  # the reader turns BL into a black generator


@pytest.mark.parametrize("lead", ["cut", "fade_black"])
def test_fcp_xml(tmp_path, lead):
    proj, folder = build(tmp_path, lead)
    path = write_timeline(proj, folder, tmp_path / "cut.xml")
    text = path.read_text()
    assert "<xmeml" in text and "<alignment>end-black</alignment>" in text
    assert text.count("<alignment>start-black</alignment>") == (2 if lead == "fade_black" else 1)
    t = otio.adapters.read_from_file(str(path), adapter_name="fcp_xml")
    assert t.duration().to_seconds() == pytest.approx(7.5)
    clips = [i for i in t.tracks[0] if isinstance(i, otio.schema.Clip)]
    assert [c.media_reference.target_url.rsplit("/", 1)[-1] for c in clips] == [
        f"shot{i}_take1.mp4" for i in range(1, 5)
    ]


def test_unknown_extension(tmp_path):
    proj, folder = build(tmp_path)
    with pytest.raises(StudioError) as e:
        write_timeline(proj, folder, tmp_path / "cut.aaf")
    assert e.value.kind == "settings"
