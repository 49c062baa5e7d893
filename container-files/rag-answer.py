#!/usr/bin/env python3
"""The private RAG's answering service: an OpenAI-compatible endpoint (GET /v1/models, POST
/v1/chat/completions, streaming included) that Open WebUI lists as the model "documents". It embeds
the question with the ingest's embedding model, takes the top-k chunks of the Qdrant collection
that score at least SCORE_FLOOR, answers with the VM's chat model through Ollama, and ends every
answer with numbered sources (the path under the documents folder and where in the file). When no
chunk passes the floor it says so and never asks the model. Standard library only, like rag-ingest.

POST /v1/retrieve {"query": ..., "top_k": n} returns what an answer would cite, without the chat model (the
bench's retrieval figures come from it).

Environment: API_KEY (required: the bearer token clients send), LISTEN (0.0.0.0:8000), MODEL_NAME
(documents), OLLAMA_URL (http://ollama:11434), EMBED_MODEL (nomic-embed-text), CHAT_MODEL
(qwen2.5:14b), QDRANT_URL (http://qdrant:6333), QDRANT_API_KEY, COLLECTION (documents), TOP_K (4),
SCORE_FLOOR (0.5), MAX_TOKENS (default answer length; a request's max_tokens wins), HYBRID (0|1:
also rank chunks by BM25 over the retrieved candidates, fused with the vector ranks).
"""

import http.server
import json
import math
import os
import re
import sys
import time
import urllib.error
import urllib.request
import uuid

NO_ANSWER = "I found nothing in your documents about this"
SYSTEM = (
    "You answer questions about the user's documents. Use only the numbered passages below; "
    "cite them as [1], [2]. If they do not contain the answer, say that the documents do not say.\n\n"
)


def env(name, default):
    return os.environ.get(name) or default


def request(method, url, body=None, headers=None, timeout=600):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        return urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as err:
        raise UpstreamError(f"{method} {url}: HTTP {err.code}: {err.read()[:300]!r}") from None
    except (urllib.error.URLError, OSError) as err:
        raise UpstreamError(f"{method} {url}: {err}") from None


def call(method, url, body=None, headers=None):
    with request(method, url, body, headers) as resp:
        raw = resp.read()
        return json.loads(raw) if raw else {}


class UpstreamError(Exception):
    pass


class BadRequest(Exception):
    pass


TOKEN = re.compile(r"[a-z0-9]+")


def tokens(text):
    return TOKEN.findall(text.lower())


def bm25_order(question, texts, k1=1.2, b=0.75):
    """Indexes of the `texts` that share a word with the question, by BM25 score, best first (ties keep
    order); a text with none is left out, so that it gets no share of the fused rank."""
    docs = [tokens(t) for t in texts]
    n = len(docs)
    avg = sum(len(d) for d in docs) / n if n else 0
    scores = []
    for i, d in enumerate(docs):
        s = 0.0
        for w in set(tokens(question)):
            df = sum(1 for x in docs if w in x)
            tf = d.count(w)
            if not tf:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            s += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(d) / (avg or 1)))
        if s > 0:
            scores.append((-s, i))
    return [i for _s, i in sorted(scores)]


def fuse(vector_order, bm25, k=60):
    """Reciprocal rank fusion of two rankings: an index scores 1/(k + rank) in each ranking it is in."""
    score = {}
    for order in (vector_order, bm25):
        for rank, i in enumerate(order):
            score[i] = score.get(i, 0.0) + 1.0 / (k + rank + 1)
    return sorted(score, key=lambda i: (-score[i], i))


def where(payload):
    """Where in the file a chunk lies, as the ingest recorded it."""
    loc = payload.get("where")
    if loc:
        return loc
    return f"chunk {payload.get('chunk', 0) + 1}"


