"""The edit journal: a kill -9 at any moment loses at most the last moment of edits.

The kill test runs a real studio session (tests/journal_child.py) that types into a prompt, SIGKILLs
it at seeded random moments, and checks that what the next start recovers holds every edit
acknowledged more than a second before the kill, and that the project always opens. The unit tests
damage the file the ways a crash, a full disk or a hostile folder would.
"""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from project_helpers import SAMPLE_JSON, make_take, sample_project

from studio.project import journal, keeper, store
from studio.project.document import ProjectDocument
from studio.project.schema import Job

CHILD = Path(__file__).resolve().parent / "journal_child.py"
KILLS = 22
KILL_BUDGET_S = 45.0
GRACE_S = 1.0  # an edit acknowledged this long before the kill must survive it


def saved_dict(data) -> dict:
    return json.loads(store.dump_project(data))


def journal_file(folder: Path) -> Path:
    return folder / "autosave" / "journal.jsonl"


@pytest.fixture
def doc(qtbot, tmp_path) -> ProjectDocument:
    d = ProjectDocument()
    store.new_project(tmp_path / "film", sample_project(4))
    assert d.open(tmp_path / "film.vstudio") is None
    return d


def type_prompt(doc: ProjectDocument, text: str, row: int = 0) -> None:
    sid = doc.shot_at(row).id
    for k in range(1, len(text) + 1):
        doc.set_params(sid, prompt=text[:k])


