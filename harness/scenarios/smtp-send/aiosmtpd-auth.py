#!/usr/bin/python3
"""aiosmtpd-auth.py PORT MAILDIR USER PASSWORD_FILE

Debian's aiosmtpd, configured (its command line cannot do this) to require
AUTH on plain TCP and to check it against USER and the first line of
PASSWORD_FILE; accepted mail goes to MAILDIR through aiosmtpd's own Mailbox
handler.  Listens on 127.0.0.1:PORT until SIGTERM."""
import signal
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword


def main(port, maildir, user, password_file):
    with open(password_file, "rb") as f:
        password = f.readline().rstrip(b"\r\n")

    def check(server, session, envelope, mechanism, data):
        ok = (isinstance(data, LoginPassword) and data.login == user.encode()
              and data.password == password)
        return AuthResult(success=ok, handled=False)

    # blocked before the server's thread starts, so sigwait receives them
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    ctl = Controller(Mailbox(maildir), hostname="127.0.0.1", port=int(port),
                     authenticator=check, auth_required=True, auth_require_tls=False)
    ctl.start()
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    ctl.stop()


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
