"""An EPUB book: its spine read page by page, chapters named by its table of contents.

Read with the standard library (zipfile, xml.etree for the package files,
html.parser for the pages) rather than an EPUB library: the one maintained
choice, ebooklib, brings lxml (13 MB installed), reads every member of the
archive into memory when a book is opened (images and audio too, with no bound:
a zip bomb fills memory before any check of ours could run), and warns on every
read. What `narrate` needs of the format is small: `META-INF/container.xml`
names the package file (OPF); the OPF lists the pages (manifest), their reading
order (spine), the title, author, language and cover; the table of contents is
the EPUB 3 navigation page or the EPUB 2 NCX.

Bounded: at most MAX_MEMBERS files in the archive, each member read at most
MAX_MEMBER_BYTES unpacked, and MAX_TOTAL_BYTES in all; XML entity declarations
refused. Any damage is one clear line (UsageError), never a traceback.

Front matter is not read: the pages the book marks as cover, title page,
copyright page or table of contents (EPUB 3 landmarks and `epub:type`, the EPUB 2
guide), and the pages before the first one the table of contents names.
Forewords, prefaces and dedications are read. Pages the table of contents does
not name continue the chapter before them.
"""

from __future__ import annotations

import codecs
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import PurePosixPath
from typing import BinaryIO
from urllib.parse import unquote
from xml.etree import ElementTree

from cartesia_cli.errors import UsageError
from cartesia_cli.input.book import Book, Collector, Cover, Line
from cartesia_cli.input.html_text import Page, page_text
from cartesia_cli.input.speakers import Speakers

MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = 32 * 1024 * 1024
MAX_TOTAL_BYTES = 256 * 1024 * 1024
CONTAINER = "META-INF/container.xml"
FRONT_MATTER = frozenset(
    ["cover", "titlepage", "title-page", "halftitlepage", "copyright-page", "toc", "landmarks"]
)
PAGE_TYPES = frozenset(["application/xhtml+xml", "text/html"])
_ZIP_FAILURES = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    NotImplementedError,  # a compression method zipfile lacks
    RuntimeError,  # an encrypted member
    ValueError,
)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_DECLARED_ENCODING = re.compile(rb"""^<\?xml[^>]*encoding=["']([A-Za-z0-9._-]{1,40})["']""")


def read_epub(file: BinaryIO, *, source: str, speakers: Speakers | None = None) -> Book:
    """The book in the EPUB `file` (a seekable binary file), named `source` in messages."""
    try:
        archive = zipfile.ZipFile(file)
    except _ZIP_FAILURES:
        raise UsageError(f"{source} is not an EPUB: it is not a zip archive") from None
    with archive:
        return _Reader(_Archive(archive, source), speakers).book()


class _Archive:
    """The zip's members, read by name within the bounds."""

    def __init__(self, archive: zipfile.ZipFile, source: str) -> None:
        self.source = source
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise UsageError(
                f"{source} holds {len(infos)} files, more than the {MAX_MEMBERS} a book is"
                " read with"
            )
        self._zip = archive
        self._infos = {info.filename: info for info in infos}
        self._read = 0

    def has(self, name: str) -> bool:
        return name in self._infos

    def read(self, name: str) -> bytes:
        info = self._infos.get(name)
        if info is None:
            raise UsageError(f"{self.source} is not a complete EPUB: it lacks {name}")
        size = info.file_size
        if size > MAX_MEMBER_BYTES or self._read + size > MAX_TOTAL_BYTES:
            raise UsageError(
                f"{self.source}: {name} unpacks to {size} bytes, past the bounds a book is read"
                f" within ({MAX_MEMBER_BYTES // 2**20} MiB a file, {MAX_TOTAL_BYTES // 2**20}"
                " MiB in all)"
            )
        try:
            with self._zip.open(info) as member:
                data = member.read(MAX_MEMBER_BYTES + 1)
        except _ZIP_FAILURES as exc:
            raise UsageError(f"{self.source}: {name} cannot be unpacked ({exc})") from None
        self._read += len(data)
        return data

    def xml(self, name: str) -> ElementTree.Element:
        text = _decoded(self.read(name))
        if "<!ENTITY" in text:
            raise UsageError(f"{self.source}: {name} declares XML entities; refused")
        try:  # the text is decoded already: its declaration's encoding no longer applies
            return ElementTree.fromstring(_XML_DECLARATION.sub("", text, count=1))
        except ElementTree.ParseError as exc:
            raise UsageError(f"{self.source}: {name} is not well-formed XML ({exc})") from None

    def page(self, name: str) -> str:
        return _decoded(self.read(name))