# --- the kill test -----------------------------------------------------------------------------------------
def _run_child(folder: Path, start: int, rng: random.Random, early: bool):
    """Start a session, kill it; returns (acks [(time, n)], kill time, stderr)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, str(CHILD), str(folder), str(start)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, text=True)
    acks: list[tuple[float, int]] = []
    first = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            acks.append((time.monotonic(), int(line)))
            first.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if early:  # a kill while it opens, recovers or starts typing
        time.sleep(rng.uniform(0.0, 1.0))
    else:
        assert first.wait(30), f"the session never typed: {proc.stderr.read() if proc.poll() is not None else ''}"
        time.sleep(rng.uniform(0.2, 1.9))
    killed_at = time.monotonic()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    reader.join(10)
    return acks, killed_at, proc.stderr.read()


def test_kill_minus_nine_at_random_moments_loses_at_most_the_last_second(tmp_path):
    folder = store.new_project(tmp_path / "film", sample_project(7))
    rng = random.Random(20240517)
    start, floor = 0, -1  # next edit number; the newest edit known to be in the project
    kills = made = survived = 0
    worst_loss_s = 0.0
    deadline = time.monotonic() + KILL_BUDGET_S
    while kills < KILLS and time.monotonic() < deadline:
        acks, killed_at, err = _run_child(folder, start, rng, early=kills % 6 == 5)
        kills += 1
        assert "ERROR-OCCURRED" not in err and "Traceback" not in err, err
        # what the next start sees: the recovery it is offered, else the save; project.json always opens
        store.open_project(folder)
        data = store.recover(folder) if store.recovery_available(folder) else store.open_project(folder)
        assert len(data.shots) == 7
        prompt = data.shots[0].params.prompt
        got = int(prompt.removeprefix("edit ")) if prompt.startswith("edit ") else -1
        old_enough = [n for t, n in acks if t <= killed_at - GRACE_S]
        must = max([floor, *old_enough])
        last = acks[-1][1] if acks else start - 1
        assert must <= got <= last + 1, (f"kill {kills}: recovered edit {got}, but edit {must} was acknowledged "
                                         f"{GRACE_S} s before the kill (last acknowledged: {last})")
        made += len(acks)
        survived += sum(1 for _t, n in acks if n <= got)
        lost = [t for t, n in acks if n > got]
        if lost:
            worst_loss_s = max(worst_loss_s, killed_at - lost[0])
        floor, start = got, last + 1
    print(f"\njournal kill test: {kills} kills, {made} edits acknowledged, {survived} recovered, "
          f"{made - survived} lost; oldest lost edit was acknowledged {worst_loss_s * 1000:.0f} ms before its kill")
    assert kills >= 12, "too slow a machine for a meaningful kill test"
    assert made > 0 and survived > 0


# --- the file: torn lines, checksums, patches ----------------------------------------------------------------------
def _journal_states(tmp_path, n: int = 3):
    """A journal written directly (no Qt): a snapshot then n notes edits; returns folder, states, data."""
    data = sample_project(8)
    folder = store.new_project(tmp_path / "film", data)
    j = journal.Journal(folder)
    states = [saved_dict(data)]
    j.write(data)
    for k in range(n):
        data.shots[k % 3].notes = f"edit {k}"
        j.write(data, {data.shots[k % 3].id})
        states.append(saved_dict(data))
    j.close()
    return folder, states, data


def test_each_line_rebuilds_the_state_written(tmp_path):
    folder, states, _ = _journal_states(tmp_path)
    lines = journal_file(folder).read_bytes().splitlines(keepends=True)
    assert len(lines) == len(states)
    # patches hold only what changed since the snapshot: much smaller than it
    assert all(len(line) < len(lines[0]) / 2 for line in lines[1:])
    for k in range(len(lines)):
        journal_file(folder).write_bytes(b"".join(lines[:k + 1]))
        assert journal.read(folder).project == states[k]


def test_a_torn_last_line_is_ignored_wherever_the_write_stopped(tmp_path):
    folder, states, _ = _journal_states(tmp_path)
    raw = journal_file(folder).read_bytes()
    ends = [i + 1 for i, b in enumerate(raw) if b == ord("\n")]
    cuts = set(range(0, len(raw) + 1, max(1, len(raw) // 300))) | {e + d for e in ends for d in (-2, -1, 0, 1)}
    for cut in sorted(c for c in cuts if 0 <= c <= len(raw)):
        journal_file(folder).write_bytes(raw[:cut])
        whole = sum(1 for e in ends if e <= cut)  # lines that were written to the end
        rec = journal.read(folder)
        if whole == 0:
            assert rec is None
        else:
            assert rec.project == states[whole - 1], cut


def test_a_checksum_mismatch_is_ignored(tmp_path):
    folder, states, _ = _journal_states(tmp_path)
    lines = journal_file(folder).read_bytes().splitlines(keepends=True)
    bad = lines[-1].replace(b"edit 2", b"edit X")  # same length, other bytes: a damaged sector
    journal_file(folder).write_bytes(b"".join(lines[:-1]) + bad)
    assert journal.read(folder).project == states[-2]
    # a damaged patch in the middle costs nothing: each patch completes the snapshot on its own
    journal_file(folder).write_bytes(lines[0] + lines[1].replace(b"edit 0", b"edit X") + lines[2] + lines[3])
    assert journal.read(folder).project == states[-1]
    # a damaged snapshot leaves nothing to rebuild: recovery falls back to the autosave, else nothing
    journal_file(folder).write_bytes(lines[0][:40] + b"X" + lines[0][41:] + b"".join(lines[1:]))
    assert journal.read(folder) is None
    assert not store.recovery_available(folder)


def test_a_journal_that_validates_badly_falls_back_to_the_autosave(tmp_path):
    folder, states, data = _journal_states(tmp_path)
    data.title = "autosaved"
    store.autosave(folder, data)
    lines = journal_file(folder).read_bytes().splitlines(keepends=True)
    obj = json.loads(lines[-1].split(b" ", 1)[1])
    obj["t"] = time.time_ns() + 10**9  # newer than the autosave, and holding nonsense
    obj["rest"] = {"title": 5}
    journal_file(folder).write_bytes(b"".join(lines[:-1]) + journal.encode_line(json.dumps(obj)))
    assert store.recovery_available(folder)
    assert store.recover(folder).title == "autosaved"


def test_compaction_rewrites_the_journal_as_one_snapshot(tmp_path, monkeypatch):
    folder, _, data = _journal_states(tmp_path, n=0)
    monkeypatch.setattr(journal, "COMPACT_SLACK", 0)  # compact as soon as the file passes 2 snapshots
    j = journal.Journal(folder)
    j.write(data)
    snapshot = journal_file(folder).stat().st_size
    for k in range(200):
        data.shots[0].notes = f"note {k}" * 20
        j.write(data, {data.shots[0].id})
        assert journal_file(folder).stat().st_size <= 2 * snapshot + 2000
    j.close()
    assert journal.read(folder).project == saved_dict(data)
    assert journal_file(folder).read_bytes().count(b"\n") < 200


# --- the document: what is journaled, and when ------------------------------------------------------------------
def test_every_kind_of_change_is_journaled_within_the_flush_interval(qtbot, doc, monkeypatch):
    monkeypatch.setattr(keeper, "FLUSH_MS", 30)  # (the test's pace; the rule is the same)
    folder = doc.path
    assert not journal_file(folder).exists()  # opening writes nothing
    a, b = doc.shot_ids()[:2]
    steps = [
        lambda: type_prompt(doc, "a lantern"),
        lambda: doc.set_notes(b, "notes"),
        lambda: doc.add_shots(None, row=1),
        lambda: doc.move_shots([a], 3),
        lambda: doc.delete_shots([b]),
        lambda: doc.undo_stack.undo(),
        lambda: doc.undo_stack.redo(),
        lambda: doc.undo_stack.undo(),
        lambda: doc.rate_take(a, doc.shot(a).takes[1].id, 5),
        lambda: doc.choose_take(a, doc.shot(a).takes[1].id),
        lambda: doc.trim_clip(a, 0.1, 1.0),
        lambda: doc.set_transition(a, "crossfade", 0.5),
        lambda: doc.mark_queued([a]),
        lambda: doc.mark_failed(a, "out of memory"),
        lambda: doc.add_take(b, make_take(doc.shot(b).params, 99)),
        lambda: doc.set_queue([Job(shot_id=a, params=doc.shot(a).params)]),
        lambda: doc.set_title("renamed"),
        lambda: doc.set_project_settings(fps=30),
        lambda: doc.import_storyboard(SAMPLE_JSON),
        lambda: doc.import_storyboard(SAMPLE_JSON, replace=True),
    ]
    for k, step in enumerate(steps):
        step()
        assert doc._keeper._flush_timer.isActive()  # pending: written by the timer, not at each keystroke
        qtbot.waitUntil(lambda: not doc._keeper._flush_timer.isActive(), timeout=3 * keeper.FLUSH_MS + 1000)
        assert journal.read(folder).project == saved_dict(doc.data), f"step {k}"


def test_recovery_offers_the_journal_and_a_save_folds_it_in(qtbot, doc):
    folder = doc.path
    doc.set_title("after the save")
    doc.autosave_now()  # an older state in the autosave
    type_prompt(doc, "typed after the autosave")
    assert doc.journal_now() is None
    edited = saved_dict(doc.data)
    # crash: a new session is offered the journal's state (newer than the autosave)
    assert ProjectDocument.recovery_available(folder)
    fresh = ProjectDocument()
    with qtbot.waitSignal(fresh.recoveryAvailable):
        assert fresh.open(folder) is None
    assert fresh.shot_at(0).params.prompt != "typed after the autosave"
    assert fresh.open(folder, recover=True) is None
    assert saved_dict(fresh.data) == edited and fresh.is_dirty()
    assert fresh.save() is None
    # folded into the save: project.json holds the edits, no autosave or journal is left
    assert saved_dict(store.open_project(folder)) == edited
    assert not journal_file(folder).exists() and not store.autosave_file(folder).exists()
    assert not store.recovery_available(folder)


def test_no_journal_after_a_save_and_the_next_edit_starts_a_new_one(qtbot, doc):
    folder = doc.path
    type_prompt(doc, "one")
    assert doc.journal_now() is None and journal_file(folder).exists()
    assert doc.save() is None
    assert not journal_file(folder).exists()
    qtbot.wait(keeper.FLUSH_MS + 100)
    assert not journal_file(folder).exists()  # nothing pending after a save
    type_prompt(doc, "two")
    assert doc.journal_now() is None
    assert journal_file(folder).read_bytes().count(b"\n") == 1  # a fresh snapshot
    assert journal.read(folder).project == saved_dict(doc.data)
    # Save As: the journal this session wrote in the old folder goes too
    assert doc.save_as(folder.parent / "copy") is None
    assert not journal_file(folder).exists() and not journal_file(doc.path).exists()


def test_a_declined_recovery_is_kept_aside_when_the_new_session_writes(qtbot, doc):
    folder = doc.path
    type_prompt(doc, "from the crashed session")
    doc.journal_now()
    crashed = journal_file(folder).read_bytes()
    fresh = ProjectDocument()
    assert fresh.open(folder) is None  # the user said no
    assert journal_file(folder).read_bytes() == crashed  # still there until the new session writes
    fresh.set_title("new session")
    assert fresh.journal_now() is None
    assert (folder / "autosave" / journal.PREVIOUS_FILE).read_bytes() == crashed
    assert store.recover(folder).title == "new session"


def test_a_full_disk_is_one_warning_and_editing_goes_on(qtbot, doc, monkeypatch):
    monkeypatch.setattr(keeper, "RETRY_MS", 200)
    folder = doc.path
    type_prompt(doc, "before")
    assert doc.journal_now() is None
    real_write = os.write

    def half_then_full(fd, data):  # the disk fills in the middle of a line
        real_write(fd, bytes(data[:len(data) // 2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def full(*_args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(journal, "_os_write", half_then_full)
    monkeypatch.setattr(journal, "atomic_write", full)  # nor can a fresh snapshot be written
    errors = []
    doc.errorOccurred.connect(lambda kind, msg: errors.append((kind, msg)))
    type_prompt(doc, "during")
    assert doc.journal_now() is not None
    assert [k for k, _ in errors] == ["journal"]
    assert "No space left on device" in errors[0][1] and "\n" not in errors[0][1]
    # the file is as good as before: the partial line was cut off
    assert journal.read(folder).project["shots"][0]["params"]["prompt"] == "before"
    doc.set_notes(doc.shot_at(1).id, "still editing")
    assert doc.journal_now() is not None  # (after a failed append the next write is a snapshot)
    assert len(errors) == 1  # one warning, not one per write
    assert doc.shot_at(0).params.prompt == "during" and doc.shot_at(1).notes == "still editing"
    assert journal.read(folder).project["shots"][0]["params"]["prompt"] == "before"
    monkeypatch.undo()  # room again: the keeper's retry catches up by itself
    assert doc._keeper._flush_timer.isActive()
    qtbot.waitUntil(lambda: doc._keeper.last_error is None, timeout=keeper.RETRY_MS + 2000)
    assert journal.read(folder).project == saved_dict(doc.data)


def test_a_journal_linked_outside_the_folder_is_refused(qtbot, doc, tmp_path):
    folder = doc.path
    # a valid journal outside, linked in: never read, never written
    other = store.new_project(tmp_path / "other", sample_project(2))
    j = journal.Journal(other)
    theirs = sample_project(2)
    theirs.title = "not this project"
    j.write(theirs)
    j.close()
    outside = journal_file(other)
    before = outside.read_bytes()
    journal_file(folder).symlink_to(outside)
    assert journal.read(folder) is None and not store.recovery_available(folder)
    errors = []
    doc.errorOccurred.connect(lambda kind, msg: errors.append(kind))
    type_prompt(doc, "edit")
    assert doc.journal_now() is not None and errors == ["project_link"]
    assert outside.read_bytes() == before
    store.discard_recovery(folder)  # a save's cleanup removes the link, not what it points to
    assert outside.read_bytes() == before and not journal_file(folder).is_symlink()
    # the whole autosave folder linked out: refused the same way
    (folder / "autosave").rmdir()
    (folder / "autosave").symlink_to(other / "autosave", target_is_directory=True)
    assert journal.read(folder) is None and not store.recovery_available(folder)
    assert doc.journal_now() is not None
    assert outside.read_bytes() == before