class Answerer:
    def __init__(self):
        self.api_key = os.environ.get("API_KEY", "")
        if not self.api_key:
            raise SystemExit("rag-answer: API_KEY is not set (the key Open WebUI sends as its bearer token)")
        self.model_name = env("MODEL_NAME", "documents")
        self.ollama = env("OLLAMA_URL", "http://ollama:11434").rstrip("/")
        self.embed_model = env("EMBED_MODEL", "nomic-embed-text")
        self.chat_model = env("CHAT_MODEL", "qwen2.5:14b")
        self.qdrant = env("QDRANT_URL", "http://qdrant:6333").rstrip("/")
        key = os.environ.get("QDRANT_API_KEY", "")
        self.qheaders = {"api-key": key} if key else {}
        self.collection = env("COLLECTION", "documents")
        self.top_k = int(env("TOP_K", "4"))
        self.floor = float(env("SCORE_FLOOR", "0.5"))
        self.max_tokens = int(env("MAX_TOKENS", "0")) or None
        self.hybrid = env("HYBRID", "0") == "1"

    def embed(self, text):
        out = call("POST", f"{self.ollama}/api/embed", {"model": self.embed_model, "input": [text]})
        vectors = out.get("embeddings") or []
        if len(vectors) != 1:
            raise UpstreamError(f"ollama returned {len(vectors)} embeddings for one question")
        return vectors[0]

    def retrieve(self, question, top_k=None):
        """The chunks that pass the floor, best first, at most top_k (TOP_K by default)."""
        top_k = top_k or self.top_k
        # The Query API (Qdrant 1.10 and later; the VM runs 1.15.1): nearest points by the collection's distance.
        body = {
            "query": self.embed(question),
            "limit": top_k * 4 if self.hybrid else top_k,
            "with_payload": True,
            "score_threshold": self.floor,
        }
        try:
            res = call("POST", f"{self.qdrant}/collections/{self.collection}/points/query", body, self.qheaders)
        except UpstreamError as err:
            if "HTTP 404" in str(err):
                return []  # no collection yet: the ingest has not stored anything
            raise
        hits = [h for h in res.get("result", {}).get("points", []) if h.get("score", 0) >= self.floor]
        if self.hybrid and hits:
            order = fuse(list(range(len(hits))), bm25_order(question, [h["payload"].get("text", "") for h in hits]))
            hits = [hits[i] for i in order]
        return hits[:top_k]

    def sources(self, hits):
        lines = ["", "", "Sources:"]
        for n, h in enumerate(hits, 1):
            p = h.get("payload", {})
            lines.append(f"[{n}] {p.get('source', '?')}, {where(p)} (score {h.get('score', 0):.2f})")
        return "\n".join(lines)

    def prompt(self, messages, hits):
        context = "\n\n".join(
            f"[{n}] ({h['payload'].get('source', '?')}, {where(h['payload'])})\n{h['payload'].get('text', '')}"
            for n, h in enumerate(hits, 1)
        )
        return [{"role": "system", "content": SYSTEM + context}] + [m for m in messages if m["role"] != "system"]

    def generate(self, messages, hits, max_tokens, temperature):
        """Yields the chat model's answer in pieces (Ollama's streaming /api/chat)."""
        options = {}
        if max_tokens or self.max_tokens:
            options["num_predict"] = max_tokens or self.max_tokens
        if temperature is not None:
            options["temperature"] = temperature
        body = {"model": self.chat_model, "messages": self.prompt(messages, hits), "stream": True, "options": options}
        with request("POST", f"{self.ollama}/api/chat", body) as resp:
            for line in resp:
                if not line.strip():
                    continue
                part = json.loads(line)
                if part.get("error"):
                    raise UpstreamError(f"ollama: {part['error']}")
                piece = part.get("message", {}).get("content", "")
                if piece:
                    yield piece
                if part.get("done"):
                    return

    def answer(self, req, hits):
        """Yields the answer's text in pieces from the retrieved chunks: the model's words, then the sources."""
        if not hits:
            yield (
                f"{NO_ANSWER} (no passage scored {self.floor:.2f} or more), "
                "so I will not answer from the model's memory. Add a document that covers it, or ask differently."
            )
            return
        yield from self.generate(req["messages"], hits, req["max_tokens"], req["temperature"])
        yield self.sources(hits)