@dataclass
class _Item:
    path: str
    media_type: str
    properties: frozenset[str]


@dataclass
class _Package:
    """What the OPF says: metadata, manifest, spine, and the front matter it names."""

    title: str | None = None
    author: str | None = None
    language: str | None = None
    cover_id: str | None = None
    items: dict[str, _Item] = field(default_factory=dict)
    spine: list[str] = field(default_factory=list)  # item ids, linear ones only
    ncx_id: str | None = None
    front: set[str] = field(default_factory=set)  # paths of front-matter pages


class _Reader:
    def __init__(self, archive: _Archive, speakers: Speakers | None) -> None:
        self.archive = archive
        self.source = archive.source
        self.speakers = speakers

    def book(self) -> Book:
        package = self._package(self._package_path())
        contents = self._contents(package)
        title = package.title or PurePosixPath(self.source).stem
        collector = Collector(self.source, speakers=self.speakers, title=title)
        started = not contents  # with a table of contents, pages before its first are front
        for number, item_id in enumerate(package.spine, start=1):
            item = package.items.get(item_id)
            if item is None or item.media_type not in PAGE_TYPES or item.path in package.front:
                continue
            page = page_text(self.archive.page(item.path))
            if page.types & FRONT_MATTER:
                continue
            where = f"{self.source}:{item.path}"
            if item.path in contents:
                started = True
                collector.chapter(contents[item.path], where)
            elif not contents:
                collector.chapter(_page_title(page) or f"{title} {number}", where)
            elif not started:
                continue
            collector.where(where)
            for block in page.blocks:
                lines = [Line(block.line, text) for text in block.lines]
                collector.block(lines, heading=block.heading > 0)
        cover = self._cover(package)
        chapters = tuple(collector.finish())
        return Book(title, chapters, package.author, package.language, cover)

    def _package_path(self) -> str:
        if not self.archive.has(CONTAINER):
            raise UsageError(f"{self.source} is not an EPUB: it has no {CONTAINER}")
        for element in self.archive.xml(CONTAINER).iter():
            if _local(element.tag) == "rootfile" and element.get("full-path"):
                return element.get("full-path", "")
        raise UsageError(f"{self.source}: {CONTAINER} names no package file")

    def _package(self, path: str) -> _Package:
        root = self.archive.xml(path)
        base = posixpath.dirname(path)
        package = _Package()
        for element in root.iter():
            name = _local(element.tag)
            text = " ".join((element.text or "").split()) or None
            if name == "title" and package.title is None:
                package.title = text
            elif name == "creator" and package.author is None:
                package.author = text
            elif name == "language" and package.language is None:
                package.language = text
            elif name == "meta" and element.get("name") == "cover":
                package.cover_id = element.get("content")
            elif name == "item" and element.get("id") and element.get("href"):
                item = _Item(
                    _joined(base, element.get("href", "")),
                    element.get("media-type", ""),
                    frozenset(element.get("properties", "").split()),
                )
                package.items[element.get("id", "")] = item
            elif name == "spine":
                package.ncx_id = element.get("toc")
            elif name == "itemref" and element.get("linear") != "no":
                package.spine.append(element.get("idref", ""))
            elif name == "reference" and element.get("type") in FRONT_MATTER:
                package.front.add(_joined(base, element.get("href", "")))
        return package

    def _contents(self, package: _Package) -> dict[str, str]:
        """Page path -> the title the table of contents gives it (the first entry for it)."""
        for item in package.items.values():
            if "nav" in item.properties and self.archive.has(item.path):
                package.front.add(item.path)
                nav = _NavParser()
                nav.feed(self.archive.page(item.path))
                nav.close()
                base = posixpath.dirname(item.path)
                package.front.update(_joined(base, href) for href in nav.front)
                return _first_titles((_joined(base, href), t) for href, t in nav.entries)
        ncx = package.items.get(package.ncx_id or "")
        if ncx is not None and self.archive.has(ncx.path):
            return _first_titles(_ncx_entries(self.archive.xml(ncx.path), ncx.path))
        return {}

    def _cover(self, package: _Package) -> Cover | None:
        covers = [i for i in package.items.values() if "cover-image" in i.properties]
        item = covers[0] if covers else package.items.get(package.cover_id or "")
        if item is None or not item.media_type.startswith("image/"):
            return None
        if not self.archive.has(item.path):
            return None
        return Cover(item.media_type, self.archive.read(item.path))


