# Spec "JSON Request Body Validation with Pydantic", verbatim.
from aiohttp import web
from pydantic import BaseModel, Field, ValidationError
from typing import Optional
import json
# Define validation model
class UserCreate(BaseModel):
    username: str = Field(..., min_length=3, max_length=50, description="Username")
    email: str = Field(..., pattern=r'^[\w\.-]+@[\w\.-]+\.\w+$', description="Valid email")
    age: Optional[int] = Field(None, ge=0, le=150, description="Age (0-150)")
# Pydantic v2 middleware for validation
@web.middleware
async def json_validation_middleware(request: web.Request, handler: web.Handler):
    """Validate JSON body against Pydantic model."""
    # Skip validation for non-POST/PUT requests
    if request.method not in ('POST', 'PUT'):
        return await handler(request)
    # Get content type
    if request.content_type != 'application/json':
        return await handler(request)
    try:
        # Parse and validate JSON
        body = await request.json()
        validated_data = UserCreate(**body)
        # Replace body with validated data
        request._body = json.dumps(validated_data.dict()).encode()
        request._parsed_json = validated_data
    except (json.JSONDecodeError, ValidationError) as e:
        return web.json_response(
            {"error": "Invalid JSON", "details": str(e)},
            status=400
        )
    return await handler(request)
# Add middleware to app
app = web.Application(middlewares=[json_validation_middleware])
# Handler receives validated data
async def create_user(request):
    # Access validated data
    user = request._parsed_json
    return web.json_response({
        "id": 1,
        "username": user.username,
        "email": user.email,
        "age": user.age
    }, status=201)
