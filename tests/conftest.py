"""Shared test set-up. Qt must never look for a display in tests or CI."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
