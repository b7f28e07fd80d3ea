"""Zeroconf (mDNS/DNS-SD) announcement, so TouchOSC, Chataigne and Open Stage Control find us with no
typing: `_oscjson._tcp` at the page's TCP port (OSCQuery) and `_osc._udp` at the OSC server's port.

Registration probes the network for a second or so, so it runs on its own thread; a machine
without multicast gets one log line and the page still works by address.
"""
from __future__ import annotations

import logging
import socket
import threading

import ifaddr
from zeroconf import Error as ZeroconfError, ServiceInfo, Zeroconf

log = logging.getLogger(__name__)

OSCQUERY_TYPE = "_oscjson._tcp.local."
OSC_TYPE = "_osc._udp.local."


def host_addresses(listen: str) -> list[str]:
    """The IPv4 addresses clients reach us at: `listen` itself, or every interface's when it is 0.0.0.0."""
    if listen not in ("", "0.0.0.0"):
        return [listen]
    found = [ip.ip for adapter in ifaddr.get_adapters() for ip in adapter.ips
             if isinstance(ip.ip, str) and not ip.ip.startswith("127.")]
    return found or ["127.0.0.1"]


class Advertiser:
    """Announces `name` for OSCQuery on `http_port` and, when given, OSC on `osc_port` (UDP)."""

    def __init__(self, name: str, listen: str, http_port: int, osc_port: int | None) -> None:
        self.name, self.listen, self.http_port, self.osc_port = name, listen, http_port, osc_port
        self.infos: list[ServiceInfo] = []
        self.error: Exception | None = None           # why the announcement failed, if it did
        self._zc: Zeroconf | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._register, name="zeroconf", daemon=True)
        self._thread.start()

    def _register(self) -> None:
        addresses = host_addresses(self.listen)
        server = f"{socket.gethostname().split('.')[0]}.local."
        services = [(OSCQUERY_TYPE, self.http_port)] + ([(OSC_TYPE, self.osc_port)] if self.osc_port else [])
        only = {} if self.listen in ("", "0.0.0.0") else {"interfaces": addresses}
        try:
            with self._lock:
                self._zc = Zeroconf(**only)
            for kind, port in services:
                info = ServiceInfo(kind, f"{self.name}.{kind}", port=port, parsed_addresses=addresses, server=server,
                                   properties={"txtvers": "1"})
                self._zc.register_service(info, allow_name_change=True)
                self.infos.append(info)
            log.info("zeroconf: announced %s as %s", self.name, ", ".join(f"{k} at port {p}" for k, p in services))
        except (OSError, ZeroconfError) as e:  # no multicast route, a sandbox, a closed network
            self.error = e
            log.warning("zeroconf announcement failed (%s); surfaces will not find vj by themselves, enter "
                        "the address by hand (the page still works).", e)

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.join(5.0)
        with self._lock:
            zc, self._zc = self._zc, None
        if zc is not None:
            try:
                zc.unregister_all_services()
            finally:
                zc.close()
