"""Render every figure (or one) to a folder: what ``lookaround figures`` calls."""

from __future__ import annotations

import importlib
import importlib.util
import time
from pathlib import Path
from types import ModuleType

from tqdm import tqdm

from lookaround.base.errors import InputError
from lookaround.figures.style import FORMATS, save

__all__ = ["gallery_page", "MODULES", "catalog", "render"]

MODULES = (
    "f1_graphs",
    "f2_spectra",
    "f3_bounds",
    "f4_mask_ratio",
    "f5_diversity",
    "f6_generation",
    "f7_rate",
    "f8_training",
    "f9_claims",
    "f10_regions",
    "f11_pretrain",
    "f12_belief",
)


def catalog() -> dict[str, ModuleType]:
    """``{name: module}`` of every figure, in order."""
    modules = [importlib.import_module(f"lookaround.figures.{name}") for name in MODULES]
    return {module.NAME: module for module in modules}


GALLERY_HEAD = """# Figure gallery

This page is generated from the figure modules (`python docs/make_gallery.py`; a test checks
it is current): each figure's title is its module's docstring, its caption the module's
`CAPTION`, the same text `lookaround figures` prints. Every figure is a function
`draw(fig=None)` in `lookaround.figures` that returns a matplotlib Figure, and a `plot_*`
function draws the same panel from your own source or results into your own Axes. The images
were made with `lookaround figures --out docs/figures` under the versions pinned in
`docs/figures/constraints.txt`; the files are the same byte for byte on every run.
"""


def gallery_page() -> str:
    """The gallery page (``docs/gallery.md``), written from the figure modules.

    Examples
    --------
    >>> gallery_page().splitlines()[0]
    '# Figure gallery'
    """
    parts = [GALLERY_HEAD]
    for name, module in catalog().items():
        title = (module.__doc__ or "").strip().splitlines()[0]
        plots = [f"`{p}`" for p in getattr(module, "__all__", ()) if p.startswith("plot_")]
        parts.append(
            f"## {name}\n\n![{name}](figures/{name}.png)\n\n**{title}** {module.CAPTION}\n\n"
            f"`lookaround figures --only {name}`; in Python `{module.__name__}.draw()`, "
            f"or {' / '.join(plots)} on your own data.\n"
        )
    return "\n".join(parts)


def _missing_extra(module: object) -> str | None:
    """What a figure needs that is not installed (``REQUIRES = (module, extra)``), or None."""
    needs = getattr(module, "REQUIRES", None)
    if needs is None or importlib.util.find_spec(needs[0]) is not None:
        return None
    return f"needs {needs[0]}: pip install 'lookaround[{needs[1]}]'"


def render(
    out: str | Path, *, only: str | None = None, fmt: str = "png", progress: bool = False
) -> list[dict]:
    """Draw the figures into ``out``; returns ``[{"name", "file", "seconds", "caption"}]``.

    Parameters
    ----------
    out : str or Path
        The folder to write into.
    only : sequence of str, optional
        Figure names to draw (default: all).
    fmt : str
        ``png``, ``pdf`` or ``svg``.
    progress : bool
        Show a progress bar.

    Returns
    -------
    list of Path

    Examples
    --------
    >>> import tempfile
    >>> rows = render(tempfile.mkdtemp(), only="generation")
    >>> rows[0]["name"], rows[0]["file"].endswith("generation.png")
    ('generation', True)
    """
    if fmt not in FORMATS:
        raise InputError(f"fmt must be one of {', '.join(FORMATS)}, got {fmt!r}", field="fmt")
    figures = catalog()
    if only is not None and only not in figures:
        raise InputError(f"unknown figure {only!r} (known: {', '.join(figures)})")
    chosen = [only] if only else list(figures)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in tqdm(chosen, desc="figures", disable=not progress):
        missing = _missing_extra(figures[name])
        if missing and only is None:
            rows.append({"name": name, "file": f"skipped: {missing}", "seconds": 0.0,
                         "caption": figures[name].CAPTION})  # fmt: skip
            continue
        if missing:
            raise InputError(f"figure {name} {missing}")
        start = time.perf_counter()
        path = save(figures[name].draw(), folder / name, fmt)
        rows.append(
            {
                "name": name,
                "file": str(path),
                "seconds": time.perf_counter() - start,
                "caption": figures[name].CAPTION,
            }
        )
    return rows
