"""The URLs classmates open: one per IPv4 address of this machine's interfaces."""

import io
import ipaddress

import ifaddr
import segno

EVERY_INTERFACE = ("", "0.0.0.0")


def lan_addresses() -> list[str]:
    """Return this machine's non-loopback IPv4 addresses, in interface order."""
    found: list[str] = []
    for adapter in ifaddr.get_adapters():
        for address in adapter.ips:
            ip = address.ip
            if isinstance(ip, str) and not ipaddress.ip_address(ip).is_loopback:  # IPv4 is a str
                found.append(ip)
    return list(dict.fromkeys(found))


def share_urls(host: str, port: int, lan: list[str]) -> list[str]:
    """Return the URLs others can open: every LAN address, or just `host` if one is set."""
    if host not in EVERY_INTERFACE:
        return [f"http://{host}:{port}"]
    return [f"http://{address}:{port}" for address in lan]


def every_url(host: str, port: int, urls: tuple[str, ...]) -> list[str]:
    """Return every URL this machine answers on: localhost (when listening everywhere) first."""
    return ([f"http://localhost:{port}"] if host in EVERY_INTERFACE else []) + list(urls)


def banner(host: str, port: int, urls: tuple[str, ...]) -> str:
    """Return what run.py prints at start: the URLs to share, localhost, a QR code of the first."""
    lines = ["Chat is running. Share one of these addresses:"]
    lines += [f"  {url}" for url in urls]
    if host in EVERY_INTERFACE:
        lines.append(f"  http://localhost:{port}")
    if urls:
        qr = io.StringIO()
        segno.make(urls[0], error="m").terminal(out=qr, compact=True, border=2)
        lines += ["", f"Or scan this with a phone to open {urls[0]}:", qr.getvalue().rstrip("\n")]
    return "\n".join(lines)
