#!/usr/bin/env python3
"""Folder-to-Qdrant ingestion for the private RAG: reads every document under DOCS_DIR (PDF, DOCX,
HTML, Markdown and text), chunks it, embeds the chunks with Ollama and upserts them into a Qdrant
collection, each with its path and where in the file it lies (page, lines or paragraphs). A file is
embedded again only when its content hash changes; chunks of a changed or deleted file are removed
first. A file that fails to parse is logged and counted and the pass goes on. PDF and DOCX need the
PyPI packages pypdf and python-docx (the container installs them at start); without them those files
count as failures. Runs forever (INGEST_INTERVAL seconds between passes) or once with --once.

Environment: DOCS_DIR (/documents), OLLAMA_URL (http://ollama:11434), EMBED_MODEL
(nomic-embed-text), QDRANT_URL (http://qdrant:6333), QDRANT_API_KEY, COLLECTION (documents),
CHUNK_CHARS (2400), CHUNK_OVERLAP (300): bench/rag.ts's best on its set (docs/rag.md), INGEST_INTERVAL (300), ALIVE_FILE (/tmp/ingest-alive),
METRICS_FILE (unset: none; a node-exporter textfile such as /textfile/rag_ingest.prom).
"""

import hashlib
import html.parser
import io
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid

TEXT = (".txt", ".md", ".markdown", ".rst", ".csv", ".json")
SUFFIXES = TEXT + (".html", ".htm", ".pdf", ".docx")
NAMESPACE = uuid.UUID("7b0e8f0a-2c4d-4f57-9a52-6169647374ab")


class ParseError(Exception):
    pass


