"""FAQ content: articles in Markdown with YAML front matter, topics and synonyms, validated."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

LOCALES = ("id", "en")
TOPICS_FILE = "topics.yaml"
SYNONYMS_FILE = "synonyms.yaml"
COMPLAINTS_FILE = "complaints.yaml"
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_FILE = re.compile(r"^(?P<slug>[^.]+)\.(?P<locale>[a-z]{2})\.md$")
_FRONT = re.compile(r"\A---\s*\n(?P<meta>.*?)\n---\s*\n(?P<body>.*)\Z", re.DOTALL)
_HEADING = re.compile(r"^#{1,6}\s+(.*)$")
_BULLET = re.compile(r"^\s*[-*]\s+")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_META_KEYS = {"title", "topic", "order", "keywords", "questions", "related"}


class FaqContentError(ValueError):
    """The FAQ folder is missing, unreadable or inconsistent; the message names the file."""


@dataclass(frozen=True, slots=True)
class Topic:
    key: str
    names: dict[str, str]

    def name(self, locale: str) -> str:
        return self.names.get(locale) or self.names["id"]


@dataclass(frozen=True, slots=True)
class ArticleText:
    """One language of an article."""

    title: str
    body: str  # plain text, ready to show
    keywords: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Article:
    slug: str
    topic: str
    order: int
    texts: dict[str, ArticleText]
    related: tuple[str, ...] = ()

    def text(self, locale: str) -> ArticleText:
        return self.texts.get(locale) or self.texts["id"]

    def title(self, locale: str) -> str:
        return self.text(locale).title


@dataclass(frozen=True, slots=True)
class FaqContent:
    topics: tuple[Topic, ...]
    articles: dict[str, Article]
    synonyms: tuple[tuple[str, ...], ...] = ()
    # Extra complaint phrases per category key, beside the city pack's keywords.
    complaints: dict[str, tuple[str, ...]] = field(default_factory=dict)
    files: int = field(default=0, compare=False)

    def topic(self, key: str) -> Topic | None:
        return next((t for t in self.topics if t.key == key), None)

    def in_topic(self, key: str) -> list[Article]:
        found = [a for a in self.articles.values() if a.topic == key]
        return sorted(found, key=lambda a: (a.order, a.title("id").lower()))

    def article(self, slug: str) -> Article | None:
        return self.articles.get(slug)


def plain(markdown: str) -> str:
    """Light Markdown as chat text: headings and bullets become plain lines, stars go."""
    lines: list[str] = []
    for line in markdown.strip().splitlines():
        line = line.rstrip()
        heading = _HEADING.match(line)
        if heading:
            if lines and lines[-1]:
                lines.append("")
            lines.append("\u25b8 " + heading.group(1).strip())
            continue
        line = _BULLET.sub("\u2022 ", line)
        lines.append(_BOLD.sub(lambda m: m.group(1) or m.group(2), line))
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _strings(value: Any, file: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise FaqContentError(f"{file}: {key} must be a list of words or phrases")
    cleaned = tuple(str(v).strip() for v in value)
    if any(not v for v in cleaned):
        raise FaqContentError(f"{file}: empty entry in {key}")
    return cleaned


def _read_article_file(path: Path) -> tuple[dict[str, Any], str]:
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FaqContentError(f"{path.name}: cannot be read ({exc})") from exc
    m = _FRONT.match(raw.replace("\r\n", "\n"))
    if not m:
        raise FaqContentError(f"{path.name}: must start with front matter between --- lines")
    try:
        meta = yaml.safe_load(m.group("meta")) or {}
    except yaml.YAMLError as exc:
        raise FaqContentError(f"{path.name}: front matter is not valid YAML ({exc})") from exc
    if not isinstance(meta, dict):
        raise FaqContentError(f"{path.name}: front matter must be a mapping")
    unknown = set(meta) - _META_KEYS
    if unknown:
        raise FaqContentError(f"{path.name}: unknown field(s) {', '.join(sorted(unknown))}")
    return meta, m.group("body")


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FaqContentError(f"{path.name}: missing") from exc
    except (OSError, yaml.YAMLError) as exc:
        raise FaqContentError(f"{path.name}: cannot be read ({exc})") from exc


def _topics(folder: Path) -> tuple[Topic, ...]:
    data = _load_yaml(folder / TOPICS_FILE)
    entries = data.get("topics") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise FaqContentError(f"{TOPICS_FILE}: needs a non-empty list under 'topics'")
    topics: list[Topic] = []
    for entry in entries:
        key = entry.get("key") if isinstance(entry, dict) else None
        names = entry.get("names") if isinstance(entry, dict) else None
        if not isinstance(key, str) or not _SLUG.match(key):
            raise FaqContentError(f"{TOPICS_FILE}: topic key {key!r} is not a lower-case slug")
        if not isinstance(names, dict) or any(not str(names.get(loc, "")).strip()
                                              for loc in LOCALES):
            raise FaqContentError(f"{TOPICS_FILE}: topic {key} needs names in id and en")
        if any(t.key == key for t in topics):
            raise FaqContentError(f"{TOPICS_FILE}: topic {key} appears twice")
        topics.append(Topic(key=key, names={loc: str(names[loc]).strip() for loc in LOCALES}))
    return tuple(topics)


def _synonyms(folder: Path) -> tuple[tuple[str, ...], ...]:
    path = folder / SYNONYMS_FILE
    if not path.exists():
        return ()
    data = _load_yaml(path)
    groups = data.get("groups") if isinstance(data, dict) else None
    if not isinstance(groups, list):
        raise FaqContentError(f"{SYNONYMS_FILE}: needs a list under 'groups'")
    out = []
    for group in groups:
        entries = _strings(group, SYNONYMS_FILE, "a group")
        if len(entries) < 2:
            raise FaqContentError(f"{SYNONYMS_FILE}: group {entries!r} needs two or more entries")
        out.append(entries)
    return tuple(out)


def _complaints(folder: Path) -> dict[str, tuple[str, ...]]:
    path = folder / COMPLAINTS_FILE
    if not path.exists():
        return {}
    data = _load_yaml(path)
    entries = data.get("categories") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        raise FaqContentError(f"{COMPLAINTS_FILE}: needs a mapping under 'categories'")
    return {str(key): _strings(phrases, COMPLAINTS_FILE, str(key))
            for key, phrases in entries.items()}


def load_faq(folder: Path) -> FaqContent:
    """Read and check the whole FAQ folder; raises FaqContentError naming the first problem."""
    if not folder.is_dir():
        raise FaqContentError(f"{folder}: FAQ folder not found")
    topics = _topics(folder)
    topic_keys = {t.key for t in topics}
    by_slug: dict[str, dict[str, tuple[dict[str, Any], str]]] = {}
    files = 0
    for path in sorted(folder.glob("*.md")):
        if path.name.upper() == "README.MD":
            continue
        m = _FILE.match(path.name)
        if not m or m.group("locale") not in LOCALES or not _SLUG.match(m.group("slug")):
            raise FaqContentError(f"{path.name}: name must be <slug>.id.md or <slug>.en.md, "
                                  "the slug in lower-case letters, digits and hyphens")
        by_slug.setdefault(m.group("slug"), {})[m.group("locale")] = _read_article_file(path)
        files += 1
    if not by_slug:
        raise FaqContentError(f"{folder}: no articles")
    articles: dict[str, Article] = {}
    for slug, versions in by_slug.items():
        missing = [loc for loc in LOCALES if loc not in versions]
        if missing:
            raise FaqContentError(f"{slug}.{missing[0]}.md: missing (every article needs "
                                  "both languages)")
        articles[slug] = _article(slug, versions, topic_keys)
    for article in articles.values():
        for other in article.related:
            if other not in articles:
                raise FaqContentError(f"{article.slug}.id.md: related article {other!r} "
                                      "does not exist")
    return FaqContent(topics=topics, articles=articles, synonyms=_synonyms(folder),
                      complaints=_complaints(folder), files=files)


def _article(slug: str, versions: dict[str, tuple[dict[str, Any], str]],
             topic_keys: set[str]) -> Article:
    main, _body = versions["id"]
    file = f"{slug}.id.md"
    topic = main.get("topic")
    if topic not in topic_keys:
        raise FaqContentError(f"{file}: topic {topic!r} is not in {TOPICS_FILE}")
    order = main.get("order", 100)
    if not isinstance(order, int):
        raise FaqContentError(f"{file}: order must be a whole number")
    related = _strings(main.get("related"), file, "related")
    texts: dict[str, ArticleText] = {}
    for locale, (meta, body) in versions.items():
        name = f"{slug}.{locale}.md"
        title = meta.get("title")
        if not isinstance(title, str) or not title.strip():
            raise FaqContentError(f"{name}: needs a title")
        text = plain(body)
        if not text:
            raise FaqContentError(f"{name}: the article has no text")
        texts[locale] = ArticleText(
            title=title.strip(),
            body=text,
            keywords=_strings(meta.get("keywords"), name, "keywords"),
            questions=_strings(meta.get("questions"), name, "questions"),
        )
    return Article(slug=slug, topic=str(topic), order=order, texts=texts, related=related)
