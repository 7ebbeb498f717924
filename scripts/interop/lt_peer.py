#!/usr/bin/env python3
"""A libtorrent peer for interop tests and benchmarks (python3-libtorrent, Debian).

Seeds or downloads one torrent on a given loopback address, printing one JSON object
per line: {"event": "listening", "port": N}, {"event": "started"} once the torrent
accepts peers, then {"event": "progress", ...} about once a second, then
{"event": "complete", ...} when the download is verified.
Exits 0 on completion (with --exit-when-complete; the files are written by then),
3 on timeout, 4 if the final write-out did not finish in 10 s.
"""
import argparse
import json
import sys
import time

import libtorrent as lt


# The bindings' own enums: allowed_enc_level is plaintext = 1, rc4 = 2, both = 3 (the
# crypto_provide bits on the wire), policies are forced = 0, enabled = 1, disabled = 2.
ENC_POLICY = {name: int(getattr(lt.enc_policy, name)) for name in ("forced", "enabled", "disabled")}
ENC_LEVEL = {name: int(getattr(lt.enc_level, name)) for name in ("rc4", "plaintext", "both")}


def flush_to_disk(ses, h, seconds=10.0):
    """Waits until every verified block is written to the files.

    is_seeding can come before the last blocks reach the file: libtorrent 2 hashes blocks
    from its store buffer while their writes are still queued. flush_cache() fences them.
    """
    h.flush_cache()
    end = time.time() + seconds
    while time.time() < end:
        ses.wait_for_alert(100)
        if any(isinstance(x, lt.cache_flushed_alert) for x in ses.pop_alerts()):
            return True
    return False


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--torrent", required=True)
    p.add_argument("--save", required=True)
    p.add_argument("--listen", required=True, help="IP:PORT (PORT 0 = any)")
    p.add_argument("--peer", action="append", default=[], help="HOST:PORT to connect to")
    p.add_argument("--seed-mode", action="store_true", help="trust the data (no hash check)")
    p.add_argument("--exit-when-complete", action="store_true")
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--upload-limit", type=int, default=0)
    p.add_argument("--download-limit", type=int, default=0)
    p.add_argument("--dht", action="store_true", help="run a DHT node on the listen port")
    p.add_argument("--dht-announce-interval", type=int, default=5)
    p.add_argument("--magnet", action="store_true", help="add by info-hash (fetch metadata)")
    p.add_argument("--report-connections", action="store_true",
                   help='print {"event": "incoming", "ip": ...} for each accepted connection')
    p.add_argument("--enc", choices=sorted(ENC_POLICY),
                   help="MSE/PE policy for both directions (default: libtorrent's, enabled)")
    p.add_argument("--enc-level", choices=sorted(ENC_LEVEL),
                   help="allowed_enc_level (default: libtorrent's, both)")
    p.add_argument("--prefer-rc4", action="store_true",
                   help="as responder, select RC4 when offered both")
    p.add_argument("--utp-only", action="store_true",
                   help="connect and accept over uTP only (TCP off both ways)")
    p.add_argument("--plaintext", action="store_true",
                   help="no MSE/PE either way (libtorrent otherwise may dial encrypted first)")
    p.add_argument("--lsd", action="store_true",
                   help="local service discovery (BEP 14) on the listen interface")
    a = p.parse_args()

    ip, port = a.listen.rsplit(":", 1)
    settings = {
        "listen_interfaces": f"{ip}:{port}",
        "outgoing_interfaces": ip,
        "allow_multiple_connections_per_ip": True,
        "enable_lsd": a.lsd,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_dht": False,
        "dht_bootstrap_nodes": "",
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "ssrf_mitigation": False,
        "upload_rate_limit": a.upload_limit,
        "download_rate_limit": a.download_limit,
        "alert_mask": lt.alert.category_t.error_notification
        | lt.alert.category_t.storage_notification
        | (lt.alert.category_t.peer_notification if a.report_connections else 0),
    }
    if a.enc:
        settings["out_enc_policy"] = ENC_POLICY[a.enc]
        settings["in_enc_policy"] = ENC_POLICY[a.enc]
    if a.enc_level:
        settings["allowed_enc_level"] = ENC_LEVEL[a.enc_level]
    if a.prefer_rc4:
        settings["prefer_rc4"] = True
    if a.utp_only:  # BEP 29 only: libtorrent 2.0 tries uTP first; TCP off both ways
        settings.update({
            "enable_outgoing_utp": True,
            "enable_incoming_utp": True,
            "enable_outgoing_tcp": False,
            "enable_incoming_tcp": False,
        })
    if a.plaintext:  # 2 = disabled (INTEROP.md)
        settings.update({"out_enc_policy": 2, "in_enc_policy": 2})
    if a.dht:  # loopback-friendly DHT (INTEROP.md)
        settings.update({
            "enable_dht": True,
            "dht_restrict_routing_ips": False,
            "dht_restrict_search_ips": False,
            "dht_ignore_dark_internet": False,
            "dht_prefer_verified_node_ids": False,
            "dht_announce_interval": a.dht_announce_interval,
        })
    ses = lt.session(settings)
    if a.download_limit or a.upload_limit:
        # libtorrent exempts local peers from rate limits; put every address in the
        # global class so the limits hold on loopback too.
        f = lt.ip_filter()
        f.add_rule("0.0.0.0", "255.255.255.255", 1)
        ses.set_peer_class_filter(f)
    atp = lt.add_torrent_params()
    ti = lt.torrent_info(a.torrent)
    if a.magnet:
        atp.info_hashes = ti.info_hashes()
    else:
        atp.ti = ti
    atp.save_path = a.save
    if a.seed_mode:
        atp.flags |= lt.torrent_flags.seed_mode
    h = ses.add_torrent(atp)
    for _ in range(50):
        if ses.listen_port():
            break
        time.sleep(0.05)
    print(json.dumps({"event": "listening", "port": ses.listen_port()}), flush=True)
    for peer in a.peer:
        host, pp = peer.rsplit(":", 1)
        h.connect_peer((host, int(pp)))

    start = time.time()
    last = 0.0
    seen_metadata = seen_byte = seen_start = False
    while time.time() - start < a.timeout:
        if a.report_connections:
            for alert in ses.pop_alerts():
                if isinstance(alert, lt.incoming_connection_alert):
                    ip, pp = alert.endpoint
                    print(json.dumps({"event": "incoming", "ip": ip, "port": pp}), flush=True)
        s = h.status()
        now = time.time()
        if not seen_start and not s.flags & lt.torrent_flags.paused:
            # An auto-managed torrent starts ~0.5 s after the session; until then it
            # refuses incoming connections.
            seen_start = True
            print(json.dumps({"event": "started", "seconds": now - start}), flush=True)
        if not seen_metadata and s.has_metadata:
            seen_metadata = True
            print(json.dumps({"event": "metadata", "seconds": now - start}), flush=True)
        if not seen_byte and s.total_payload_download > 0:
            seen_byte = True
            print(json.dumps({"event": "first-byte", "seconds": now - start}), flush=True)
        if now - last >= 1:
            last = now
            print(json.dumps({
                "event": "progress", "progress": s.progress, "peers": s.num_peers,
                "state": str(s.state), "down": s.download_payload_rate, "up": s.upload_payload_rate,
            }), flush=True)
        if a.exit_when_complete and s.is_seeding:
            flushed = flush_to_disk(ses, h)
            now = time.time()
            print(json.dumps({"event": "complete", "seconds": now - start,
                              "downloaded": s.total_payload_download,
                              "cpu": time.process_time()}), flush=True)
            return 0 if flushed else 4
        # Reconnect to the given peers now and then (they may start after us).
        if a.peer and int(now - start) % 2 == 0 and s.num_peers == 0:
            for peer in a.peer:
                host, pp = peer.rsplit(":", 1)
                h.connect_peer((host, int(pp)))
        time.sleep(0.01)
    print(json.dumps({"event": "timeout"}), flush=True)
    return 3


if __name__ == "__main__":
    sys.exit(main())
