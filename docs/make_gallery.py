"""Write ``docs/gallery.md`` from the figure modules (``python docs/make_gallery.py``)."""

from pathlib import Path

from lookaround.figures.render import gallery_page

if __name__ == "__main__":
    target = Path(__file__).resolve().parent / "gallery.md"
    target.write_text(gallery_page(), encoding="utf-8")
    print(f"{target} written")
