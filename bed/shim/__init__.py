"""The mini-agent shim: a deterministic, OpenAI-compatible upstream with fault injection.

It is a plain ASGI application with no dependency beyond the standard library, so it runs
on any ASGI server (the shim image uses uvicorn) and imports in milliseconds. Everything
in here uses relative imports: the image copies this folder as the top-level package
``bed_shim``.
"""
