# Spec "Client / Basic Client Usage", verbatim; https://api.example.com is replaced by a local
# server when the test loads it.
import aiohttp
import asyncio
async def fetch():
    async with aiohttp.ClientSession() as session:
        # GET request
        async with session.get('https://api.example.com/data') as response:
            data = await response.json()
            print(data)
        # POST request
        async with session.post(
            'https://api.example.com/users',
            json={'name': 'John', 'email': 'john@example.com'}
        ) as response:
            result = await response.json()
        # PUT request
        async with session.put(
            'https://api.example.com/users/1',
            data={'name': 'Jane'}
        ) as response:
            pass
        # DELETE request
        async with session.delete('https://api.example.com/users/1') as response:
            pass
asyncio.run(fetch())
