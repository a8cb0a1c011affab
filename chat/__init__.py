"""A real-time chat server for the browser: Tornado, WebSockets, one broadcast loop."""
