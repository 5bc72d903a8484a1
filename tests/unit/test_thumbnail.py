"""The check's thumbnail is its screenshot reduced, not a second picture of the page."""

from __future__ import annotations

import io

from PIL import Image

from worker.check.boot import thumbnail_of


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_thumbnail_is_the_screenshot_at_a_quarter_each_way_with_each_pixel_a_box_mean():
    screenshot = Image.new("RGB", (1280, 800), (255, 0, 0))
    screenshot.paste((0, 0, 255), (640, 0, 1280, 800))  # right half blue
    screenshot.paste((255, 255, 255), (2, 2, 4, 4))  # a 2 x 2 white dot in the first box

    thumbnail = Image.open(io.BytesIO(thumbnail_of(png(screenshot))))

    assert thumbnail.format == "PNG" and thumbnail.size == (320, 200)
    assert thumbnail.getpixel((100, 100)) == (255, 0, 0)
    assert thumbnail.getpixel((220, 100)) == (0, 0, 255)
    # The first 4 x 4 box: 12 red pixels and 4 white ones.
    assert thumbnail.getpixel((0, 0)) == (255, 64, 64)
