#!/usr/bin/env python3
"""Asks an OpenAI-compatible endpoint with the official openai client (the venv of .ci/rag-fixtures.sh),
so that each request is built the way OpenAI's SDK builds it and each reply is parsed by its own types:
a reply that does not fit them fails here. Prints one JSON object: the models listed, and the
answer's text, id and (streamed) the chunks' ids, objects, roles and finish reasons.

Usage: openai-check.py BASE_URL API_KEY MODEL QUESTION [--stream] [--max-tokens N]
"""

import json
import sys

import openai
from openai.types import Model
from openai.types.chat import ChatCompletion, ChatCompletionChunk


def main(argv):
    base, key, model, question = argv[:4]
    stream = "--stream" in argv
    max_tokens = int(argv[argv.index("--max-tokens") + 1]) if "--max-tokens" in argv else 32
    client = openai.OpenAI(base_url=base, api_key=key, max_retries=0, timeout=600)
    models = client.models.list()
    listed = [m.id for m in models.data if isinstance(m, Model)]
    out = {"models": listed}
    messages = [{"role": "user", "content": question}]
    if not stream:
        reply = client.chat.completions.create(model=model, messages=messages, max_tokens=max_tokens, temperature=0)
        # The SDK builds its types without validation: validate the raw reply against them here.
        ChatCompletion.model_validate(reply.model_dump(), strict=False)
        choice = reply.choices[0]
        out.update(
            id=reply.id,
            object=reply.object,
            model=reply.model,
            role=choice.message.role,
            finish=choice.finish_reason,
            content=choice.message.content,
        )
    else:
        chunks = []
        for chunk in client.chat.completions.create(
            model=model, messages=messages, max_tokens=max_tokens, temperature=0, stream=True
        ):
            ChatCompletionChunk.model_validate(chunk.model_dump(), strict=False)
            chunks.append(chunk)
        out.update(
            ids=sorted({c.id for c in chunks}),
            objects=sorted({c.object for c in chunks}),
            roles=[c.choices[0].delta.role for c in chunks if c.choices[0].delta.role],
            finishes=[c.choices[0].finish_reason for c in chunks],
            content="".join(c.choices[0].delta.content or "" for c in chunks),
        )
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
