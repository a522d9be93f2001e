"""P20 WIN Desk."""
