"""Sealed transfer packages between OPM desktops and the air-gapped hub (see docs/architecture.md,
"Exchange packages"). This package knows cryptography and file formats only; applying a package's contents
to the store is `app.services.exchange`'s business."""
