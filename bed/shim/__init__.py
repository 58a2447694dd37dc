"""The mini-agent shim: a deterministic upstream that speaks the protocols agents and LiteLLM
providers use (OpenAI chat completions and Responses, Anthropic Messages, Gemini), with fault
injection and scripted agent turns.

One answer core (``_core``), one fault model (``_faults``), one journal (``_journal``); each
protocol in ``surfaces/`` only parses requests into the neutral form and renders answers.
It is a plain ASGI application with no dependency beyond the standard library, so it runs
on any ASGI server (the shim image uses uvicorn) and imports in milliseconds. Everything
in here uses relative imports: the image copies this folder as the top-level package
``bed_shim``.
"""
