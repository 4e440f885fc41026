# Spec "Troubleshooting / Timeout Issues". Fixed to run: the module-level `async with` is wrapped
# in `async def fetch_with_timeouts()` (top-level await is not Python); `import aiohttp` added.
import aiohttp
async def fetch_with_timeouts():
    # Always set timeouts
    timeout = aiohttp.ClientTimeout(
        total=30, # Max total time
        connect=5, # Connection timeout
        sock_connect=5, # Socket connection timeout
        sock_read=10 # Read timeout
    )
    async with aiohttp.ClientSession(timeout=timeout) as session:
        async with session.get('https://api.example.com') as response:
            data = await response.json()
