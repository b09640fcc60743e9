#!/usr/bin/env python3
"""A second implementation of the envelope format, written from SPEC.md alone (P-256 only).

Parses the in-place forwarded file of envelope-p256.json (§8, §7), checks the organization
self-signatures, certificates, the sender's signature, every hop (roles, validity, the sigma
proof of §4.3 with its own P-256 arithmetic) and each slot's C1 lineage (§7.4), then opens every
slot with the reader's key (§6.1) and decrypts the metadata (§7.2) and both bodies (§6.2).

    python3 check_envelope_p256.py envelope-p256.json      # needs the `cryptography` package
"""
import hashlib, json, struct, sys
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
import hmac

p = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff
n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
b_ = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b
G = (0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296,
     0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5)

def add(P, Q):
    if P is None: return Q
    if Q is None: return P
    if P[0] == Q[0] and (P[1] + Q[1]) % p == 0: return None
    if P == Q:
        l = (3 * P[0] * P[0] - 3) * pow(2 * P[1], -1, p) % p
    else:
        l = (Q[1] - P[1]) * pow(Q[0] - P[0], -1, p) % p
    x = (l * l - P[0] - Q[0]) % p
    return (x, (l * (P[0] - x) - P[1]) % p)

def neg(P): return None if P is None else (P[0], (-P[1]) % p)
def sub(P, Q): return add(P, neg(Q))
def mul(P, k):
    R = None
    for bit in bin(k % n)[2:]:
        R = add(R, R)
        if bit == '1': R = add(R, P)
    return R

def dec(b):
    assert len(b) == 33 and b[0] in (2, 3)
    x = int.from_bytes(b[1:], 'big'); assert x < p
    y2 = (x * x * x - 3 * x + b_) % p
    y = pow(y2, (p + 1) // 4, p); assert y * y % p == y2
    if y % 2 != b[0] - 2: y = p - y
    return (x, y)

def enc(P): return bytes([2 + P[1] % 2]) + P[0].to_bytes(32, 'big')

def tagged(label, items):
    tag = b"soshiki/v1/" + label
    out = struct.pack(">H", len(tag)) + tag
    for it in items: out += struct.pack(">I", len(it)) + it
    return out

def H256(label, items): return hashlib.sha256(tagged(label, items)).digest()
def Hs(label, items): return int.from_bytes(hashlib.sha512(tagged(label, items)).digest(), 'big') % n

def verify_sig(vk, msg, sig):
    r, s = int.from_bytes(sig[:32], 'big'), int.from_bytes(sig[32:], 'big')
    if not (0 < r < n and 0 < s <= n // 2): return False
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), vk)
    try:
        key.verify(utils.encode_dss_signature(r, s), msg, ec.ECDSA(hashes.SHA256())); return True
    except Exception: return False

class R:
    def __init__(s, b): s.b, s.i = b, 0
    def take(s, k):
        assert s.i + k <= len(s.b); v = s.b[s.i:s.i + k]; s.i += k; return v
    def u8(s): return s.take(1)[0]
    def u16(s): return struct.unpack(">H", s.take(2))[0]
    def u32(s): return struct.unpack(">I", s.take(4))[0]
    def u64(s): return struct.unpack(">Q", s.take(8))[0]
    def b16(s): return s.take(s.u16())
    def b32(s): return s.take(s.u32())

PL, VL = 33, 33

def org(r):
    st = r.i
    assert r.take(5) == b"SKORG" and r.u8() == 1 and r.u16() == 1
    name = r.b16().decode(); vk = r.take(VL); created = r.u64(); body = r.b[st:r.i]; sig = r.take(64)
    assert verify_sig(vk, b"soshiki/v1/organization-signature" + body, sig), "org self-signature"
    return dict(name=name, vk=vk, created=created, fp=H256(b"org-fingerprint", [b"\x00\x01", vk]))

def cert(r):
    st = r.i
    assert r.take(5) == b"SKCRT" and r.u8() == 1 and r.u16() == 1
    c = dict(serial=r.take(16), issuer=r.take(32), name=r.b16().decode(), roles=r.u8(), A=dec(r.take(PL)),
             vk=r.take(VL), nb=r.u64(), na=r.u64())
    c['body'] = r.b[st:r.i]; c['sig'] = r.take(64); c['raw'] = r.b[st:r.i]
    c['fp'] = H256(b"certificate-fingerprint", [c['raw']])
    return c

def cert_ok(c, o, t):
    return c['issuer'] == o['fp'] and verify_sig(o['vk'], b"soshiki/v1/certificate-signature" + c['body'], c['sig']) and c['nb'] <= t <= c['na']

def origin(r): return dict(c1d=r.take(32), C2=dec(r.take(PL)), com=r.take(32))

def hop(r):
    h = dict(ffp=r.take(32), tfp=r.take(32), time=r.u64(), X=dec(r.take(PL)), C2n=dec(r.take(PL)), kind=r.u8())
    if h['kind'] == 1: h['e'], h['s1'], h['s2'] = (int.from_bytes(r.take(32), 'big') for _ in range(3))
    else: assert h['kind'] == 2; h['sig'] = r.take(64)
    return h

