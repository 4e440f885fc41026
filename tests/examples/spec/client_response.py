# Spec "Client / Client Response", verbatim; https://api.example.com is replaced by a local
# server when the test loads it.
import aiohttp
async def handle_response():
    async with aiohttp.ClientSession() as session:
        async with session.get('https://api.example.com') as response:
            # Status code
            print(response.status)
            # Headers
            print(response.headers)
            print(response.content_type)
            # Text
            text = await response.text()
            # JSON
            json_data = await response.json()
            # Bytes
            content = await response.read()
            # Cookies
            print(response.cookies)
            # History (for redirects)
            print(response.history)
