"""Notifications that leave the system: alert emails and alert webhooks (the integrations
layer, beside ``ads.platforms``)."""
