"""AWS's and Google's own clients pointed at the cloud twins of an in-process shim.

boto3 sends through botocore's ``before-send`` hook, which may answer a request itself: the hook
hands botocore's signed request to the shim over an ASGI transport and returns the shim's bytes
as botocore's response, so no socket and no server are involved and botocore parses the answer
(JSON, event stream, error type) exactly as it parses Bedrock's. google-auth's token exchange
goes through a ``google.auth.transport.Request`` of the same kind.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.config import Config
from google.auth import transport

from bed.shim.app import Shim
from bed.shim.twins.bedrock import ACCESS_KEY_ID, SECRET_ACCESS_KEY


async def _exchange(shim: Shim, method: str, url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=shim)) as client:
        return await client.request(method, url, content=body, headers=headers)


def _in_thread(shim: Shim, method: str, url: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    """One exchange with the app, also from inside a running event loop (google-genai's async client)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_exchange(shim, method, url, body, headers))
    result: list[httpx.Response] = []
    worker = threading.Thread(target=lambda: result.append(asyncio.run(_exchange(shim, method, url, body, headers))))
    worker.start()
    worker.join()
    return result[0]


class _Raw:
    """What botocore reads a response body from: ``stream()`` in small pieces, as a socket delivers it."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, amt: int = 1024, decode_content: bool = False) -> Iterator[bytes]:
        for i in range(0, len(self._body), 37):  # pieces that cut event stream messages apart
            yield self._body[i:i + 37]

    def read(self, amt: int | None = None) -> bytes:
        body, self._body = self._body, b""
        return body

    def close(self) -> None:
        pass


def bedrock(shim: Shim, endpoint: str = "http://shim/twins/bedrock/us-east-1", region: str = "us-east-1",
            key: str = ACCESS_KEY_ID, secret: str = SECRET_ACCESS_KEY, validate: bool = True) -> Any:
    """A boto3 ``bedrock-runtime`` client whose requests the shim answers; no retries (a test sees each).
    ``validate=False`` turns off botocore's own checks, to send what only the server refuses."""
    config = Config(retries={"total_max_attempts": 1}, parameter_validation=validate)
    client = boto3.client("bedrock-runtime", region_name=region, endpoint_url=endpoint, aws_access_key_id=key,
                          aws_secret_access_key=secret, config=config)

    def send(request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        body = request.body or b""
        answer = _in_thread(shim, request.method, request.url, body if isinstance(body, bytes) else body.encode(),
                            {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()})
        return AWSResponse(request.url, answer.status_code, dict(answer.headers), _Raw(answer.content))

    client.meta.events.register("before-send.bedrock-runtime", send)
    return client


class GoogleTransport(transport.Request):
    """google-auth's transport interface over the in-process shim (its token exchange, its refresh)."""

    def __init__(self, shim: Shim) -> None:
        self.shim = shim

    def __call__(self, url: str, method: str = "GET", body: Any = None, headers: Any = None, timeout: Any = None,
                 **kwargs: Any) -> transport.Response:
        raw = body if isinstance(body, bytes) else (body or "").encode()
        answer = _in_thread(self.shim, method, url, raw, dict(headers or {}))
        return _GoogleResponse(answer)


class _GoogleResponse(transport.Response):
    def __init__(self, answer: httpx.Response) -> None:
        self._answer = answer

    @property
    def status(self) -> int:
        return self._answer.status_code

    @property
    def headers(self) -> dict[str, str]:
        return dict(self._answer.headers)

    @property
    def data(self) -> bytes:
        return self._answer.content