v = json.load(open(sys.argv[1]))
f = bytes.fromhex(v['file'])
assert f[:5] == b"SKENV" and f[5] == 1 and f[6:8] == b"\x00\x01"
eid = f[8:24]
assert f[-8:] == b"SKEND\x00\x00\x01"
hlen = struct.unpack(">Q", f[-16:-8])[0]
hb = f[len(f) - 16 - hlen:len(f) - 16]
r = R(hb)
assert r.take(5) == b"SKHDR" and r.u8() == 1 and r.u16() == 1
core_start = r.i
assert r.take(16) == eid
created = r.u64(); cs = r.u32(); assert cs & (cs - 1) == 0
sorg, scert, rorg, rcert = org(r), cert(r), org(r), cert(r)
morig = origin(r)
sealed_meta = r.b32()
nparts = r.u32()
parts = [dict(L=r.u64(), dig=r.take(32), o=origin(r)) for _ in range(nparts)]
signed = b"soshiki/v1/envelope-signature" + hb[:r.i]
ssig = r.take(64)
assert cert_ok(scert, sorg, created) and verify_sig(scert['vk'], signed, ssig), "sender"
assert cert_ok(rcert, rorg, created)
certs = [cert(r) for _ in range(r.u32())]
slots = []
for _ in range(r.u32()):
    s = dict(no=r.u32(), C1=dec(r.take(PL)), C2=dec(r.take(PL)))
    s['hops'] = [hop(r) for _ in range(r.u32())]
    slots.append(s)
bodies = [r.u32() for _ in range(r.u32())]
assert r.i == len(hb)
assert sorg['fp'].hex() == v['sender_organization']['fingerprint']
byfp = {c['fp']: c for c in certs + [rcert]}
MS = 0xffffffff
for s in slots:
    o = morig if s['no'] == MS else parts[s['no']]['o']
    holder, C2, SX, last = rcert, o['C2'], None, created
    for i, h in enumerate(s['hops'], 1):
        assert h['ffp'] == holder['fp'] and h['time'] >= last; last = h['time']
        assert holder['roles'] & 6 and holder['nb'] <= h['time'] <= holder['na']
        t = byfp[h['tfp']]; assert cert_ok(t, rorg, h['time']) and t['roles'] & 14
        st = (b"\x00\x01" + eid + struct.pack(">IH", s['no'], i) + h['ffp'] + h['tfp'] + struct.pack(">Q", h['time'])
              + enc(holder['A']) + enc(t['A']) + enc(C2) + enc(h['C2n']) + enc(h['X']))
        assert len(st) == 96 + 5 * PL
        assert h['kind'] == 1
        e = h['e']
        T1 = sub(mul(G, h['s1']), mul(holder['A'], e))
        T2 = sub(mul(G, h['s2']), mul(h['C2n'], e))
        T3 = sub(sub(mul(C2, h['s1']), mul(t['A'], h['s2'])), mul(h['X'], e))
        assert Hs(b"hop-proof", [st, enc(T1), enc(T2), enc(T3)]) == e, "proof"
        C2, SX, holder = h['C2n'], add(SX, h['X']), t
    assert C2 == s['C2']
    assert H256(b"c1", [b"\x00\x01", eid, struct.pack(">I", s['no']), enc(add(s['C1'], SX))]) == o['c1d'], "lineage"
    # open with the reader's key
    bsk = int(v['reader_encryption_secret'], 16)
    M = sub(s['C1'], mul(s['C2'], bsk))
    salt = b"soshiki/v1/slot" + b"\x00\x01" + eid
    prk = hmac.new(salt, enc(M), hashlib.sha256).digest()
    key = HKDFExpand(hashes.SHA256(), 32, b"soshiki/v1/slot-key" + struct.pack(">I", s['no'])).derive(prk)
    com = HKDFExpand(hashes.SHA256(), 32, b"soshiki/v1/commitment" + struct.pack(">I", s['no'])).derive(prk)
    assert com == o['com'], "commitment"
    if s['no'] == MS:
        meta = AESGCM(key).decrypt(b"\x00" * 12, sealed_meta, b"soshiki/v1/metadata" + eid)
        assert meta.hex() == v['metadata_encoding']
    else:
        off = 24
        for bi in bodies:
            if bi == s['no']: break
            L = parts[bi]['L']; off += L + 16 * max(1, -(-L // cs))
        L = parts[s['no']]['L']; nch = max(1, -(-L // cs)); body = f[off:off + L + 16 * nch]
        assert hashlib.sha256(body).digest() == parts[s['no']]['dig']
        pt = b""
        for i in range(nch):
            pl = L - i * cs if i == nch - 1 else cs
            chunk = body[i * (cs + 16): i * (cs + 16) + pl + 16]
            pt += AESGCM(key).decrypt(b"\x00" * 7 + struct.pack(">IB", i, i == nch - 1), chunk, b"")
        assert pt.hex() == v['plaintexts'][s['no']]
print("ok: header of", hlen, "bytes,", len(slots), "slots,", sum(len(s['hops']) for s in slots), "hops verified and opened from SPEC.md alone")