class _NavParser(HTMLParser):
    """An EPUB 3 navigation page: the `toc` nav's links, and the landmarks' front matter."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.entries: list[tuple[str, str]] = []  # (href, title)
        self.front: list[str] = []
        self._nav: str | None = None  # "toc", "landmarks" or another nav's type
        self._href: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        given = dict(attrs)
        if tag == "nav":
            types = (given.get("epub:type") or "").split()
            self._nav = types[0] if types else ""
        elif tag == "a" and self._nav is not None:
            self._href, self._text = given.get("href"), ""
            if self._nav == "landmarks" and (given.get("epub:type") or "") in FRONT_MATTER:
                self.front.append(self._href or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self._nav = None
        elif tag == "a" and self._href is not None:
            if self._nav == "toc":
                self.entries.append((self._href, " ".join(self._text.split())))
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text += data


def _ncx_entries(root: ElementTree.Element, path: str) -> list[tuple[str, str]]:
    base = posixpath.dirname(path)
    entries = []
    for point in root.iter():
        if _local(point.tag) != "navPoint":
            continue
        label = next((e for e in point.iter() if _local(e.tag) == "text"), None)
        content = next((e for e in point if _local(e.tag) == "content"), None)
        if label is not None and content is not None:
            title = " ".join("".join(label.itertext()).split())
            entries.append((_joined(base, content.get("src", "")), title))
    return entries


def _first_titles(entries: Iterable[tuple[str, str]]) -> dict[str, str]:
    titles: dict[str, str] = {}
    for path, title in entries:
        if title:
            titles.setdefault(path, title)
    return titles


def _page_title(page: Page) -> str:
    """A page's own name, for a book with no table of contents: its first heading, its title."""
    heading = next((block for block in page.blocks if block.heading), None)
    return " ".join(" ".join(heading.lines).split()) if heading else page.title


def _joined(base: str, href: str) -> str:
    """A manifest or link href as the zip names the member: relative to `base`, no fragment."""
    path = unquote(href.split("#", 1)[0])
    return posixpath.normpath(posixpath.join(base, path)) if path else ""


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _decoded(data: bytes) -> str:
    """A member's text: its byte-order mark or XML declaration names the encoding, else UTF-8;
    undecodable bytes become U+FFFD rather than ending the book."""
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                          (codecs.BOM_UTF16_BE, "utf-16")):  # fmt: skip
        if data.startswith(bom):
            return data.decode(encoding, "replace")
    declared = _DECLARED_ENCODING.match(data)
    encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        codecs.lookup(encoding)
    except LookupError:
        encoding = "utf-8"
    return data.decode(encoding, "replace")
