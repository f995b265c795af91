from django.db import models

from groupbill.audit.actions import Subject
from groupbill.clients.models import Contact


class PortalAccount(models.Model):
    """A contact's login to the client portal. Separate from staff users: its own password
    hash, its own session key, never a Django user."""

    contact = models.OneToOneField(Contact, on_delete=models.CASCADE, related_name="portal")
    # The email the contact signs in with, lower-cased; unique across companies so a sign-in
    # names exactly one account.
    login = models.CharField(max_length=254, unique=True)
    password = models.CharField(max_length=128)  # Django hasher format; "!..." = unusable
    is_active = models.BooleanField(default=True)
    # Bumped whenever access is disabled: sessions and password links carry it, so enabling
    # the account again does not bring back the ones from before.
    session_version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.login

    def audit_subject(self) -> Subject:
        return Subject(
            "portal_account",
            self.contact.client.company_id,
            self.pk,
            f"{self.login} of client #{self.contact.client_id}",
        )


class LoginFailure(models.Model):
    """One failed portal sign-in, counted per login and per address over a sliding window."""

    at = models.DateTimeField(db_index=True)
    login = models.CharField(max_length=254)
    address = models.CharField(max_length=64)

    class Meta:
        indexes = [
            models.Index(fields=["login", "at"]),
            models.Index(fields=["address", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.login} from {self.address} at {self.at}"


class Confirmation(models.Model):
    """A confirm button's one-time key: a self-service action confirmed twice (a double
    click, a resent form) is done once. Written in the action's transaction, so a refused
    action leaves the key free to confirm again."""

    account = models.ForeignKey(PortalAccount, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "key"], name="one_confirmation_per_key")
        ]

    def __str__(self) -> str:
        return f"{self.account_id}:{self.key}"
