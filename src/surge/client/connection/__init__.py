"""Client connections: one asyncio protocol per transport."""
