"""`make run`: the sign-in banner is the last thing printed, after the server's own lines
(it waits until the port answers, or the server stopped)."""

import socket
import threading

from django.core.management import call_command

from groupbill.web.management.commands import serve


def test_the_banner_comes_after_the_servers_lines(db, capsys, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    def runserver(*args, **kwargs):
        print("Starting development server")
        print("Quit the server with CONTROL-C.")
        listener = socket.create_server(("127.0.0.1", port))
        done = threading.Event()
        threading.Thread(target=lambda: (listener.accept(), done.set()), daemon=True).start()
        done.wait(10)  # the banner's check connected: the server answers
        listener.close()

    monkeypatch.setattr(serve, "call_command", runserver)
    call_command("serve", "--port", str(port))
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Starting development server"
    banner = out.index(f"  Groupbill is running on http://127.0.0.1:{port}/")
    assert banner > out.index("Quit the server with CONTROL-C.")
    assert [line for line in out if line][-1].startswith("  API docs")
