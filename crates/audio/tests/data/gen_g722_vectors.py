#!/usr/bin/env python3
"""Regenerates the G.722 reference vectors used by tests/codec_g722.rs.

Reference implementation: sippy/libg722 (PyPI package `g722`, BSD-2-Clause / public domain, the spandsp-lineage
codec with the ITU reset state). Run: `python3 -m venv /tmp/v && /tmp/v/bin/pip install g722 &&
/tmp/v/bin/python gen_g722_vectors.py` in this directory.

Files (all little-endian, 16 kHz):
  g722_src.pcm          source signal, s16 (0.6 s: speech-like harmonics + sweep, a near-full-scale burst, silence)
  g722_m{1,2,3}.g722    libg722 encoding at 64/56/48 kbit/s, one code per byte as libg722 emits it unpacked
                        (mode 1: the RTP octet; modes 2/3: 7/6-bit codes, IH in the top bits, no auxiliary bits)
  g722_m{1,2,3}_dec.pcm libg722 decoding of that encoding, s16
"""
import array
import math

from G722 import G722

RATE = 16000
N = 9600


def source():
    out = []
    seed = 12345
    for n in range(N):
        t = n / RATE
        v = 0.0
        if t < 0.4:
            f0 = 140.0 + 40.0 * math.sin(2 * math.pi * 3.0 * t)
            env = 0.3 + 0.7 * abs(math.sin(2 * math.pi * 2.5 * t))
            h = 1
            while h * f0 < 7000.0 and h <= 40:
                v += math.sin(2 * math.pi * f0 * h * t + 0.3 * h) / h
                h += 1
            v *= 5000.0 * env
            # log sweep 50 Hz -> 7500 Hz over the first 0.4 s
            k = math.log(7500.0 / 50.0) / 0.4
            v += 3000.0 * math.sin(2 * math.pi * 50.0 * (math.exp(k * t) - 1.0) / k)
        elif t < 0.5:
            v = 32000.0 * math.sin(2 * math.pi * 1000.0 * t) + 9000.0 * math.sin(2 * math.pi * 5500.0 * t)
        elif t < 0.55:
            v = 0.0
        else:
            seed = (seed * 1103515245 + 12345) & 0x7FFFFFFF
            v = ((seed >> 16) % 201) - 100
        out.append(max(-32768, min(32767, int(round(v)))))
    return array.array("h", out)


def main():
    src = source()
    with open("g722_src.pcm", "wb") as f:
        f.write(src.tobytes())
    for mode, rate in ((1, 64000), (2, 56000), (3, 48000)):
        enc = G722(RATE, rate).encode(src)
        dec = G722(RATE, rate).decode(enc)
        assert len(enc) == N // 2 and len(dec) == N, (len(enc), len(dec))
        with open(f"g722_m{mode}.g722", "wb") as f:
            f.write(enc)
        with open(f"g722_m{mode}_dec.pcm", "wb") as f:
            f.write(array.array("h", dec).tobytes())


if __name__ == "__main__":
    main()
