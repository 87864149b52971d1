"""HTML pages (filled in by the pages work)."""
from chalice import Blueprint

pages = Blueprint(__name__)
