"""An EPUB book: spine order, chapters named by the table of contents (EPUB 3 nav or EPUB 2
NCX), front matter, scripts and styles dropped, metadata and cover; and hostile archives
(not a zip, a zip bomb, no text, garbage) refused in one line."""

from __future__ import annotations

import contextlib
import io
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cartesia_cli.errors import UsageError
from cartesia_cli.input import epub
from cartesia_cli.input.book import Book, require_text
from cartesia_cli.input.epub import read_epub
from cartesia_cli.input.speakers import Speakers

CONTAINER = (
    '<?xml version="1.0"?><container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"'
    ' version="1.0"><rootfiles><rootfile full-path="OEBPS/content.opf"'
    ' media-type="application/oebps-package+xml"/></rootfiles></container>'
)
COVER_PNG = b"\x89PNG\r\n\x1a\nnot really"


def page(body: str, body_type: str = "") -> str:
    typed = f' epub:type="{body_type}"' if body_type else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"'
        ' xmlns:epub="http://www.idpf.org/2007/ops"><head><title>T</title>'
        f"<style>p {{ color: red }}</style></head><body{typed}>{body}</body></html>"
    )


PAGES = {
    "cover.xhtml": page('<img src="cover.png"/>', "cover"),
    "title.xhtml": page("<h1>The Book</h1><p>by Someone</p>"),
    "ch1.xhtml": page(
        "<h1>One</h1>\n<p>It was a <em>dark</em> night.<script>alert(1)</script></p>"
        "<p>ALICE: Hello<br/>there.</p>"
    ),
    "ch1b.xhtml": page("<p>Still chapter one.</p>"),
    "ch2.xhtml": page("<section><h2>Two</h2><p>The end &amp; after.</p></section>"),
}
TOC = [("ch1.xhtml", "Chapter One"), ("ch1.xhtml#part", "Again"), ("ch2.xhtml", "Chapter Two")]


