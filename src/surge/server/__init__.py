"""The server product: applications, routing, requests, responses, runners."""
