"""The WSGI entry point for gunicorn: `gunicorn web.wsgi:app`.

gunicorn imports this module once in each worker (no --preload), so each worker loads the
model and the index here, once, before its first request, and never again per request.
"""

from web import create_app

app = create_app()
app.extensions["newsqa.index"].warm()