def make_epub(
    pages: dict[str, str] | None = None,
    toc: list[tuple[str, str]] | None = None,
    *,
    ncx: bool = False,
    extra: dict[str, bytes] | None = None,
) -> bytes:
    pages = PAGES if pages is None else pages
    toc = TOC if toc is None else toc
    items = "".join(
        f'<item id="p{i}" href="{name}" media-type="application/xhtml+xml"/>'
        for i, name in enumerate(pages)
    )
    spine = "".join(f'<itemref idref="p{i}"/>' for i in range(len(pages)))
    links = "".join(f'<li><a href="{href}">{title}</a></li>' for href, title in toc)
    nav = (
        '<html xmlns:epub="http://www.idpf.org/2007/ops"><body><nav epub:type="toc"><ol>'
        f'{links}</ol></nav><nav epub:type="landmarks"><ol><li><a epub:type="titlepage"'
        ' href="title.xhtml">Title</a></li></ol></nav></body></html>'
    )
    points = "".join(
        f'<navPoint id="n{i}"><navLabel><text>{title}</text></navLabel><content src="{href}"/>'
        "</navPoint>"
        for i, (href, title) in enumerate(toc)
    )
    spine_toc = ' toc="ncx"' if ncx else ""
    opf = (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">'
        '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>A  Title</dc:title>'
        "<dc:creator>An Author</dc:creator><dc:language>en</dc:language>"
        '<meta name="cover" content="img"/></metadata><manifest>'
        f'{items}<item id="img" href="cover.png" media-type="image/png"/>'
        + (
            '<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>'
            if ncx
            else '<item id="nav" href="nav.xhtml" properties="nav"'
            ' media-type="application/xhtml+xml"/>'
        )
        + f"</manifest><spine{spine_toc}>{spine}</spine>"
        '<guide><reference type="cover" href="cover.xhtml"/></guide></package>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", "application/epub+zip")
        archive.writestr("META-INF/container.xml", CONTAINER)
        archive.writestr("OEBPS/content.opf", opf)
        archive.writestr("OEBPS/cover.png", COVER_PNG)
        if ncx:
            archive.writestr("OEBPS/toc.ncx", f"<ncx><navMap>{points}</navMap></ncx>")
        else:
            archive.writestr("OEBPS/nav.xhtml", nav)
        for name, markup in pages.items():
            archive.writestr(f"OEBPS/{name}", markup)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def read(data: bytes, cast: list[str] | None = None) -> Book:
    speakers = Speakers(cast) if cast is not None else None
    return read_epub(io.BytesIO(data), source="b.epub", speakers=speakers)


def spoken(book: Book) -> list[tuple[str, list[str]]]:
    return [(c.title, [p.text for p in c.paragraphs]) for c in book.chapters]


EXPECTED = [
    ("Chapter One", ["One", "It was a dark night.", "ALICE: Hello there.", "Still chapter one."]),
    ("Chapter Two", ["Two", "The end & after."]),
]


@pytest.mark.parametrize("ncx", [False, True], ids=["nav", "ncx"])
def test_chapters_follow_the_spine_named_by_the_table_of_contents(ncx: bool) -> None:
    book = read(make_epub(ncx=ncx))
    assert spoken(book) == EXPECTED
    assert book.chapters[0].source == "b.epub:OEBPS/ch1.xhtml"


def test_metadata_and_cover_are_kept_for_the_audiobook() -> None:
    book = read(make_epub())
    assert (book.title, book.author, book.language) == ("A Title", "An Author", "en")
    assert book.cover == ("image/png", COVER_PNG)


def test_a_book_without_a_table_of_contents_has_a_chapter_a_page() -> None:
    pages = {"a.xhtml": page("<h2>First</h2><p>x.</p>"), "b.xhtml": page("<p>y.</p>")}
    assert spoken(read(make_epub(pages, toc=[]))) == [
        ("First", ["First", "x."]),
        ("T", ["y."]),  # no heading: the page's <title>
    ]


def test_speaker_lines_in_pages_use_the_cast() -> None:
    chapter = read(make_epub(), cast=["ALICE"]).chapters[0]
    assert [(p.speaker, p.text) for p in chapter.paragraphs][2] == ("ALICE", "Hello there.")


def test_an_unknown_speaker_names_the_page() -> None:
    pages = {"ch1.xhtml": page("<p>Intro.</p>\n\n<p>BOB: Hi.</p>")}
    with pytest.raises(UsageError, match=r"^b\.epub:OEBPS/ch1\.xhtml:3: BOB speaks"):
        read(make_epub(pages, [("ch1.xhtml", "One")]), cast=["ALICE"])


def test_a_file_that_is_not_a_zip_is_one_clear_line() -> None:
    with pytest.raises(UsageError, match=r"^b\.epub is not an EPUB: it is not a zip archive$"):
        read(b"%PDF-1.7 not an epub")


def test_a_zip_that_is_no_epub_is_one_clear_line() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(UsageError, match=r"^b\.epub is not an EPUB: it has no META-INF/container"):
        read(buffer.getvalue())


def test_a_zip_bomb_is_refused_before_it_is_unpacked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(epub, "MAX_MEMBER_BYTES", 100_000)  # the real bound is 32 MiB
    bomb = "\0" * 2_000_000  # packs into ~2 KiB
    data = make_epub({"ch1.xhtml": page("<p>x</p>"), "bomb.xhtml": bomb}, [("ch1.xhtml", "One")])
    assert len(data) < 10_000
    with pytest.raises(UsageError, match=r"^b\.epub: OEBPS/bomb\.xhtml unpacks to 2000000 bytes"):
        read(data)


def test_the_total_unpacked_is_bounded_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(epub, "MAX_TOTAL_BYTES", 1000)
    with pytest.raises(UsageError, match="past the bounds a book is read within"):
        read(make_epub())


def test_too_many_members_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(epub, "MAX_MEMBERS", 5)
    with pytest.raises(UsageError, match=r"^b\.epub holds \d+ files, more than the 5"):
        read(make_epub())


def test_a_damaged_member_is_one_clear_line() -> None:
    data = bytearray(make_epub({"ch1.xhtml": page("<p>" + "x" * 5000 + "</p>")}, TOC[:1]))
    # Corrupt the deflated bytes of ch1: zipfile notices (CRC) and we say so in one line.
    at = data.find(b"OEBPS/ch1.xhtml") + len("OEBPS/ch1.xhtml") + 10
    data[at : at + 20] = b"\xff" * 20
    with pytest.raises(UsageError, match=r"^b\.epub: OEBPS/ch1\.xhtml cannot be unpacked"):
        read(bytes(data))


def test_an_epub_with_no_text_is_one_clear_line() -> None:
    book = read(make_epub({"ch1.xhtml": page('<img src="x.png"/><script>x()</script>')}, []))
    with pytest.raises(UsageError, match=r"^b\.epub has no text to read$"):
        require_text(book, "b.epub")


def test_xml_entity_declarations_are_refused() -> None:
    laughs = '<?xml version="1.0"?><!DOCTYPE c [<!ENTITY a "aaaa">]><container>&a;</container>'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("META-INF/container.xml", laughs)
    with pytest.raises(UsageError, match="declares XML entities"):
        read(buffer.getvalue())


@given(st.binary(max_size=600))
def test_garbage_is_never_anything_but_our_error(data: bytes) -> None:
    with pytest.raises(UsageError):
        read(data)


@given(st.integers(min_value=0, max_value=4000), st.binary(min_size=1, max_size=8))
def test_a_damaged_epub_is_never_anything_but_our_error_or_a_book(at: int, junk: bytes) -> None:
    data = bytearray(make_epub())
    at %= len(data)
    data[at : at + len(junk)] = junk
    with contextlib.suppress(UsageError):  # a byte in the padding may leave the book readable
        read(bytes(data))


def test_a_page_marked_as_front_matter_is_not_read_wherever_it_is() -> None:
    pages = {
        "ch1.xhtml": page("<p>Story.</p>"),
        "legal.xhtml": page("<p>All rights reserved.</p>", "copyright-page"),
        "toc.xhtml": page('<section epub:type="toc"><p>Contents</p></section>'),
    }
    assert spoken(read(make_epub(pages, [("ch1.xhtml", "One")]))) == [("One", ["Story."])]
