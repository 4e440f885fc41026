# Spec "Troubleshooting / Connection Refused". Fixed to run: `import asyncio` added; the backoff
# sleep is 0.01 * 2 ** attempt instead of 2 ** attempt seconds.
import asyncio
import aiohttp
from aiohttp import ClientConnectorError
async def fetch_with_retry(url, max_retries=3):
    for attempt in range(max_retries):
        try:
            async with aiohttp.ClientSession().get(url) as response:
                return await response.json()
        except ClientConnectorError as e:
            print(f"Connection attempt {attempt + 1} failed: {e}")
            if attempt < max_retries - 1:
                await asyncio.sleep(0.01 * 2 ** attempt) # Exponential backoff
            else:
                raise
