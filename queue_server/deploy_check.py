"""What a centre must change before the server leaves the loopback address (docs/security.md).

`demo_offenders` names every demo value still in force: in config.yaml (centre.demo, the secret key, device
tokens, staff passwords) and in the database (an active account whose stored hash still matches a known demo
password, e.g. `admin` kept from a demo run that the production file no longer lists). `qms serve` refuses a
non-loopback address while any is left, and so does a config reload on such a server.

`deploy_findings` is `qms check-deploy`: the same, plus the listening address, the allowed origins, the public
address (TLS behind a proxy) and what a stranger may do (rating page, printing of personal data), each finding
with its fix.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from queue_server.config import CentreConfig

# The passwords of the demo accounts shipped in config.yaml (tests/test_security_docs.py keeps the list whole).
DEMO_PASSWORDS = frozenset({"demo-admin", "demo-supervisor", "demo-staff"})


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_demo_value(text: str) -> bool:
    return "demo" in text.lower()


def config_demo_values(config: CentreConfig) -> list[tuple[str, str]]:
    """Demo values in the config file itself, each named by its key path: (what, fix)."""
    found = []
    if config.centre.demo:
        found.append(("centre.demo is true", "set it to false"))
    if _is_demo_value(config.server.secret_key):
        found.append(("server.secret_key is the demo value", "set a long random string (python -c 'import secrets; "
                      "print(secrets.token_urlsafe(48))')"))
    for i, s in enumerate(config.staff):
        if s.password in DEMO_PASSWORDS or _is_demo_value(s.password):
            found.append((f"staff[{i}] ({s.username}) has a demo password in the config file", "set a new one"))
    for name, items in (("kiosks", config.devices.kiosks), ("displays", config.devices.displays),
                        ("agents", config.devices.agents)):
        for i, d in enumerate(items):
            if d.token and _is_demo_value(d.token):
                found.append((f"devices.{name}[{i}] ({d.id}) token is a demo value", "set a new random token"))
    return found


def stored_demo_passwords(config: CentreConfig, accounts) -> list[tuple[str, str]]:
    """Active accounts in the database that still sign in with a demo password. An account the file owns takes
    the file's password (at every start and reload), so the file's check covers it; the others are checked
    against each known demo password (a slow hash check each)."""
    listed = {s.username for s in config.staff}
    demo = set(DEMO_PASSWORDS) | {s.password for s in config.staff if _is_demo_value(s.password)}
    return [(f"account {u!r} in the database still signs in with a demo password",
             f"`qms user passwd {u}`" + (" or `qms user reset-from-config {u}`" if u in listed else
                                         " or disable it on the admin page (the config file no longer lists it)"))
            for u in accounts.accounts_with_password(demo, skip=listed)]


def demo_offenders(config: CentreConfig, accounts) -> list[str]:
    """Each demo value still in force, with its fix: what a public address refuses."""
    return [f"{what}: {fix}" for what, fix in config_demo_values(config) + stored_demo_passwords(config, accounts)]


@dataclass(frozen=True)
class Finding:
    level: str  # "error": the server refuses to go public with it; "warning": a risk a centre should weigh
    what: str
    fix: str


def deploy_findings(config: CentreConfig, accounts, *, host: str | None = None) -> list[Finding]:
    """Everything `qms check-deploy` reports, errors first."""
    host = host or config.server.host
    out = [Finding("error", what, fix) for what, fix in
           config_demo_values(config) + stored_demo_passwords(config, accounts)]
    if config.queue.always_open:
        out.append(Finding("error", "queue.always_open is true (a demo setting: services open at any hour)",
                           "set queue.always_open: false"))
    if len(config.server.secret_key) < 32 and not _is_demo_value(config.server.secret_key):
        out.append(Finding("error", "server.secret_key is shorter than 32 characters", "use a long random string"))
    url = urlsplit(config.centre.public_url)
    if url.scheme != "https":
        out.append(Finding("warning", f"centre.public_url is {config.centre.public_url} (not https)",
                           "publish the server behind a TLS proxy (nginx, Caddy) and set centre.public_url to its "
                           "https:// address; slips' QR codes carry it"))
    elif url.hostname and is_loopback(url.hostname):
        out.append(Finding("warning", f"centre.public_url points at this machine ({url.hostname})",
                           "set the address citizens' phones reach"))
    if not is_loopback(host) and url.scheme == "https":
        out.append(Finding("warning", f"server.host {host} is reachable without the TLS proxy",
                           "listen on 127.0.0.1 and let the proxy on this machine forward to it"))
    public_origin = f"{url.scheme}://{url.netloc}" if url.scheme and url.netloc else ""
    if url.scheme == "https" and public_origin not in config.server.allowed_origins:
        out.append(Finding("warning", f"server.allowed_origins does not list {public_origin}",
                           "behind a proxy that does not pass X-Forwarded-Host, list the public origin there"))
    if not config.rating_token_required():
        out.append(Finding("warning", "rating.tablet_token_required is false: anyone on the network may rate the "
                           "ticket a counter just finished", "remove the key (true by default) and open each rating "
                           "page once with its counter display's token"))
    return sorted(out, key=lambda f: f.level != "error")
