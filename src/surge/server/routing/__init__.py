"""URL routing: resources, routes, converters, the dispatcher, route tables and views."""
