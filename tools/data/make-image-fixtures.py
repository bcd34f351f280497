#!/usr/bin/python3
"""Writes the tiny image fixtures used by tests/Crate.Tests/Data (decoder tests for ImageFolder).

Needs Debian's python3-pil (`apt-get install -y python3-pil`; made with PIL 9.4.0).
Every image is 16x12 (width x height): the left half (x < 8) is red, the right half blue,
except where noted. Usage: /usr/bin/python3 tools/data/make-image-fixtures.py [OUT_DIR]
"""
import os
import sys

from PIL import Image

W, H = 16, 12
RED, BLUE = (255, 0, 0), (0, 0, 255)


def halves(mode="RGB"):
    img = Image.new("RGB", (W, H), BLUE)
    for y in range(H):
        for x in range(W // 2):
            img.putpixel((x, y), RED)
    return img if mode == "RGB" else img.convert(mode)


def grey_bands():
    """Top half 50, bottom half 200."""
    img = Image.new("L", (W, H), 200)
    for y in range(H // 2):
        for x in range(W):
            img.putpixel((x, y), 50)
    return img


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), "..", "..", "tests", "Crate.Tests", "Data", "Fixtures", "images")
    os.makedirs(out, exist_ok=True)
    p = lambda name: os.path.join(out, name)

    halves().save(p("rgb.jpg"), quality=95)
    halves().save(p("progressive.jpg"), quality=95, progressive=True)
    halves("CMYK").save(p("cmyk.jpg"), quality=95)
    grey_bands().save(p("grey.jpg"), quality=95)
    halves().save(p("png-named.jpg"), format="PNG")            # a PNG behind a .jpg name
    halves().convert("P", palette=Image.ADAPTIVE, colors=2).save(p("palette.png"))
    rgba = halves("RGBA")
    rgba.putalpha(Image.new("L", (W, H), 0))                     # fully transparent: colour must survive
    rgba.save(p("rgba.png"))
    grey_bands().save(p("grey.png"))
    halves().save(p("rgb.bmp"))
    halves().convert("P", palette=Image.ADAPTIVE, colors=2).save(p("palette.gif"))


if __name__ == "__main__":
    main()
