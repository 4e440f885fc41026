"""Driving the hops of one request: the redirect policy around the retry policy around the
handler (the middleware chain). Both policies are I/O-free generators; this is where their
requests are sent, their pauses slept and their verdicts applied."""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Sequence
from typing import Any

from surge.client.middlewares import ClientHandlerType
from surge.client.policies.retry import RetryOptions, retry_policy
from surge.client.proxy import proxy_from_env
from surge.client.request import ClientRequest
from surge.client.response import ClientResponse
from surge.client.tracing import Trace

__all__ = ["run_hops", "send_with_retry"]


async def run_hops(
    policy: Generator[ClientRequest, Any, None],
    handler: ClientHandlerType,
    retry_options: RetryOptions | None,
    traces: Sequence[Trace],
    env_proxy: bool,
    first: ClientResponse | None = None,
) -> tuple[ClientResponse, list[ClientResponse]]:
    """Send the requests the redirect policy yields until it accepts a response; returns
    the final response and the redirects before it (released). ``first`` is the response
    to the policy's first request when that was already sent."""
    history: list[ClientResponse] = []
    current = next(policy)
    resp = first
    while True:
        if resp is None:
            if env_proxy:
                current.proxy, current.proxy_auth = proxy_from_env(current.url) or (None, None)
            if retry_options is None:
                resp = await handler(current)
            else:
                resp = await send_with_retry(handler, current, retry_options)
        try:
            current = policy.send(resp)
        except StopIteration:
            return resp, history
        except BaseException:
            resp.release()
            raise
        if traces:
            for trace in traces:
                await trace.send_request_redirect(
                    resp.method, resp.url, resp.request_info.headers.copy(), resp
                )
        resp.release()
        history.append(resp)
        resp = None


async def send_with_retry(
    handler: ClientHandlerType, req: ClientRequest, options: RetryOptions
) -> ClientResponse:
    policy = retry_policy(req, options)
    step = next(policy)
    while True:
        assert isinstance(step, ClientRequest)
        try:
            resp = await handler(step)
        except Exception as exc:
            delay = policy.throw(exc)  # re-raises when the policy gives up
        else:
            try:
                delay = policy.send(resp)
            except StopIteration:
                return resp
            resp.release()
        assert isinstance(delay, float)
        await asyncio.sleep(delay)
        step = next(policy)
