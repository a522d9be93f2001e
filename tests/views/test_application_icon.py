"""The window icon is the shipped one, found the way an installed copy finds it."""
from app.views.application import make_qapplication


def test_application_has_the_shipped_icon(qapp):
    app = make_qapplication()
    icon = app.windowIcon()
    assert not icon.isNull()
    assert icon.pixmap(32, 32).width() == 32
