"""A third-party mDNS client (python-zeroconf) that proves Outpost's records are standard.

Usage: zeroconf_probe.py HOSTNAME
Browses _outpost._tcp and _https._tcp, resolves each instance (SRV, TXT, A/AAAA) and resolves
HOSTNAME.local through its A record, then prints one JSON object.
"""
import json
import sys
import time

from zeroconf import AddressResolver, IPVersion, ServiceBrowser, Zeroconf

hostname = sys.argv[1]
zc = Zeroconf(ip_version=IPVersion.V4Only)
found = {}


class Listener:
    def add_service(self, zc, type_, name):
        found.setdefault(type_, set()).add(name)

    def update_service(self, zc, type_, name):
        pass

    def remove_service(self, zc, type_, name):
        pass


browsers = [ServiceBrowser(zc, t, Listener()) for t in ("_outpost._tcp.local.", "_https._tcp.local.")]
deadline = time.time() + 8
while time.time() < deadline and len(found) < 2:
    time.sleep(0.1)

out = {"services": {}}
for type_, names in found.items():
    for name in names:
        info = zc.get_service_info(type_, name, timeout=3000)
        if info is None:
            continue
        out["services"][name] = {
            "type": type_,
            "port": info.port,
            "server": info.server,
            "addresses": info.parsed_addresses(),
            "properties": {k.decode(): (v.decode() if v is not None else None) for k, v in info.properties.items()},
        }

resolver = AddressResolver(hostname + ".local.")
out["host"] = resolver.parsed_scoped_addresses() if resolver.request(zc, 3000) else []
zc.close()
print(json.dumps(out))
