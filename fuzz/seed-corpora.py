#!/usr/bin/env python3
"""Writes seed corpora for the network-path fuzz targets into fuzz/corpus/<target>/ (git-ignored).

Seeds come from the project's own synthetic capture (samples/lync_edge_call.pcap), its SIP samples and
the shared test data (/work/shared/testdata, read in place: nothing of it is committed, whatever its
licence). Standard library only: a small pcap/pcapng reader and a HEPv3 writer, independent of the Rust
code under test.

Usage: python3 fuzz/seed-corpora.py [--testdata /work/shared/testdata]
"""
import argparse
import hashlib
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# LINKS order of fuzz_targets/net_frames.rs, keyed by pcap LINKTYPE number
LINK_INDEX = {1: 0, 101: 1, 12: 1, 14: 1, 113: 2, 276: 3, 0: 4, 108: 5, 228: 6, 229: 7}


def read_capture(path):
    """Yields (linktype, frame bytes) from a pcap or pcapng file."""
    data = open(path, "rb").read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
        link = struct.unpack(e + "I", data[20:24])[0] & 0xFFFF
        at = 24
        while at + 16 <= len(data):
            incl = struct.unpack(e + "I", data[at + 8 : at + 12])[0]
            yield link, data[at + 16 : at + 16 + incl]
            at += 16 + incl
    elif magic == b"\x0a\x0d\x0d\x0a":
        at, e, links = 0, "<", []
        while at + 12 <= len(data):
            if data[at : at + 4] == b"\x0a\x0d\x0d\x0a":
                e = "<" if data[at + 8 : at + 12] == b"\x4d\x3c\x2b\x1a" else ">"
                links = []
            kind, blen = struct.unpack(e + "II", data[at : at + 8])
            if blen < 12:
                return
            body = data[at + 8 : at + blen - 4]
            if kind == 1:
                links.append(struct.unpack(e + "H", body[:2])[0])
            elif kind == 6:
                iface, _, _, caplen = struct.unpack(e + "IIII", body[:16])
                yield links[iface] if iface < len(links) else 1, body[20 : 20 + caplen]
            elif kind == 3:
                yield (links[0] if links else 1), body[4:]
            at += blen


def ip_of(link, frame):
    """The IP packet inside a frame, or None."""
    if link == 1:
        at, etype = 12, struct.unpack(">H", frame[12:14])[0] if len(frame) >= 14 else 0
        while etype in (0x8100, 0x88A8, 0x9100) and len(frame) >= at + 6:
            at += 4
            etype = struct.unpack(">H", frame[at : at + 2])[0]
        return frame[at + 2 :] if etype in (0x0800, 0x86DD) else None
    if link == 113:
        return frame[16:]
    if link == 276:
        return frame[20:]
    if link in (0, 108):
        return frame[4:]
    return frame


def udp_of(ip):
    """(src port, dst port, payload) of a UDP datagram in an unfragmented IPv4/IPv6 packet, or None."""
    if not ip:
        return None
    if ip[0] >> 4 == 4 and len(ip) >= 20:
        ihl = (ip[0] & 15) * 4
        if ip[9] != 17 or struct.unpack(">H", ip[6:8])[0] & 0x3FFF:
            return None
        udp = ip[ihl:]
    elif ip[0] >> 4 == 6 and len(ip) >= 40 and ip[6] == 17:
        udp = ip[40:]
    else:
        return None
    if len(udp) < 8:
        return None
    sport, dport, ulen = struct.unpack(">HHH", udp[:6])
    return sport, dport, udp[8:ulen]


def records(items):
    """The `[pick][len u16][bytes]` stream format of the engine, turn and net_frames targets."""
    return b"".join(bytes([p]) + struct.pack(">H", len(b)) + b for p, b in items)


class Corpus:
    def __init__(self, root):
        self.root = root
        self.counts = {}

    def add(self, target, data, limit=65536):
        if not data or len(data) > limit:
            return
        d = os.path.join(self.root, target)
        os.makedirs(d, exist_ok=True)
        name = hashlib.sha1(data).hexdigest()
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        self.counts[target] = self.counts.get(target, 0) + 1


def hep3(chunks):
    body = b"".join(struct.pack(">HHH", v, t, 6 + len(d)) + d for v, t, d in chunks)
    return b"HEP3" + struct.pack(">H", 6 + len(body)) + body


