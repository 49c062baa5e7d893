#!/usr/bin/env python3
"""Qdrant's REST API, the part rag-ingest and rag-answer use, served on 127.0.0.1 over qdrant-client's
local mode (QdrantClient(":memory:"): the client library's own in-process implementation of Qdrant's
storage and search, not the Qdrant server, which no package registry ships). Every request body is
parsed with qdrant-client's REST models, generated from the server's OpenAPI schema, so a body the
server would refuse is refused here too (HTTP 400). The tests start it with the venv of
.ci/rag-fixtures.sh; it prints "listening on PORT" once ready.

Usage: qdrant-local.py API_KEY
"""

import http.server
import json
import re
import sys

from pydantic import ValidationError
from qdrant_client import QdrantClient
from qdrant_client.http import models

PATH = re.compile(r"^/collections/([A-Za-z0-9_-]+)(/points(?:/(scroll|delete|count|query))?)?$")


def main(api_key):
    client = QdrantClient(":memory:")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def reply(self, code, value):
            raw = json.dumps(value).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def handle_any(self, method):
            if self.headers.get("api-key") != api_key:
                return self.reply(401, {"status": {"error": "Must provide an API key or an Authorization bearer token"}})
            path, _, _query = self.path.partition("?")
            m = PATH.match(path)
            if not m:
                return self.reply(404, {"status": {"error": f"stand-in has no {method} {path}"}})
            name, points, op = m.group(1), m.group(2), m.group(3)
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            try:
                return self.route(method, name, points, op, body)
            except ValidationError as err:
                return self.reply(400, {"status": {"error": f"Format error in JSON body: {err}"}})

        def route(self, method, name, points, op, body):
            exists = client.collection_exists(name)
            if not points and method == "GET":
                if not exists:
                    return self.reply(404, {"status": {"error": f"Collection `{name}` doesn't exist!"}})
                info = client.get_collection(name)
                return self.reply(200, {"result": info.model_dump(mode="json"), "status": "ok"})
            if not points and method == "PUT":
                req = models.CreateCollection.model_validate(body)
                client.create_collection(name, vectors_config=req.vectors)
                return self.reply(200, {"result": True, "status": "ok"})
            if not exists:
                return self.reply(404, {"status": {"error": f"Collection `{name}` doesn't exist!"}})
            if op is None and method == "PUT":
                req = models.PointsList.model_validate(body)
                client.upsert(name, points=req.points, wait=True)
                return self.reply(200, {"result": {"operation_id": 0, "status": "completed"}, "status": "ok"})
            if op == "scroll":
                req = models.ScrollRequest.model_validate(body)
                found, nxt = client.scroll(
                    name,
                    scroll_filter=req.filter,
                    limit=req.limit or 10,
                    offset=req.offset,
                    with_payload=req.with_payload if req.with_payload is not None else True,
                    with_vectors=req.with_vector or False,
                )
                result = {"points": [p.model_dump(mode="json") for p in found], "next_page_offset": nxt}
                return self.reply(200, {"result": result, "status": "ok"})
            if op == "delete":
                req = models.FilterSelector.model_validate(body)
                client.delete(name, points_selector=req, wait=True)
                return self.reply(200, {"result": {"operation_id": 0, "status": "completed"}, "status": "ok"})
            if op == "count":
                req = models.CountRequest.model_validate(body)
                n = client.count(name, count_filter=req.filter, exact=req.exact if req.exact is not None else True)
                return self.reply(200, {"result": {"count": n.count}, "status": "ok"})
            if op == "query":
                req = models.QueryRequest.model_validate(body)
                hits = client.query_points(
                    name,
                    query=req.query,
                    query_filter=req.filter,
                    limit=req.limit,
                    score_threshold=req.score_threshold,
                    with_payload=req.with_payload if req.with_payload is not None else False,
                ).points
                result = {"points": [h.model_dump(mode="json") for h in hits]}
                return self.reply(200, {"result": result, "status": "ok"})
            return self.reply(404, {"status": {"error": f"stand-in has no {method} {self.path}"}})

        def do_GET(self):
            self.handle_any("GET")

        def do_PUT(self):
            self.handle_any("PUT")

        def do_POST(self):
            self.handle_any("POST")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1])
