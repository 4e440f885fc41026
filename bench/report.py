"""The results table, the surge/aiohttp ratios against the targets, and the JSON record."""

from __future__ import annotations

from typing import Any

from bench.measure import Measurement

# Issue 2's targets on CPU per request (aiohttp_cpu / surge_cpu), both frameworks on uvloop.
TARGETS = {"plaintext": 2.0, "json": 2.0, "routing": 2.0, "echo-1k": 1.3, "echo-64k": 1.3}


def ratios(results: list[Measurement]) -> dict[str, dict[str, float]]:
    """Per endpoint measured on both: rps surge/aiohttp and CPU/request aiohttp/surge (>1: surge wins)."""
    by_key = {(m.endpoint, m.framework): m for m in results}
    out: dict[str, dict[str, float]] = {}
    for endpoint in dict.fromkeys(m.endpoint for m in results):
        surge, aio = by_key.get((endpoint, "surge")), by_key.get((endpoint, "aiohttp"))
        if surge is None or aio is None or not surge.cpu_us_per_request or not aio.wrk.rps:
            continue
        out[endpoint] = {
            "rps_surge_over_aiohttp": round(surge.wrk.rps / aio.wrk.rps, 2),
            "cpu_aiohttp_over_surge": round(aio.cpu_us_per_request / surge.cpu_us_per_request, 2),
        }
    return out


def format_table(results: list[Measurement]) -> str:
    head = f"{'endpoint':<10} {'framework':<8} {'req/s':>9} {'p99 ms':>8} {'CPU µs/req':>11} {'errors':>7}"
    lines = [head, "-" * len(head)]
    for m in results:
        lines.append(
            f"{m.endpoint:<10} {m.framework:<8} {m.wrk.rps:>9.0f} {m.wrk.p99_ms:>8.2f} "
            f"{m.cpu_us_per_request:>11.1f} {m.wrk.error_count:>7}"
        )
    return "\n".join(lines)


def format_ratios(table: dict[str, dict[str, float]]) -> str:
    if not table:
        return ""
    head = (
        f"{'endpoint':<10} {'rps surge/aiohttp':>18} {'CPU aiohttp/surge':>18} {'target':>7}  met"
    )
    lines = [head, "-" * len(head)]
    for endpoint, r in table.items():
        target = TARGETS.get(endpoint)
        cpu = r["cpu_aiohttp_over_surge"]
        met = "-" if target is None else ("yes" if cpu >= target else "no")
        target_text = f"{target:.1f}x" if target is not None else "-"
        lines.append(
            f"{endpoint:<10} {r['rps_surge_over_aiohttp']:>17.2f}x {cpu:>17.2f}x "
            f"{target_text:>7}  {met}"
        )
    return "\n".join(lines)


def record(results: list[Measurement], meta: dict[str, Any]) -> dict[str, Any]:
    """Everything the run measured, for bench/results/*.json."""
    return {
        **meta,
        "targets_cpu_aiohttp_over_surge": TARGETS,
        "results": [m.as_dict() for m in results],
        "ratios": ratios(results),
    }