def text_of(content):
    """A message's text: a string, or OpenAI's list of parts (only the text parts count)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    if content is None:
        return ""
    raise BadRequest("messages[].content must be a string or a list of content parts")


def parse(body, model_name):
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    if body.get("model") != model_name:
        raise BadRequest(f"model must be {model_name!r}, got {body.get('model')!r}")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("messages must be a non-empty list")
    clean = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant", "tool", "developer"):
            raise BadRequest(f"messages[{i}].role must be system, user, assistant, tool or developer")
        role = "system" if m["role"] == "developer" else m["role"]
        clean.append({"role": role, "content": text_of(m.get("content"))})
    users = [m for m in clean if m["role"] == "user" and m["content"].strip()]
    if not users:
        raise BadRequest("messages must hold a user message with text")
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
        raise BadRequest("max_tokens must be a positive integer")
    temperature = body.get("temperature")
    if temperature is not None and not isinstance(temperature, (int, float)):
        raise BadRequest("temperature must be a number")
    return {
        "messages": clean,
        "question": users[-1]["content"],
        "stream": bool(body.get("stream", False)),
        "max_tokens": max_tokens,
        "temperature": temperature,
    }


def handler_for(answerer):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "rag-answer"

        def log_message(self, fmt, *args):
            print(f"rag-answer: {self.address_string()} {fmt % args}", flush=True)

        def send_json(self, code, value):
            raw = json.dumps(value).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def error(self, code, message, kind):
            self.send_json(code, {"error": {"message": message, "type": kind, "param": None, "code": None}})

        def authorized(self):
            if self.headers.get("Authorization", "") == f"Bearer {answerer.api_key}":
                return True
            self.error(401, "missing or wrong API key (Authorization: Bearer ...)", "invalid_request_error")
            return False

        def retrieve(self):
            """What an answer would cite, without asking the chat model: {"query": ...} -> the sources."""
            try:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"null")
                if not isinstance(body, dict) or not isinstance(body.get("query"), str) or not body["query"].strip():
                    raise BadRequest("the body must be {\"query\": \"...\", \"top_k\": n (optional)}")
                top_k = body.get("top_k")
                if top_k is not None and (not isinstance(top_k, int) or not 1 <= top_k <= 50):
                    raise BadRequest("top_k must be a whole number from 1 to 50")
            except (ValueError, BadRequest) as err:
                return self.error(400, str(err), "invalid_request_error")
            try:
                hits = answerer.retrieve(body["query"], top_k)
            except UpstreamError as err:
                return self.error(502, str(err), "upstream_error")
            found = [
                {"source": h["payload"].get("source"), "where": where(h["payload"]), "score": h.get("score")}
                for h in hits
            ]
            return self.send_json(200, {"hits": found})

        def do_GET(self):
            if self.path == "/health":
                return self.send_json(200, {"status": "ok"})
            if not self.authorized():
                return None
            if self.path in ("/v1/models", "/models"):
                model = {"id": answerer.model_name, "object": "model", "created": 0, "owned_by": "ai-dualstack"}
                return self.send_json(200, {"object": "list", "data": [model]})
            return self.error(404, f"no such path: {self.path}", "invalid_request_error")

        def do_POST(self):
            if not self.authorized():
                return None
            if self.path == "/v1/retrieve":
                return self.retrieve()
            if self.path not in ("/v1/chat/completions", "/chat/completions"):
                return self.error(404, f"no such path: {self.path}", "invalid_request_error")
            try:
                length = int(self.headers.get("Content-Length", "0"))
                req = parse(json.loads(self.rfile.read(length) or b"null"), answerer.model_name)
            except (ValueError, BadRequest) as err:
                return self.error(400, str(err), "invalid_request_error")
            cid = f"chatcmpl-{uuid.uuid4().hex}"
            created = int(time.time())
            base = {"id": cid, "created": created, "model": answerer.model_name}
            try:
                hits = answerer.retrieve(req["question"])
            except UpstreamError as err:
                return self.error(502, str(err), "upstream_error")
            if not req["stream"]:
                try:
                    text = "".join(answerer.answer(req, hits))
                except UpstreamError as err:
                    return self.error(502, str(err), "upstream_error")
                message = {"role": "assistant", "content": text}
                return self.send_json(
                    200,
                    {
                        **base,
                        "object": "chat.completion",
                        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    },
                )
            # Streamed: the headers go out once the chunks are found, before the model's first word, so
            # that a client's header timeout never waits on the model's prompt evaluation.
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True

            def event(delta, finish=None):
                chunk = {**base, "object": "chat.completion.chunk"}
                chunk["choices"] = [{"index": 0, "delta": delta, "finish_reason": finish}]
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()

            event({"role": "assistant", "content": ""})
            try:
                for piece in answerer.answer(req, hits):
                    event({"content": piece})
            except UpstreamError as err:
                event({"content": f"\n\n(the answer broke off: {err})"})
            event({}, "stop")
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            return None

    return Handler


def main():
    answerer = Answerer()
    host, _, port = env("LISTEN", "0.0.0.0:8000").rpartition(":")
    server = http.server.ThreadingHTTPServer((host or "0.0.0.0", int(port)), handler_for(answerer))
    print(f"rag-answer: listening on {host}:{server.server_address[1]}, model {answerer.model_name!r}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