class _HtmlText(html.parser.HTMLParser):
    """The visible text of an HTML page, one line per block element."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "pre", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def sections(name, raw):
    """The text of a document as (kind of location, first number, text) sections: a PDF's pages
    ("page", n), a DOCX's paragraphs ("paragraphs", 1), anything else's lines ("lines", 1)."""
    low = name.lower()
    if low.endswith(".pdf"):
        try:
            import pypdf  # pylint: disable=import-outside-toplevel
        except ImportError:
            raise ParseError("PDF needs the pypdf package") from None
        try:
            reader = pypdf.PdfReader(io.BytesIO(raw))
            return [("page", n, page.extract_text() or "") for n, page in enumerate(reader.pages, 1)]
        except Exception as err:  # pypdf raises many kinds on a broken file
            raise ParseError(f"not a readable PDF: {err}") from None
    if low.endswith(".docx"):
        try:
            import docx  # pylint: disable=import-outside-toplevel
        except ImportError:
            raise ParseError("DOCX needs the python-docx package") from None
        try:
            doc = docx.Document(io.BytesIO(raw))
        except Exception as err:  # a zip or XML error on a broken file
            raise ParseError(f"not a readable DOCX: {err}") from None
        return [("paragraphs", 1, "\n".join(p.text for p in doc.paragraphs))]
    text = raw.decode("utf-8", errors="replace")
    if low.endswith((".html", ".htm")):
        parser = _HtmlText()
        parser.feed(text)
        parser.close()
        lines = [" ".join(line.split()) for line in "".join(parser.parts).split("\n")]
        text = "\n".join(line for line in lines if line)
    return [("lines", 1, text)]


def located_chunks(secs, size, overlap):
    """(text, where) for every chunk of every section: "page 3", "lines 12-30", "paragraphs 2-4"."""
    out = []
    for kind, first, text in secs:
        text = text.replace("\r\n", "\n")
        for start, end, piece in spans(text, size, overlap):
            if kind == "page":
                out.append((piece, f"page {first}"))
                continue
            a = first + text.count("\n", 0, start)
            b = first + text.count("\n", 0, max(start, end - 1))
            out.append((piece, f"{kind} {a}-{b}" if b > a else f"{kind.rstrip('s')} {a}"))
    return out


def env(name, default):
    return os.environ.get(name) or default


def spans(text, size, overlap):
    """(start, end, chunk) for chunks of at most `size` characters, preferring paragraph and sentence
    boundaries, each overlapping the previous one by about `overlap` characters."""
    out, start = [], 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            window = text[start:end]
            cut = max(window.rfind("\n\n"), window.rfind(". "), window.rfind("\n"))
            if cut > size // 2:
                end = start + cut + 1
        piece = text[start:end].strip()
        if piece:
            lead = len(text[start:end]) - len(text[start:end].lstrip())
            out.append((start + lead, start + lead + len(piece), piece))
        if end >= len(text):
            break
        start = max(end - overlap, start + 1)
    return out


def chunk(text, size, overlap):
    """The chunks of a text (see spans)."""
    return [piece for _s, _e, piece in spans(text.replace("\r\n", "\n").strip(), size, overlap)]


def request(method, url, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=300) as resp:
            raw = resp.read()
            return json.loads(raw) if raw else {}
    except urllib.error.HTTPError as err:
        raise RuntimeError(f"{method} {url}: HTTP {err.code}: {err.read()[:300]!r}") from None


class Ingest:
    def __init__(self):
        self.docs = env("DOCS_DIR", "/documents")
        self.ollama = env("OLLAMA_URL", "http://ollama:11434").rstrip("/")
        self.model = env("EMBED_MODEL", "nomic-embed-text")
        self.qdrant = env("QDRANT_URL", "http://qdrant:6333").rstrip("/")
        self.collection = env("COLLECTION", "documents")
        self.size = int(env("CHUNK_CHARS", "2400"))
        self.overlap = int(env("CHUNK_OVERLAP", "300"))
        key = os.environ.get("QDRANT_API_KEY", "")
        self.qheaders = {"api-key": key} if key else {}

    def q(self, method, path, body=None):
        return request(method, f"{self.qdrant}{path}", body, self.qheaders)

    def embed(self, texts):
        try:
            out = request("POST", f"{self.ollama}/api/embed", {"model": self.model, "input": texts})
        except RuntimeError as err:
            if "HTTP 404" not in str(err):
                raise
            # The embedding model is not there yet: pull it once, then try again.
            self.log(f"pulling {self.model}")
            request("POST", f"{self.ollama}/api/pull", {"model": self.model, "stream": False})
            out = request("POST", f"{self.ollama}/api/embed", {"model": self.model, "input": texts})
        vectors = out.get("embeddings") or []
        if len(vectors) != len(texts):
            raise RuntimeError(f"ollama returned {len(vectors)} embeddings for {len(texts)} chunks")
        return vectors

    def ensure_collection(self, dim):
        try:
            self.q("GET", f"/collections/{self.collection}")
        except RuntimeError as err:
            if "HTTP 404" not in str(err):
                raise
            self.q("PUT", f"/collections/{self.collection}", {"vectors": {"size": dim, "distance": "Cosine"}})
            self.log(f"created collection {self.collection} ({dim} dimensions)")

    def indexed(self):
        """source path -> sha256 of the content its points were made from."""
        seen, offset = {}, None
        try:
            self.q("GET", f"/collections/{self.collection}")
        except RuntimeError as err:
            if "HTTP 404" in str(err):
                return seen
            raise
        while True:
            body = {"limit": 256, "with_payload": ["source", "sha256"], "with_vector": False}
            if offset is not None:
                body["offset"] = offset
            res = self.q("POST", f"/collections/{self.collection}/points/scroll", body).get("result", {})
            for p in res.get("points", []):
                pl = p.get("payload", {})
                seen[pl.get("source")] = pl.get("sha256")
            offset = res.get("next_page_offset")
            if offset is None:
                return seen

    def forget(self, source):
        flt = {"must": [{"key": "source", "match": {"value": source}}]}
        self.q("POST", f"/collections/{self.collection}/points/delete?wait=true", {"filter": flt})

    def files(self):
        for root, _dirs, names in os.walk(self.docs):
            for name in sorted(names):
                if name.lower().endswith(SUFFIXES):
                    full = os.path.join(root, name)
                    yield os.path.relpath(full, self.docs), full

    def log(self, msg):
        print(f"rag-ingest: {msg}", flush=True)

    def run_once(self):
        """One pass; returns its counts. A file that fails to parse keeps the chunks it had."""
        indexed = self.indexed()
        present = set()
        stats = {"files": 0, "reindexed": 0, "failures": 0, "chunks": 0}
        for rel, full in self.files():
            present.add(rel)
            with open(full, "rb") as fh:
                raw = fh.read()
            digest = hashlib.sha256(raw).hexdigest()
            stats["files"] += 1
            if indexed.get(rel) == digest:
                continue
            try:
                pieces = located_chunks(sections(rel, raw), self.size, self.overlap)
            except ParseError as err:
                self.log(f"{rel}: skipped, {err}")
                stats["failures"] += 1
                continue
            if rel in indexed:
                self.forget(rel)
            if not pieces:
                continue
            vectors = self.embed([text for text, _where in pieces])
            self.ensure_collection(len(vectors[0]))
            points = [
                {
                    "id": str(uuid.uuid5(NAMESPACE, f"{rel}#{i}")),
                    "vector": vec,
                    "payload": {"source": rel, "sha256": digest, "chunk": i, "where": loc, "text": text},
                }
                for i, ((text, loc), vec) in enumerate(zip(pieces, vectors))
            ]
            self.q("PUT", f"/collections/{self.collection}/points?wait=true", {"points": points})
            self.log(f"{rel}: {len(points)} chunks")
            stats["reindexed"] += 1
        for gone in set(indexed) - present:
            if gone is not None:
                self.forget(gone)
                self.log(f"{gone}: removed")
        stats["chunks"] = self.count()
        return stats

    def count(self):
        try:
            res = self.q("POST", f"/collections/{self.collection}/points/count", {"exact": True})
        except RuntimeError as err:
            if "HTTP 404" in str(err):
                return 0
            raise
        return int(res.get("result", {}).get("count", 0))


def write_metrics(path, stats, last_success, failed_passes):
    """The node-exporter textfile: written whole, then renamed, so a scrape never sees half of it."""
    lines = [
        "# HELP aidualstack_rag_ingest_files Documents in the folder at the last pass.",
        "# TYPE aidualstack_rag_ingest_files gauge",
        f"aidualstack_rag_ingest_files {stats.get('files', 0)}",
        "# HELP aidualstack_rag_ingest_chunks Chunks in the Qdrant collection after the last pass.",
        "# TYPE aidualstack_rag_ingest_chunks gauge",
        f"aidualstack_rag_ingest_chunks {stats.get('chunks', 0)}",
        "# HELP aidualstack_rag_ingest_failures Documents that failed to parse in the last pass.",
        "# TYPE aidualstack_rag_ingest_failures gauge",
        f"aidualstack_rag_ingest_failures {stats.get('failures', 0)}",
        "# HELP aidualstack_rag_ingest_failed_passes_total Passes since the start that stopped on an error (Ollama or Qdrant).",
        "# TYPE aidualstack_rag_ingest_failed_passes_total counter",
        f"aidualstack_rag_ingest_failed_passes_total {failed_passes}",
        "# HELP aidualstack_rag_ingest_last_success_timestamp_seconds When a pass last completed.",
        "# TYPE aidualstack_rag_ingest_last_success_timestamp_seconds gauge",
        f"aidualstack_rag_ingest_last_success_timestamp_seconds {last_success:.0f}",
    ]
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    os.replace(tmp, path)


def main(argv):
    ingest = Ingest()
    alive = env("ALIVE_FILE", "/tmp/ingest-alive")
    metrics = os.environ.get("METRICS_FILE", "")
    interval = int(env("INGEST_INTERVAL", "300"))
    stats, last_success, failed_passes = {}, 0.0, 0
    while True:
        try:
            stats = ingest.run_once()
            ingest.log(
                f"pass done, {stats['reindexed']} file(s) (re)indexed, {stats['failures']} failed, "
                f"{stats['files']} in the folder, {stats['chunks']} chunks"
            )
            last_success = time.time()
            with open(alive, "w", encoding="utf-8") as fh:
                fh.write(str(last_success))
            ok = True
        except (RuntimeError, OSError) as err:
            ingest.log(f"pass failed: {err}")
            failed_passes += 1
            ok = False
        if metrics:
            try:
                write_metrics(metrics, stats, last_success, failed_passes)
            except OSError as err:
                ingest.log(f"metrics not written: {err}")
        if "--once" in argv:
            return 0 if ok else 1
        time.sleep(interval)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
