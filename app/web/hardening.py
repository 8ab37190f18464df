"""What every portal response carries so that other sites cannot use it against its users.

- Return targets ("reload this page" links) are same-site relative paths only: ``/\\evil.example``,
  ``//evil.example``, ``/%5Cevil.example`` or ``https://evil.example`` would take the reader off-site.
- Security headers: the pages may not be framed (a framed one-click "Rescan now" could be clicked
  through), load nothing from elsewhere, and post forms only here.
- The session cookie (the forms' CSRF secret, a page sign-in) is ``SameSite=Lax`` and ``HttpOnly``
  always, and ``Secure`` when the portal is served over HTTPS (the request says so, or
  ``portal.base_url`` is https).
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface

from prr.config import Config

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def local_path(target: str | None) -> str | None:
    """``target`` when it is a path on this site (``/teams?x=1``), else None."""
    if not target:
        return None
    for form in (target, unquote(target)):
        parts = urlsplit(form)
        if (
            not form.startswith("/")
            or form.startswith("//")
            or "\\" in form
            or parts.scheme
            or parts.netloc
            or any(ord(c) < 0x20 or c == "\x7f" for c in form)
        ):
            return None
    return target


class _SessionInterface(SecureCookieSessionInterface):
    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(super().get_cookie_secure(app) or request.is_secure)


def init_app(app: Flask, config: Config) -> None:
    base_url = str((config.data.get("portal") or {}).get("base_url") or "")
    app.config.update(
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=base_url.startswith("https://"),
    )
    app.session_interface = _SessionInterface()
    app.after_request(_security_headers)


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
