"""The viewer: the player plus what it shows — a take of the current shot ("Shot", like a source
monitor), the assembled film ("Film", like a program monitor) or two takes side by side (A | B)."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QButtonGroup, QPushButton, QVBoxLayout, QWidget

from studio.errors import StudioError
from studio.ui.film_source import film_source
from studio.ui.frame_source import ConformedSource, SideBySideSource
from studio.ui.player import Player


class Viewer(QWidget):
    filmPosition = Signal(float)  # seconds, while the film is shown

    def __init__(self, doc, media, parent=None):
        super().__init__(parent)
        self.doc = doc
        self.media = media
        self.mode = "shot"  # "shot" | "film" | "compare"
        self.take_ref: tuple[str, str] | None = None
        self.player = Player()
        self.btn_shot = QPushButton("Shot")
        self.btn_shot.setToolTip("Show the selected shot's take")
        self.btn_film = QPushButton("Film")
        self.btn_film.setToolTip("Show the assembled timeline")
        group = QButtonGroup(self)
        for b in (self.btn_shot, self.btn_film):
            b.setCheckable(True)
            b.setObjectName("ModeButton")
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.setFixedWidth(54)
            group.addButton(b)
        self.btn_shot.setChecked(True)
        self.btn_shot.clicked.connect(lambda: self.show_shot(self.doc.current_shot_id))
        self.btn_film.clicked.connect(lambda: self.show_film())
        self.player.header_layout.insertWidget(0, self.btn_shot)
        self.player.header_layout.insertWidget(1, self.btn_film)
        self.player.header_layout.insertSpacing(2, 10)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.player)
        self.player.positionChanged.connect(self._position)
        self._film_timer = QTimer(self)
        self._film_timer.setSingleShot(True)
        self._film_timer.setInterval(30)
        self._film_timer.timeout.connect(lambda: self.show_film(keep_position=True) if self.mode == "film" else None)
        for signal in (doc.timelineChanged, doc.settingsChanged, doc.shotsReset, doc.pathChanged):
            signal.connect(self._timeline_changed)
        doc.takesChanged.connect(self._takes_changed)

    # -- what to show -------------------------------------------------------------------------------
    def show_shot(self, shot_id: str, play: bool = False) -> None:
        """The shot's chosen take (or its newest take)."""
        shot = self.doc.shot(shot_id) if shot_id else None
        take = None
        if shot is not None:
            take = self.doc.chosen_take(shot.id) or (shot.takes[-1] if shot.takes else None)
        if take is None:
            self._set_mode("shot")
            self.take_ref = None
            row = self.doc.row_of(shot_id) if shot is not None else -1
            self.player.clear(f"Shot {row + 1} has no takes yet — Generate it (Ctrl+G)" if shot
                              else "Select a shot, or switch to Film")
            return
        self.show_take(shot.id, take.id, play)

    def show_take(self, shot_id: str, take_id: str, play: bool = False) -> None:
        take = self.doc.take(shot_id, take_id)
        if take is None:
            return
        self._set_mode("shot")
        self.take_ref = (shot_id, take_id)
        source = self.media.source(take)
        if source is None:
            self.player.clear(f"Cannot show this take: {self.media.errors.get(take_id, 'media missing')}")
            return
        shot = self.doc.shot(shot_id)
        number = [t.id for t in shot.takes].index(take_id) + 1
        self.player.set_source(ConformedSource(source, self.doc.settings.fps),
                               f"Shot {self.doc.row_of(shot_id) + 1} · Take {number} · seed {take.params.seed}")
        if play:
            self.player.play()

    def show_compare(self, shot_id: str, a: str, b: str) -> None:
        ta, tb = self.doc.take(shot_id, a), self.doc.take(shot_id, b)
        sa = self.media.source(ta) if ta else None
        sb = self.media.source(tb) if tb else None
        if sa is None or sb is None:
            return
        self._set_mode("compare")
        shot = self.doc.shot(shot_id)
        ids = [t.id for t in shot.takes]
        fps = self.doc.settings.fps
        self.player.set_source(SideBySideSource(ConformedSource(sa, fps), ConformedSource(sb, fps)),
                               f"Shot {self.doc.row_of(shot_id) + 1} · compare",
                               captions=[f"A · Take {ids.index(a) + 1} · seed {ta.params.seed}",
                                         f"B · Take {ids.index(b) + 1} · seed {tb.params.seed}"])
        self.player.set_loop(True)
        self.player.play()

    def show_film(self, play: bool = False, keep_position: bool = False) -> None:
        self._set_mode("film")
        self.take_ref = None
        try:
            source = film_source(self.doc)
        except StudioError as e:
            self.player.clear(f"Cannot play the film: {e.message}")
            return
        if source is None:
            self.player.clear("The timeline is empty: choose takes to build the film")
            return
        self.player.set_source(source, f"Film · {self.doc.title}", keep_position=keep_position)
        if play:
            self.player.play()

    def film_marks(self) -> tuple[int, int, float] | None:
        """The in and out marks on the film (frames at the player's rate, the out frame included)
        when the film is shown and both are set: what an export of the in–out range delivers."""
        p = self.player
        if self.mode != "film" or p.mark_in is None or p.mark_out is None:
            return None
        return p.mark_in, p.mark_out, p.fps

    def seek_film(self, seconds: float) -> None:
        if self.mode != "film":
            self.show_film()
        self.player.pause()
        self.player.seek_seconds(seconds)

    # -- following the document ----------------------------------------------------------------------
    def _set_mode(self, mode: str) -> None:
        self.mode = mode
        self.btn_film.setChecked(mode == "film")
        self.btn_shot.setChecked(mode != "film")
        if mode != "compare":
            self.player.view.captions = []

    def _timeline_changed(self, *_args) -> None:
        if self.mode == "film":
            self._film_timer.start()

    def _takes_changed(self, shot_id: str) -> None:
        if self.mode == "film":
            self._film_timer.start()
        elif self.take_ref and self.take_ref[0] == shot_id and self.doc.take(*self.take_ref) is None:
            self.show_shot(shot_id)

    def _position(self, frame: int) -> None:
        if self.mode == "film":
            self.filmPosition.emit(frame / self.player.fps)
