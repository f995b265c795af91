from django.dispatch import Signal

# Sent inside the paying transaction when an invoice becomes paid (kwargs: invoice), so
# other domains react at once without billing knowing them (services: unsuspend).
invoice_paid = Signal()
