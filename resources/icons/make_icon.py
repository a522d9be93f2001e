"""Draws the application icon (p20win.png, p20win.ico): a navy tile with two linked rings, the product's
subject. Run `uv run python resources/icons/make_icon.py` after changing it; both files are committed."""
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
NAVY, WHITE, GOLD = (30, 41, 59, 255), (255, 255, 255, 255), (244, 183, 64, 255)


def draw(size: int = 256) -> Image.Image:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 6, fill=NAVY)
    ring, width = size * 0.30, max(2, size // 14)
    for cx, colour in ((size * 0.38, WHITE), (size * 0.62, GOLD)):
        cy = size * 0.5
        pen.ellipse((cx - ring, cy - ring, cx + ring, cy + ring), outline=colour, width=width)
    return image


if __name__ == "__main__":
    icon = draw()
    icon.save(HERE / "p20win.png")
    icon.save(HERE / "p20win.ico", sizes=[(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])
