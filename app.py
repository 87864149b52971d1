"""saiping: registers the blueprints, schedules and async functions. Nothing else happens here."""
from chalice import Chalice, Rate

from chalicelib.web.api import api
from chalicelib.web.pages import pages

app = Chalice(app_name="saiping")
app.api.binary_types = ["application/octet-stream", "image/png", "application/pdf"]
app.register_blueprint(api, url_prefix="/api/v1")
app.register_blueprint(pages)


@app.schedule(Rate(5, unit=Rate.MINUTES), name="close_due_stages")
def close_due_stages(event):
    from chalicelib.jobs import schedules
    schedules.close_due_stages()
