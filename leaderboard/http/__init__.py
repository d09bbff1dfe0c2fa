"""aiohttp routes, request parsing, error mapping, metrics and the OpenAPI document."""
