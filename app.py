"""saiping: registers the blueprints, schedules and async functions. Nothing else happens here."""
from chalice import Chalice

from chalicelib.web.api import api
from chalicelib.web.pages import pages

app = Chalice(app_name="saiping")
app.api.binary_types = ["application/octet-stream", "image/png", "application/pdf"]
app.register_blueprint(api, url_prefix="/api/v1")
app.register_blueprint(pages)
