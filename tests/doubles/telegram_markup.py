"""Telegram's parse modes (HTML, MarkdownV2, Markdown) as the Bot API server applies them.

The parsers follow the Bot API server's own algorithms closely enough that the error texts and
byte offsets match what a bot sees in production, and lengths are counted as Telegram counts
them: in UTF-16 code units of the text left after the markup is removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "EntityParseError",
    "FormattedText",
    "parse_formatted_text",
    "utf16_length",
]


class EntityParseError(ValueError):
    """The text cannot be parsed in the requested parse mode; str() is Telegram's wording."""


@dataclass(frozen=True)
class FormattedText:
    """Text as Telegram stores it: markup removed, formatting kept as entities."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit of every Bot API limit and entity offset."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def parse_formatted_text(
    text: str, parse_mode: str | None, *, strict_html_entities: bool = True
) -> FormattedText:
    """Parse ``text`` in ``parse_mode``; raises EntityParseError with Telegram's message.

    With ``strict_html_entities`` a bare ``&`` (or an HTML entity Telegram does not know) is
    refused. Telegram itself shows such text literally, but its documentation requires every
    ``&`` outside a tag or entity to be escaped, and a literal ``&laquo;`` on a resident's screen
    is a bug, so the double fails loudly instead.
    """
    mode = (parse_mode or "").strip().lower()
    if not mode:
        return FormattedText(text)
    raw = text.encode("utf-8", "surrogatepass")
    if mode == "html":
        return _HtmlParser(raw, strict_entities=strict_html_entities).parse()
    if mode == "markdownv2":
        return _MarkdownV2Parser(raw).parse()
    if mode == "markdown":
        return _MarkdownParser(raw).parse()
    raise ValueError(f"unsupported parse_mode {parse_mode!r}")


_SPACES = frozenset(b" \t\r\n\v\f\0")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def _is_space(c: int) -> bool:
    return c in _SPACES


def _is_alnum(c: int) -> bool:
    return 0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A


def _utf16_units(lead_byte: int) -> int:
    """UTF-16 units of the character a UTF-8 byte starts (0 for continuation bytes)."""
    if lead_byte & 0xC0 == 0x80:
        return 0
    return 2 if lead_byte >= 0xF0 else 1


def _decode_result(out: bytearray) -> str:
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise EntityParseError(
            "Text contains invalid Unicode characters after decoding HTML entities, "
            "check for unmatched surrogate code units"
        ) from None


def _check_url(url: str) -> str | None:
    """Normalise a link target the way Telegram does, or None when it is not a usable URL."""
    if not url or any(ch.isspace() for ch in url):
        return None
    parts = urlsplit(url if "://" in url or url.lower().startswith("tg:") else f"http://{url}")
    scheme = parts.scheme.lower()
    if scheme in ("tg", "ton"):
        return url
    if scheme not in ("http", "https") or not parts.hostname or "." not in parts.hostname:
        return None
    path = parts.path or "/"
    rebuilt = f"{scheme}://{parts.netloc}{path}"
    if parts.query or url.endswith("?"):
        rebuilt += f"?{parts.query}"
    if parts.fragment:
        rebuilt += f"#{parts.fragment}"
    return rebuilt


def _mention_user_id(url: str) -> int | None:
    parts = urlsplit(url)
    if parts.scheme.lower() != "tg" or parts.netloc.lower() != "user":
        return None
    ids = parse_qs(parts.query).get("id", [])
    if ids and ids[0].isdigit() and int(ids[0]) > 0:
        return int(ids[0])
    return None


def _link_entity(offset: int, length: int, url: str) -> dict[str, Any] | None:
    user_id = _mention_user_id(url)
    if user_id is not None:
        return {
            "type": "text_mention",
            "offset": offset,
            "length": length,
            "user": {"id": user_id, "is_bot": False, "first_name": ""},
        }
    checked = _check_url(url)
    if checked is None:
        return None
    return {"type": "text_link", "offset": offset, "length": length, "url": checked}


def _custom_emoji_id(value: str) -> str:
    if not value.isdigit() or int(value) <= 0 or int(value) >= 2**63:
        raise EntityParseError("Invalid custom emoji identifier specified")
    return str(int(value))


def _sorted(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


_HTML_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins", "tg-spoiler",
        "tg-emoji", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip
_SIMPLE_HTML_ENTITIES = {
    "i": "italic",
    "em": "italic",
    "b": "bold",
    "strong": "bold",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}


@dataclass
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    byte_offset: int


class _HtmlParser:
    def __init__(self, text: bytes, *, strict_entities: bool) -> None:
        self.b = text
        self.strict_entities = strict_entities

    def at(self, i: int) -> int:
        return self.b[i] if i < len(self.b) else 0

    def decode_entity(self, pos: int) -> tuple[int, int]:
        """(code point, position after the entity), or (0, pos) when none starts at pos."""
        at = self.at
        end = pos + 1
        value = 0
        if at(pos + 1) == ord("#"):
            end += 1
            if at(pos + 2) == ord("x"):
                end += 1
                while chr(at(end)) in _HEX_DIGITS:
                    value = value * 16 + int(chr(at(end)), 16)
                    end += 1
            else:
                while 0x30 <= at(end) <= 0x39:
                    value = value * 10 + at(end) - 0x30
                    end += 1
            if value == 0 or value >= 0x10FFFF or end - pos >= 10:
                return 0, pos
        else:
            while chr(at(end)).isascii() and chr(at(end)).isalpha():
                end += 1
            named = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}.get(
                self.b[pos + 1 : end].decode()
            )
            if named is None:
                return 0, pos
            value = ord(named)
        if at(end) == ord(";"):
            end += 1
        return value, end

    def parse(self) -> FormattedText:
        b, at = self.b, self.at
        out = bytearray()
        entities: list[dict[str, Any]] = []
        stack: list[_OpenTag] = []
        utf16 = 0
        i = 0
        while i < len(b):
            c = b[i]
            if c == ord("&"):
                ch, after = self.decode_entity(i)
                if ch:
                    out += chr(ch).encode("utf-8", "surrogatepass")
                    utf16 += 2 if ch > 0xFFFF else 1
                    i = after
                    continue
                if self.strict_entities:
                    raise EntityParseError(f'Unescaped "&" at byte offset {i}; write it as "&amp;"')
            if c != ord("<"):
                utf16 += _utf16_units(c)
                out.append(c)
                i += 1
                continue

            begin = i
            i += 1
            if at(i) != ord("/"):
                while not _is_space(at(i)) and at(i) != ord(">"):
                    i += 1
                if at(i) == 0:
                    raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
                tag = b[begin + 1 : i].decode("utf-8", "replace").lower()
                if tag not in _HTML_TAGS:
                    raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
                argument, i = self.parse_attributes(tag, begin, i)
                if tag == "span" and argument != "spoiler":
                    raise EntityParseError(
                        f'Tag "span" must have class "tg-spoiler" at byte offset {begin}'
                    )
                stack.append(_OpenTag(tag, argument, utf16, len(out)))
                i += 1
                continue

            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
            while not _is_space(at(i)) and at(i) != ord(">"):
                i += 1
            end_tag = b[begin + 2 : i].decode("utf-8", "replace")
            while _is_space(at(i)) and at(i) != 0:
                i += 1
            if at(i) != ord(">"):
                raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
            opened = stack.pop()
            if end_tag and end_tag != opened.name:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {begin}, "
                    f'expected "</{opened.name}>", found "</{end_tag}>"'
                )
            if utf16 > opened.utf16_offset:
                self.close_entity(opened, utf16 - opened.utf16_offset, out, entities)
            i += 1
        if stack:
            raise EntityParseError(
                f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"'
            )
        for entity in entities:
            if entity["type"] == "code":
                entity.pop("language", None)
        return FormattedText(_decode_result(out), _sorted(entities))

    def parse_attributes(self, tag: str, begin: int, i: int) -> tuple[str, int]:
        at = self.at
        argument = ""
        while at(i) != ord(">"):
            while at(i) != 0 and _is_space(at(i)):
                i += 1
            if at(i) == ord(">"):
                break
            name_begin = i
            while not _is_space(at(i)) and at(i) not in (ord("="), ord(">")):
                i += 1
            name = self.b[name_begin:i].decode("utf-8", "replace")
            if not name:
                raise EntityParseError(
                    f'Empty attribute name in the tag "{tag}" at byte offset {begin}'
                )
            while at(i) != 0 and _is_space(at(i)):
                i += 1
            if at(i) != ord("="):
                if tag == "blockquote" and name == "expandable":
                    argument = "1"
                    continue
                raise EntityParseError(
                    "Expected equal sign in declaration of an attribute of the tag "
                    f'"{tag}" at byte offset {begin}'
                )
            i += 1
            while at(i) != 0 and _is_space(at(i)):
                i += 1
            if at(i) == 0:
                raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
            if at(i) not in (ord("'"), ord('"')):
                token_begin = i
                while _is_alnum(at(i)) or at(i) in (ord("."), ord("-")):
                    i += 1
                value = self.b[token_begin:i].decode().lower()
                if not _is_space(at(i)) and at(i) != ord(">"):
                    raise EntityParseError(
                        f"Unexpected end of name token at byte offset {token_begin}"
                    )
            else:
                quote = at(i)
                i += 1
                raw = bytearray()
                while at(i) != quote and at(i) != 0:
                    if at(i) == ord("&"):
                        ch, after = self.decode_entity(i)
                        if ch:
                            raw += chr(ch).encode("utf-8", "surrogatepass")
                            i = after
                            continue
                    raw.append(at(i))
                    i += 1
                if at(i) == quote:
                    i += 1
                value = raw.decode("utf-8", "replace")
            if at(i) == 0:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
            if tag == "a" and name == "href":
                argument = value
            elif tag == "code" and name == "class" and value.startswith("language-"):
                argument = value[len("language-") :]
            elif tag == "span" and name == "class" and value.startswith("tg-"):
                argument = value[len("tg-") :]
            elif tag == "tg-emoji" and name == "emoji-id":
                argument = value
            elif tag == "blockquote" and name == "expandable":
                argument = "1"
        return argument, i

    @staticmethod
    def close_entity(
        opened: _OpenTag, length: int, out: bytearray, entities: list[dict[str, Any]]
    ) -> None:
        offset = opened.utf16_offset
        tag = opened.name
        if tag in _SIMPLE_HTML_ENTITIES:
            entities.append(
                {"type": _SIMPLE_HTML_ENTITIES[tag], "offset": offset, "length": length}
            )
        elif tag == "tg-emoji":
            entities.append(
                {
                    "type": "custom_emoji",
                    "offset": offset,
                    "length": length,
                    "custom_emoji_id": _custom_emoji_id(opened.argument),
                }
            )
        elif tag == "blockquote":
            kind = "expandable_blockquote" if opened.argument else "blockquote"
            entities.append({"type": kind, "offset": offset, "length": length})
        elif tag == "a":
            url = opened.argument or out[opened.byte_offset :].decode("utf-8", "replace")
            link = _link_entity(offset, length, url)
            if link is not None:
                entities.append(link)
        elif tag == "pre":
            last = entities[-1] if entities else None
            if (
                last is not None
                and last["type"] == "code"
                and (last["offset"], last["length"]) == (offset, length)
                and last.get("language")
            ):
                last["type"] = "pre"
            else:
                entities.append({"type": "pre", "offset": offset, "length": length})
        elif tag == "code":
            last = entities[-1] if entities else None
            if (
                last is not None
                and last["type"] == "pre"
                and (last["offset"], last["length"]) == (offset, length)
                and opened.argument
            ):
                last["language"] = opened.argument
            else:
                entity: dict[str, Any] = {"type": "code", "offset": offset, "length": length}
                if opened.argument:
                    entity["language"] = opened.argument
                entities.append(entity)


_MD2_TYPE_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "pre_code": "PreCode",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}
_MD2_RESERVED = b"_*[]()~`>#+-=|{}.!"


@dataclass
class _OpenMarkdown:
    kind: str
    argument: str
    utf16_offset: int
    byte_offset: int
    result_offset: int


@dataclass
class _Quote:
    utf16_offset: int
    depth: int
    expandable: bool = False


class _MarkdownV2Parser:
    def __init__(self, text: bytes) -> None:
        self.b = text
        self.out = bytearray()
        self.entities: list[dict[str, Any]] = []
        self.stack: list[_OpenMarkdown] = []
        self.quote: _Quote | None = None
        self.utf16 = 0

    def at(self, i: int) -> int:
        return self.b[i] if i < len(self.b) else 0

    def in_code(self) -> bool:
        return bool(self.stack) and self.stack[-1].kind in ("code", "pre", "pre_code")

    def unclosed(self, opened: _OpenMarkdown) -> EntityParseError:
        return EntityParseError(
            f"Can't find end of {_MD2_TYPE_NAMES[opened.kind]} entity "
            f"at byte offset {opened.byte_offset}"
        )

    def close_quote(self) -> None:
        quote = self.quote
        assert quote is not None
        if len(self.stack) > quote.depth:
            raise self.unclosed(self.stack[-1])
        if self.utf16 > quote.utf16_offset:
            kind = "expandable_blockquote" if quote.expandable else "blockquote"
            self.entities.append(
                {
                    "type": kind,
                    "offset": quote.utf16_offset,
                    "length": self.utf16 - quote.utf16_offset,
                }
            )
        self.quote = None

    def line_start(self, i: int) -> bool:
        return i == 0 or self.b[i - 1] in (ord("\n"), ord("\r"))

    def parse(self) -> FormattedText:
        b, at = self.b, self.at
        i = 0
        while i < len(b):
            c = b[i]
            if not self.in_code() and self.line_start(i):
                starts_quote = c == ord(">") or b[i : i + 3] == b"**>"
                if starts_quote:
                    if c == ord("*") and self.quote is not None:
                        self.close_quote()
                    if self.quote is None:
                        self.quote = _Quote(self.utf16, len(self.stack))
                    if c == ord("*"):
                        self.quote.expandable = True
                        i += 2
                    i += 1
                    continue
                if self.quote is not None and i > 0 and b[i - 1] == ord("\n"):
                    self.close_quote()
            if c == ord("\\") and 0 < at(i + 1) <= 126:
                self.out.append(b[i + 1])
                self.utf16 += 1
                i += 2
                continue
            reserved = b"`" if self.in_code() else _MD2_RESERVED
            if c not in reserved:
                self.utf16 += _utf16_units(c)
                self.out.append(c)
                i += 1
                continue
            if (
                self.quote is not None
                and c == ord("|")
                and at(i + 1) == ord("|")
                and at(i + 2) in (0, ord("\n"), ord("\r"))
                and not (self.stack and self.stack[-1].kind == "spoiler")
            ):
                self.quote.expandable = True
                i += 2
                continue
            i = self.close_entity(i) if self.ends_open_entity(i) else self.open_entity(i)
        if self.quote is not None:
            self.close_quote()
        if self.stack:
            raise self.unclosed(self.stack[-1])
        return FormattedText(_decode_result(self.out), _sorted(self.entities))

    def ends_open_entity(self, i: int) -> bool:
        if not self.stack:
            return False
        c, nxt, kind = self.b[i], self.at(i + 1), self.stack[-1].kind
        if kind == "bold":
            return c == ord("*")
        if kind == "italic":
            return c == ord("_") and nxt != ord("_")
        if kind == "underline":
            return c == ord("_") and nxt == ord("_")
        if kind == "strikethrough":
            return c == ord("~")
        if kind == "spoiler":
            return c == ord("|") and nxt == ord("|")
        if kind == "code":
            return c == ord("`")
        if kind in ("pre", "pre_code"):
            return self.b[i : i + 3] == b"```"
        return c == ord("]")  # text_link, custom_emoji

    def open_entity(self, i: int) -> int:
        b, at = self.b, self.at
        c = b[i]
        begin = i
        argument = ""
        if c == ord("_") and at(i + 1) == ord("_"):
            kind = "underline"
            i += 1
        elif c == ord("_"):
            kind = "italic"
        elif c == ord("*"):
            kind = "bold"
        elif c == ord("~"):
            kind = "strikethrough"
        elif c == ord("|") and at(i + 1) == ord("|"):
            kind = "spoiler"
            i += 1
        elif c == ord("["):
            kind = "text_link"
        elif c == ord("!") and at(i + 1) == ord("["):
            kind = "custom_emoji"
            i += 1
        elif c == ord("`") and b[i : i + 3] == b"```":
            i += 3
            kind = "pre"
            language_end = i
            while not _is_space(at(language_end)) and at(language_end) != ord("`"):
                language_end += 1
            if i != language_end and language_end < len(b) and at(language_end) != ord("`"):
                kind = "pre_code"
                argument = b[i:language_end].decode("utf-8", "replace")
                i = language_end
            if at(i) in (ord("\n"), ord("\r")):
                pair = at(i + 1) in (ord("\n"), ord("\r")) and at(i) != at(i + 1)
                i += 2 if pair else 1
            self.stack.append(_OpenMarkdown(kind, argument, self.utf16, begin, len(self.out)))
            return i
        elif c == ord("`"):
            kind = "code"
        else:
            raise EntityParseError(
                f"Character '{chr(c)}' is reserved and must be escaped with the preceding '\\'"
            )
        self.stack.append(_OpenMarkdown(kind, argument, self.utf16, begin, len(self.out)))
        return i + 1

    def read_url(self, i: int) -> tuple[str, int]:
        """Read ``(url)`` starting at the ``(``; returns the URL and the index of ``)``."""
        b, at = self.b, self.at
        i += 1
        url_begin = i
        url = bytearray()
        while i < len(b) and b[i] != ord(")"):
            if b[i] == ord("\\") and 0 < at(i + 1) <= 126:
                url.append(b[i + 1])
                i += 2
                continue
            url.append(b[i])
            i += 1
        if at(i) != ord(")"):
            raise EntityParseError(f"Can't find end of a URL at byte offset {url_begin}")
        return url.decode("utf-8", "replace"), i

    def close_entity(self, i: int) -> int:
        opened = self.stack.pop()
        kind = opened.kind
        offset, length = opened.utf16_offset, self.utf16 - opened.utf16_offset
        entity: dict[str, Any] | None = None
        if kind in ("underline", "spoiler"):
            i += 1
        elif kind in ("pre", "pre_code"):
            i += 2
        if kind == "text_link":
            if self.at(i + 1) == ord("("):
                url, i = self.read_url(i + 1)
            else:
                url = self.out[opened.result_offset :].decode("utf-8", "replace")
            entity = _link_entity(offset, length, url) if length else None
        elif kind == "custom_emoji":
            if self.at(i + 1) != ord("("):
                raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
            begin = i + 2
            try:
                url, i = self.read_url(i + 1)
            except EntityParseError:
                raise EntityParseError(
                    f"Can't find end of a custom emoji URL at byte offset {begin}"
                ) from None
            entity = {
                "type": "custom_emoji",
                "offset": offset,
                "length": length,
                "custom_emoji_id": _custom_emoji_url_id(url),
            }
        elif length:
            entity = {
                "type": "pre" if kind == "pre_code" else kind,
                "offset": offset,
                "length": length,
            }
            if kind == "pre_code":
                entity["language"] = opened.argument
        if entity is not None and length:
            self.entities.append(entity)
        return i + 1


def _custom_emoji_url_id(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme.lower() != "tg":
        raise EntityParseError("Custom emoji URL must have scheme tg")
    if parts.netloc.lower() != "emoji":
        raise EntityParseError('Custom emoji URL must have host "emoji"')
    ids = parse_qs(parts.query).get("id", [])
    if not ids:
        raise EntityParseError("Custom emoji URL must have an emoji identifier")
    if ids[0].startswith("0"):
        raise EntityParseError("Invalid custom emoji identifier specified")
    return _custom_emoji_id(ids[0])


class _MarkdownParser:
    """Legacy "Markdown": *bold*, _italic_, `code`, ```pre```, [text](url)."""

    def __init__(self, text: bytes) -> None:
        self.b = text

    def at(self, i: int) -> int:
        return self.b[i] if i < len(self.b) else 0

    def parse(self) -> FormattedText:
        b, at = self.b, self.at
        out = bytearray()
        entities: list[dict[str, Any]] = []
        utf16 = 0
        i = 0
        while i < len(b):
            c = b[i]
            if c == ord("\\") and at(i + 1) in b"_*`[":
                out.append(b[i + 1])
                utf16 += 1
                i += 2
                continue
            if c not in b"_*`[":
                utf16 += _utf16_units(c)
                out.append(c)
                i += 1
                continue
            begin = i
            end_char = ord("]") if c == ord("[") else c
            is_pre = False
            language = ""
            i += 1
            if c == ord("`") and at(i) == ord("`") and at(i + 1) == ord("`"):
                i += 2
                is_pre = True
                language_end = i
                while not _is_space(at(language_end)) and at(language_end) != ord("`"):
                    language_end += 1
                if i != language_end and language_end < len(b) and at(language_end) != ord("`"):
                    language = b[i:language_end].decode("utf-8", "replace")
                    i = language_end
                if at(i) in (ord("\n"), ord("\r")):
                    pair = at(i + 1) in (ord("\n"), ord("\r")) and at(i) != at(i + 1)
                    i += 2 if pair else 1
            offset = utf16
            inner_start = len(out)
            while i < len(b) and (
                b[i] != end_char
                or (is_pre and not (at(i + 1) == ord("`") and at(i + 2) == ord("`")))
            ):
                utf16 += _utf16_units(b[i])
                out.append(b[i])
                i += 1
            if i == len(b):
                raise EntityParseError(
                    f"Can't find end of the entity starting at byte offset {begin}"
                )
            length = utf16 - offset
            if length:
                if c == ord("_"):
                    entities.append({"type": "italic", "offset": offset, "length": length})
                elif c == ord("*"):
                    entities.append({"type": "bold", "offset": offset, "length": length})
                elif c == ord("["):
                    if at(i + 1) == ord("("):
                        i += 2
                        url = bytearray()
                        while i < len(b) and b[i] != ord(")"):
                            url.append(b[i])
                            i += 1
                        target = url.decode("utf-8", "replace")
                    else:
                        target = out[inner_start:].decode("utf-8", "replace")
                    link = _link_entity(offset, length, target)
                    if link is not None:
                        entities.append(link)
                elif is_pre:
                    pre: dict[str, Any] = {"type": "pre", "offset": offset, "length": length}
                    if language:
                        pre["language"] = language
                    entities.append(pre)
                else:
                    entities.append({"type": "code", "offset": offset, "length": length})
            if is_pre:
                i += 2
            i += 1
        return FormattedText(_decode_result(out), _sorted(entities))
