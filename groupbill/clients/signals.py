"""What clients tell the apps above them (notices send the company's webhooks). Sent
inside the transaction that made the change."""

from django.dispatch import Signal

# kwargs: client
client_created = Signal()
# kwargs: client, fields (the names of what changed: attributes, group_id, contact fields)
client_changed = Signal()
