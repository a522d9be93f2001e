"""PDF reports (reportlab) from the plain dataclasses in ``app.reports.data``.

Services fill the dataclasses (``app/services/reporting.py``); each ``render_*`` function lays one out and
returns the page count. Nothing here opens the store.
"""