def hep_seeds(corpus, sips):
    vendor = 0x4C52
    for i, sip in enumerate(sips):
        std = [
            (0, 1, b"\x02"), (0, 2, b"\x06"), (0, 3, bytes([10, 0, 0, 10])), (0, 4, bytes([10, 0, 0, 2])),
            (0, 7, struct.pack(">H", 5061)), (0, 8, struct.pack(">H", 5061)),
            (0, 9, struct.pack(">I", 1764000000)), (0, 10, struct.pack(">I", 123456)),
            (0, 11, b"\x01"), (0, 12, struct.pack(">I", 2001)),
        ]
        msg = hep3(std + [(vendor, 1, struct.pack(">Q", i + 1)), (vendor, 2, struct.pack(">I", 250)),
                          (0, 15, sip[:60000])])
        v6 = hep3([(0, 1, b"\x0a"), (0, 5, bytes(15) + b"\x01"), (0, 6, bytes(15) + b"\x02"),
                   (0, 7, b"\x13\xc5"), (0, 8, b"\x13\xc4"), (0, 14, b"secret"), (0, 17, b"corr-1"),
                   (0, 18, b"\x00\x07"), (0, 19, b"node-a"), (0, 15, sip[:2000])])
        reply = hep3([(vendor, 3, struct.pack(">Q", i + 1)), (vendor, 4, b"\x04"),
                      (vendor, 5, struct.pack(">QQ", i + 1, i + 7))])
        rewritten = hep3([(vendor, 3, struct.pack(">Q", i + 1)), (0, 11, b"\x01"), (0, 15, sip[:4000])])
        ack = hep3([(vendor, 5, b"".join(struct.pack(">Q", n) for n in range(1, 9)))])
        keepalive = hep3([(0, 13, b"\x00\x1e")])
        for frame in (msg, v6, reply, rewritten, ack, keepalive):
            corpus.add("hep", frame)
        # mirror_frame: first byte = read-piece size, then a stream of frames
        corpus.add("mirror_frame", msg + reply)
        corpus.add("mirror_frame", bytes([1]) + rewritten + ack + keepalive + v6)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--testdata", default="/work/shared/testdata")
    ap.add_argument("--out", default=os.path.join(HERE, "corpus"))
    args = ap.parse_args()
    td = args.testdata
    corpus = Corpus(args.out)

    captures = [os.path.join(REPO, "samples", "lync_edge_call.pcap")]
    for sub in ("pcaps/ndpi", "pcaps/heplify", "pcaps/sipp", "srtp/srtp-decrypt"):
        d = os.path.join(td, sub)
        if os.path.isdir(d):
            captures += [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith((".pcap", ".pcapng"))]

    for path in captures:
        frames = []
        for n, (link, frame) in enumerate(read_capture(path)):
            if n >= 400:
                break
            frames.append((link, frame))
        # net_frames: runs of 16 consecutive frames (TCP streams, fragments), time step 1 (0.25 s)
        for start in range(0, len(frames), 16):
            run = [(LINK_INDEX.get(l, 0) | 0x08, f) for l, f in frames[start : start + 16]]
            corpus.add("net_frames", records(run))
        udp = [u for u in (udp_of(ip_of(l, f)) for l, f in frames) if u]
        # turn: runs of payloads, alternating the two directions between address 0 and 1
        for start in range(0, len(udp), 12):
            run = [(0x04 if sport < dport else 0x01, p) for sport, dport, p in udp[start : start + 12]]
            corpus.add("turn", records(run))
        for sport, dport, p in udp[:60]:
            if p and 128 <= p[0] <= 191:
                corpus.add("rtp_demux", p)
                is_rtcp = len(p) > 1 and 192 <= p[1] <= 223
                # srtp: as received (the key differs: the decrypt-refusal paths) and as plain input of
                # the round trip, under a few suites / MKIs
                for sel in (0, 4, 7, 14):
                    corpus.add("srtp", bytes([sel | (0x80 if is_rtcp else 0)]) + p)
            elif p:
                corpus.add("rtp_demux", p[:2048])

    for sub in ("stun_turn/rfc5769",):
        d = os.path.join(td, sub)
        if os.path.isdir(d):
            for f in sorted(os.listdir(d)):
                if f.endswith(".bin"):
                    b = open(os.path.join(d, f), "rb").read()
                    corpus.add("turn", records([(0x04, b)]))
    d = os.path.join(td, "stun_turn/pion-turn")
    if os.path.isdir(d):
        for f in sorted(os.listdir(d)):
            if f.endswith(".hex"):
                b = bytes.fromhex("".join(open(os.path.join(d, f)).read().split()))
                corpus.add("turn", records([(0x04, b), (0x01, b)]))

    sips = []
    for d in (os.path.join(REPO, "samples"), "/work/shared/domain/examples"):
        if os.path.isdir(d):
            sips += [open(os.path.join(d, f), "rb").read() for f in sorted(os.listdir(d)) if f.endswith(".sip")]
    hep_seeds(corpus, sips or [b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n"])

    for t, n in sorted(corpus.counts.items()):
        print(f"{t}: {n} seeds", file=sys.stderr)


if __name__ == "__main__":
    main()
