"""What companies tell the apps above them. Sent inside the creating transaction."""

from django.dispatch import Signal

# kwargs: company, actor (clients: the default client group)
company_created = Signal()
