"""The URLs classmates open: one per IPv4 address of this machine's interfaces."""

import ipaddress

import ifaddr


def lan_addresses() -> list[str]:
    """Return this machine's non-loopback IPv4 addresses, in interface order."""
    found = []
    for adapter in ifaddr.get_adapters():
        for address in adapter.ips:
            if address.is_IPv4 and not ipaddress.ip_address(address.ip).is_loopback:
                found.append(address.ip)
    return list(dict.fromkeys(found))


def share_urls(host: str, port: int, lan: list[str]) -> list[str]:
    """Return the URLs to share: every LAN address and localhost, or just `host` if one is set."""
    if host not in ("", "0.0.0.0"):
        return [f"http://{host}:{port}"]
    return [f"http://{address}:{port}" for address in lan] + [f"http://localhost:{port}"]
