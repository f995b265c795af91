"""A real SMTP server (aiosmtpd) on loopback, for the notices that are sent."""

import asyncio
import threading
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller

from groupbill.notices import sender
from tests.processes import free_port


class Handler:
    """Records every message whose DATA it received; can refuse or drop on demand."""

    def __init__(self, refuse_first=0, drop_after_data=False, delay=0.0):
        self.received: list = []
        self.delay = delay
        self.refuse_left = refuse_first
        self.drop_after_data = drop_after_data
        self.lock = threading.Lock()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.lock:
            if self.refuse_left > 0:
                self.refuse_left -= 1
                return "451 4.3.0 Try again later"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = message_from_bytes(envelope.content, policy=default_policy)
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), msg))
        if self.drop_after_data:
            server.transport.close()
        return "250 Message accepted"


@pytest.fixture
def smtp(settings):
    servers = []

    def start(**kwargs) -> Handler:
        handler = Handler(**kwargs)
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        servers.append(controller)
        settings.EMAIL_BACKEND = sender.SMTP_BACKEND
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_USE_TLS = False
        settings.DEFAULT_FROM_EMAIL = "billing@acme.test"
        return handler

    yield start
    for controller in servers:
        controller.stop()
