#!/usr/bin/env python3
"""Folder-to-Qdrant ingestion for the private RAG: chunks every text document under DOCS_DIR,
embeds the chunks with Ollama and upserts them into a Qdrant collection. Standard library only,
so it runs in a plain python image. A file is embedded again only when its content changes;
chunks of a changed or deleted file are removed first. Runs forever (INGEST_INTERVAL seconds
between passes) or once with --once.

Environment: DOCS_DIR (/documents), OLLAMA_URL (http://ollama:11434), EMBED_MODEL
(nomic-embed-text), QDRANT_URL (http://qdrant:6333), QDRANT_API_KEY, COLLECTION (documents),
CHUNK_CHARS (1200), CHUNK_OVERLAP (200), INGEST_INTERVAL (300), ALIVE_FILE (/tmp/ingest-alive).
"""

import hashlib
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid

SUFFIXES = (".txt", ".md", ".markdown", ".rst", ".csv", ".json", ".html", ".htm")
NAMESPACE = uuid.UUID("7b0e8f0a-2c4d-4f57-9a52-6169647374ab")


def env(name, default):
    return os.environ.get(name) or default


def chunk(text, size, overlap):
    """Splits text into chunks of at most `size` characters, preferring paragraph and sentence
    boundaries, each overlapping the previous one by about `overlap` characters."""
    text = text.replace("\r\n", "\n").strip()
    if not text:
        return []
    chunks, start = [], 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            window = text[start:end]
            cut = max(window.rfind("\n\n"), window.rfind(". "), window.rfind("\n"))
            if cut > size // 2:
                end = start + cut + 1
        piece = text[start:end].strip()
        if piece:
            chunks.append(piece)
        if end >= len(text):
            break
        start = max(end - overlap, start + 1)
    return chunks


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
        self.size = int(env("CHUNK_CHARS", "1200"))
        self.overlap = int(env("CHUNK_OVERLAP", "200"))
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
        indexed = self.indexed()
        present = set()
        added = 0
        for rel, full in self.files():
            present.add(rel)
            with open(full, "rb") as fh:
                raw = fh.read()
            digest = hashlib.sha256(raw).hexdigest()
            if indexed.get(rel) == digest:
                continue
            pieces = chunk(raw.decode("utf-8", errors="replace"), self.size, self.overlap)
            if rel in indexed:
                self.forget(rel)
            if not pieces:
                continue
            vectors = self.embed(pieces)
            self.ensure_collection(len(vectors[0]))
            points = [
                {
                    "id": str(uuid.uuid5(NAMESPACE, f"{rel}#{i}")),
                    "vector": vec,
                    "payload": {"source": rel, "sha256": digest, "chunk": i, "text": text},
                }
                for i, (text, vec) in enumerate(zip(pieces, vectors))
            ]
            self.q("PUT", f"/collections/{self.collection}/points?wait=true", {"points": points})
            self.log(f"{rel}: {len(points)} chunks")
            added += 1
        for gone in set(indexed) - present:
            if gone is not None:
                self.forget(gone)
                self.log(f"{gone}: removed")
        return added


def main(argv):
    ingest = Ingest()
    alive = env("ALIVE_FILE", "/tmp/ingest-alive")
    interval = int(env("INGEST_INTERVAL", "300"))
    while True:
        try:
            n = ingest.run_once()
            ingest.log(f"pass done, {n} file(s) (re)indexed")
            with open(alive, "w", encoding="utf-8") as fh:
                fh.write(str(time.time()))
        except (RuntimeError, OSError) as err:
            ingest.log(f"pass failed: {err}")
            if "--once" in argv:
                return 1
        if "--once" in argv:
            return 0
        time.sleep(interval)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
