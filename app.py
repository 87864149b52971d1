"""saiping: registers the blueprints, schedules, async functions and event handlers. Nothing else happens here."""
from chalice import Chalice, Rate

from chalicelib import media
from chalicelib.web.account_pages import account_pages
from chalicelib.web.admin_pages import admin_pages
from chalicelib.web.competition_pages import competition_pages
from chalicelib.web.api import api
from chalicelib.web.api_accounts import api_accounts
from chalicelib.web.api_competitions import api_competitions
from chalicelib.web.api_exports import api_exports
from chalicelib.web.api_final import api_final
from chalicelib.web.api_originality import api_originality
from chalicelib.web.api_showcase import api_showcase
from chalicelib.web import html, not_found
from chalicelib.web.final_pages import final_pages
from chalicelib.web.judge_pages import judge_pages
from chalicelib.web.public_pages import public_pages
from chalicelib.web.showcase_pages import showcase_pages
from chalicelib.web.unit_pages import unit_pages
from chalicelib.web.http import refuse_malformed, strict_transport
from chalicelib.web.verify import verify

app = Chalice(app_name="saiping")
app.api.binary_types = ["application/octet-stream", "image/png", media.PDF, media.XLSX, "multipart/form-data"]
app.register_blueprint(api, url_prefix="/api/v1")
app.register_blueprint(api_accounts, url_prefix="/api/v1")
app.register_blueprint(api_exports, url_prefix="/api/v1")
app.register_blueprint(api_originality, url_prefix="/api/v1")
app.register_blueprint(api_final, url_prefix="/api/v1")
app.register_blueprint(api_showcase, url_prefix="/api/v1")
app.register_blueprint(api_competitions, url_prefix="/api/v1")
app.register_blueprint(html.framework)
app.register_blueprint(public_pages)
app.register_blueprint(unit_pages)
app.register_blueprint(judge_pages)
app.register_blueprint(final_pages)
app.register_blueprint(admin_pages)
app.register_blueprint(competition_pages)
app.register_blueprint(verify)
app.register_blueprint(showcase_pages)
app.register_middleware(not_found.chalice_errors_in_chinese, "http")
app.register_blueprint(account_pages)
app.register_middleware(strict_transport, "http")
app.register_middleware(refuse_malformed, "http")


@app.schedule(Rate(5, unit=Rate.MINUTES), name="close_due_stages")
def close_due_stages(event):
    from chalicelib.jobs import schedules
    schedules.close_due_stages()


@app.schedule(Rate(1, unit=Rate.HOURS), name="send_reminders")
def send_reminders(event):
    from chalicelib.jobs import reminders
    return reminders.send_reminders()


# Also invoked asynchronously right after a request queued mail (chalicelib/jobs/mail_queue.start).
@app.schedule(Rate(1, unit=Rate.MINUTES), name="send_queued_mail")
def send_queued_mail(event):
    from chalicelib.jobs import mail_queue
    return mail_queue.send_queued_mail()


@app.lambda_function(name="exports")
def exports(event, context):
    from chalicelib.jobs import exports as export_jobs
    return export_jobs.handle(event)


# The stage's topic saiping-<stage>-bounces (infra/base.json: SES's bounce and complaint events of the
# configuration set). Chalice would make the ARN of a topic literally named "bounces"; infra/build_template.py
# points the subscription at the stack's topic instead, and creates the function only where SES exists.
@app.on_sns_message(topic="bounces", name="record_bounces")
def record_bounces(event):
    from chalicelib.jobs import bounces
    return bounces.handle(event)
