"""How the vocabulary looks on screen (../shared/TOYWORLD.md, "Vocabulary"): the RGB of each color
and background, the dark parts some subjects carry, and each shot size's subject height."""

from __future__ import annotations

COLOR_RGB = [(220, 40, 40), (245, 220, 40), (40, 190, 70), (40, 70, 230), (245, 245, 245), (20, 20, 20),
             (150, 50, 200)]
BACKGROUND_RGB = [(120, 170, 235), (230, 110, 70), (20, 25, 60), (40, 100, 170), (70, 150, 60),
                  (230, 235, 240), (215, 185, 120), (90, 90, 95)]
DARK_RGB = (35, 35, 40)  # wheels, hull, mast, lantern caps
SIZE_FRACTION = (0.20, 0.35, 0.60)  # subject (bounding-box) height in frame heights: wide, medium, close-up
