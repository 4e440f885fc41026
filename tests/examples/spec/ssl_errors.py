# Spec "Troubleshooting / SSL Errors". Fixed to run: Solution 2's module-level `async with` is
# wrapped in `async def custom_ssl_context()` (top-level await is not Python); `import aiohttp`
# added. Solution 1 is a shell command (a comment here).
import aiohttp
# Solution 1: Update certificates (recommended)
# pip install --upgrade certifi
# Solution 2: Custom SSL context (verify only specific certs)
import ssl
async def custom_ssl_context():
    ssl_context = ssl.create_default_context(
        purpose=ssl.Purpose.SERVER_AUTH,
        cafile='/path/to/ca-bundle.crt'
    )
    async with aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=ssl_context)
    ) as session:
        pass
# Solution 3: Debug SSL issues
ssl_context = ssl.create_default_context()
ssl_context.check_hostname = False
ssl_context.verify_mode = ssl.CERT_NONE # Use only for development!
