"""The hub workspace: intake, match, clerical review, delivery, match log and destruction (hub staff)."""
