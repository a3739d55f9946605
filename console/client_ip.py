"""The address a request came from, for the login lockout (django-axes).

Behind TRUSTED_PROXIES reverse proxies every request's REMOTE_ADDR is the nearest proxy's, so the
lockout would lump all users' addresses together. Each proxy appends the address it saw to
X-Forwarded-For; the client cannot forge the entries its proxies add, only those before them, so
the address is the TRUSTED_PROXIES-th entry from the right. With no proxy (0) it is REMOTE_ADDR.
"""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXIES
    if proxies:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            address = hops[-proxies]
    return address
