"""The WSGI entry point for gunicorn: `gunicorn web.wsgi:app`.

`qa serve` runs gunicorn with --preload and web/gunicorn_hooks.py: this module is imported
once, in the master, which loads the models before forking, so every worker shares them;
each worker then loads the index after the fork (its files are mapped, shared too).
Without --preload each worker imports this module and loads its own models.
"""

from web import create_app

app = create_app()
app.extensions["newsqa.index"].preload()
