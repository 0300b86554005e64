"""Printable QR codes for a tracked source: SVG (for the printer) and PNG (for a slide or a
chat), each with the source's name under the code and the channel it opens."""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import segno
from PIL import Image, ImageDraw, ImageFont

# Medium error correction survives a crease or a splash on a printed banner and keeps the code
# small enough to scan from a few metres.
ERROR = "m"
BORDER = 4  # modules of quiet zone, as the standard asks
SVG_SCALE = 10  # user units per module (the SVG scales freely)
PNG_SCALE = 16  # pixels per module: about 600 px wide for a link-sized code
CAPTION_WIDTH = 20  # characters per SVG caption line (the PNG measures its text)
CAPTION_LINES = 3


@dataclass(frozen=True, slots=True)
class Poster:
    """The files written for one channel's link."""

    channel: str
    link: str
    svg: Path
    png: Path


def qr_for(link: str) -> segno.QRCode:
    """The QR code of a link (the same one both files draw)."""
    return segno.make(link, error=ERROR, micro=False)


def _caption_lines(name: str) -> list[str]:
    lines = textwrap.wrap(name, CAPTION_WIDTH) or [name]
    if len(lines) > CAPTION_LINES:
        lines = lines[:CAPTION_LINES]
        lines[-1] = lines[-1][:CAPTION_WIDTH - 1].rstrip() + "\u2026"
    return lines


def _fit(lines: list[str], *, pen: ImageDraw.ImageDraw,
         font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: float) -> list[str]:
    """The caption's lines wrapped again where one is wider than `width` pixels."""
    fitted: list[str] = []
    for line in lines:
        current = ""
        for word in line.split():
            trial = f"{current} {word}".strip()
            if current and pen.textlength(trial, font=font) > width:
                fitted.append(current)
                current = word
            else:
                current = trial
        fitted.append(current)
    if len(fitted) > CAPTION_LINES:
        fitted = fitted[:CAPTION_LINES]
        fitted[-1] = fitted[-1].rstrip() + "\u2026"
    return fitted


def poster_svg(link: str, name: str, channel_label: str) -> str:
    """The code with the name (and the channel, smaller) centred under it, as one SVG."""
    code = qr_for(link)
    side, _height = code.symbol_size(scale=SVG_SCALE, border=BORDER)
    lines = _caption_lines(name)
    size = max(14, side // 17)
    small = max(12, size * 2 // 3)
    height = side + size // 2 + len(lines) * round(size * 1.25) + round(small * 1.6)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{side}" height="{height}" '
        f'viewBox="0 0 {side} {height}">',
        f"<title>{escape(name)}</title>",
        f'<rect width="{side}" height="{height}" fill="#fff"/>',
        code.svg_inline(scale=SVG_SCALE, border=BORDER, dark="#000", light="#fff"),
        '<g font-family="DejaVu Sans, Arial, Helvetica, sans-serif" fill="#000" '
        'text-anchor="middle">',
    ]
    y = side
    for line in lines:
        y += round(size * 1.25)
        parts.append(f'<text x="{side // 2}" y="{y}" font-size="{size}" '
                     f'font-weight="bold">{escape(line)}</text>')
    y += round(small * 1.5)
    parts.append(f'<text x="{side // 2}" y="{y}" font-size="{small}">'
                 f'{escape(channel_label)}</text>')
    parts += ["</g>", "</svg>", ""]
    return "\n".join(parts)


def poster_png(link: str, name: str, channel_label: str) -> bytes:
    """The code with the name (and the channel, smaller) centred under it, as a PNG."""
    out = io.BytesIO()
    qr_for(link).save(out, kind="png", scale=PNG_SCALE, border=BORDER)
    out.seek(0)
    with Image.open(out) as drawn:
        code = drawn.convert("L")
    side = code.width
    size = max(18, side // 14)
    small = max(14, size * 2 // 3)
    font = ImageFont.load_default(size=size)
    small_font = ImageFont.load_default(size=small)
    lines = _fit(_caption_lines(name), pen=ImageDraw.Draw(code), font=font, width=side * 0.88)
    line_height = round(size * 1.3)
    height = side + len(lines) * line_height + round(small * 1.8) + size // 2
    poster = Image.new("L", (side, height), 255)
    poster.paste(code, (0, 0))
    pen = ImageDraw.Draw(poster)
    y = side
    for line in lines:
        width = pen.textlength(line, font=font)
        pen.text(((side - width) / 2, y), line, fill=0, font=font)
        y += line_height
    width = pen.textlength(channel_label, font=small_font)
    pen.text(((side - width) / 2, y + small // 3), channel_label, fill=0, font=small_font)
    data = io.BytesIO()
    poster.save(data, format="PNG", optimize=True)
    return data.getvalue()


def write_posters(*, folder: Path, code: str, name: str,
                  links: dict[str, str]) -> list[Poster]:
    """One SVG and one PNG per channel link ({"telegram": url, ...}), named after the code."""
    folder.mkdir(parents=True, exist_ok=True)
    labels = {"telegram": "Telegram", "whatsapp": "WhatsApp"}
    written = []
    for channel, link in links.items():
        label = labels.get(channel, channel)
        svg = folder / f"{code}-{channel}.svg"
        png = folder / f"{code}-{channel}.png"
        svg.write_text(poster_svg(link, name, label), encoding="utf-8")
        png.write_bytes(poster_png(link, name, label))
        written.append(Poster(channel=channel, link=link, svg=svg, png=png))
    return written
