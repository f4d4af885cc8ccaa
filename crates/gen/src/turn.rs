//! TURN carriers of the relayed media: MS-TURN Send requests / Data Indications (what a Lync
//! client exchanges with the Edge's internal interface) and standard RFC 5766 ChannelBind +
//! ChannelData.

use std::net::SocketAddrV4;

/// MS-TURN MAGIC-COOKIE attribute type.
pub const ATTR_MS_MAGIC_COOKIE: u16 = 0x000F;
/// MS-TURN MAGIC-COOKIE value.
pub const MS_MAGIC_COOKIE: u32 = 0x72C6_4BC6;
/// MS-TURN MS-VERSION attribute type.
pub const ATTR_MS_VERSION: u16 = 0x8008;
/// MS-TURN Send request.
pub const MS_SEND_REQUEST: u16 = 0x0004;
/// MS-TURN Data Indication.
pub const MS_DATA_INDICATION: u16 = 0x0115;
/// MS-TURN DESTINATION-ADDRESS.
pub const ATTR_MS_DESTINATION_ADDRESS: u16 = 0x0011;
/// MS-TURN REMOTE-ADDRESS.
pub const ATTR_MS_REMOTE_ADDRESS: u16 = 0x0012;
/// DATA.
pub const ATTR_DATA: u16 = 0x0013;
/// RFC 5389 magic cookie.
pub const STUN_MAGIC_COOKIE: u32 = 0x2112_A442;
/// RFC 5766 ChannelBind request / success response.
pub const CHANNEL_BIND_REQUEST: u16 = 0x0009;
/// RFC 5766 ChannelBind success response.
pub const CHANNEL_BIND_RESPONSE: u16 = 0x0109;
/// RFC 5766 CHANNEL-NUMBER.
pub const ATTR_CHANNEL_NUMBER: u16 = 0x000C;
/// RFC 5766 XOR-PEER-ADDRESS.
pub const ATTR_XOR_PEER_ADDRESS: u16 = 0x0012;

fn attr(out: &mut Vec<u8>, t: u16, value: &[u8]) {
    out.extend_from_slice(&t.to_be_bytes());
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
    while !out.len().is_multiple_of(4) {
        out.push(0);
    }
}

fn plain_addr(a: SocketAddrV4) -> [u8; 8] {
    let mut v = [0u8; 8];
    v[1] = 1;
    v[2..4].copy_from_slice(&a.port().to_be_bytes());
    v[4..8].copy_from_slice(&a.ip().octets());
    v
}

fn finish_len(out: &mut [u8], start: usize) {
    let len = (out.len() - start - 20) as u16;
    out[start + 2..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// Appends an MS-TURN message of `msg_type` (Send request or Data Indication) carrying `data` for
/// `peer` (DESTINATION-ADDRESS for a Send request, REMOTE-ADDRESS for a Data Indication).
///
/// The DATA attribute comes last. A Send request pads it to 4 bytes (the client's messages carry an
/// RFC 5389-style transaction id and are read as STUN); a Data Indication leaves the padding out, as
/// the RFC 3489-era MS-TURN framing (and Wireshark's classic-STUN dissector) expects.
pub fn ms_turn_data(
    out: &mut Vec<u8>,
    msg_type: u16,
    txid: &[u8; 16],
    peer: SocketAddrV4,
    data: &[u8],
) {
    let start = out.len();
    out.extend_from_slice(&msg_type.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(txid);
    attr(out, ATTR_MS_MAGIC_COOKIE, &MS_MAGIC_COOKIE.to_be_bytes());
    attr(out, ATTR_MS_VERSION, &6u32.to_be_bytes());
    let addr_type = if msg_type == MS_SEND_REQUEST {
        ATTR_MS_DESTINATION_ADDRESS
    } else {
        ATTR_MS_REMOTE_ADDRESS
    };
    attr(out, addr_type, &plain_addr(peer));
    if msg_type == MS_SEND_REQUEST {
        attr(out, ATTR_DATA, data);
    } else {
        out.extend_from_slice(&ATTR_DATA.to_be_bytes());
        out.extend_from_slice(&(data.len() as u16).to_be_bytes());
        out.extend_from_slice(data);
    }
    finish_len(out, start);
}

/// Appends an RFC 5766 ChannelBind request (or, with `response`, its success response).
pub fn channel_bind(
    out: &mut Vec<u8>,
    response: bool,
    txid: &[u8; 12],
    channel: u16,
    peer: SocketAddrV4,
) {
    let start = out.len();
    let t = if response {
        CHANNEL_BIND_RESPONSE
    } else {
        CHANNEL_BIND_REQUEST
    };
    out.extend_from_slice(&t.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&STUN_MAGIC_COOKIE.to_be_bytes());
    out.extend_from_slice(txid);
    if !response {
        let mut ch = [0u8; 4];
        ch[0..2].copy_from_slice(&channel.to_be_bytes());
        attr(out, ATTR_CHANNEL_NUMBER, &ch);
        let mut v = plain_addr(peer);
        let c = STUN_MAGIC_COOKIE.to_be_bytes();
        v[2] ^= c[0];
        v[3] ^= c[1];
        for i in 0..4 {
            v[4 + i] ^= c[i];
        }
        attr(out, ATTR_XOR_PEER_ADDRESS, &v);
    }
    finish_len(out, start);
}

/// Appends an RFC 5766 ChannelData message (UDP: no padding).
pub fn channel_data(out: &mut Vec<u8>, channel: u16, data: &[u8]) {
    out.extend_from_slice(&channel.to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

/// STUN Binding request.
pub const BINDING_REQUEST: u16 = 0x0001;
/// STUN Binding success response.
pub const BINDING_RESPONSE: u16 = 0x0101;
const ATTR_USERNAME: u16 = 0x0006;
const ATTR_MESSAGE_INTEGRITY: u16 = 0x0008;
const ATTR_XOR_MAPPED_ADDRESS: u16 = 0x0020;
const ATTR_PRIORITY: u16 = 0x0024;
const ATTR_ICE_CONTROLLING: u16 = 0x802A;
const ATTR_ICE_CONTROLLED: u16 = 0x8029;
const ATTR_FINGERPRINT: u16 = 0x8028;

/// CRC-32 (ISO-HDLC, as zlib) of `bytes`.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// What an ICE connectivity check says.
#[derive(Debug, Clone, Copy)]
pub struct IceCheck<'a> {
    /// Request (with USERNAME, PRIORITY, ICE-CONTROLLING/-CONTROLLED) or success response (with
    /// XOR-MAPPED-ADDRESS).
    pub response: bool,
    /// Transaction id.
    pub txid: &'a [u8; 12],
    /// `remote-ufrag:local-ufrag` (requests).
    pub username: &'a str,
    /// The checking agent is the controlling one (the offerer).
    pub controlling: bool,
    /// The source address the responder saw (responses).
    pub mapped: SocketAddrV4,
    /// The ICE password of the agent that answers the request (its `a=ice-pwd`): the
    /// MESSAGE-INTEGRITY key of both the request and the response.
    pub password: &'a str,
}

/// Appends an RFC 5389 / ICE Binding request or success response with MESSAGE-INTEGRITY
/// (HMAC-SHA1, short-term credential) and FINGERPRINT.
pub fn ice_check(out: &mut Vec<u8>, c: &IceCheck<'_>) {
    use hmac::{Hmac, Mac};
    let start = out.len();
    let t = if c.response {
        BINDING_RESPONSE
    } else {
        BINDING_REQUEST
    };
    out.extend_from_slice(&t.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&STUN_MAGIC_COOKIE.to_be_bytes());
    out.extend_from_slice(c.txid);
    if c.response {
        let mut v = plain_addr(c.mapped);
        let k = STUN_MAGIC_COOKIE.to_be_bytes();
        v[2] ^= k[0];
        v[3] ^= k[1];
        for i in 0..4 {
            v[4 + i] ^= k[i];
        }
        attr(out, ATTR_XOR_MAPPED_ADDRESS, &v);
    } else {
        attr(out, ATTR_USERNAME, c.username.as_bytes());
        attr(out, ATTR_PRIORITY, &1_853_817_087u32.to_be_bytes());
        let tie = [0x5a; 8];
        attr(
            out,
            if c.controlling {
                ATTR_ICE_CONTROLLING
            } else {
                ATTR_ICE_CONTROLLED
            },
            &tie,
        );
    }
    // MESSAGE-INTEGRITY over the message with the length field counting up to and including it.
    let len_mi = (out.len() - start - 20 + 24) as u16;
    out[start + 2..start + 4].copy_from_slice(&len_mi.to_be_bytes());
    let mut mac =
        Hmac::<sha1::Sha1>::new_from_slice(c.password.as_bytes()).expect("HMAC takes any key");
    mac.update(&out[start..]);
    let tag = mac.finalize().into_bytes();
    attr(out, ATTR_MESSAGE_INTEGRITY, &tag);
    // FINGERPRINT over everything before it, length including it.
    let len_fp = (out.len() - start - 20 + 8) as u16;
    out[start + 2..start + 4].copy_from_slice(&len_fp.to_be_bytes());
    let fp = crc32(&out[start..]) ^ 0x5354_554E;
    attr(out, ATTR_FINGERPRINT, &fp.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_catalogue_check_value() {
        // CRC-32/ISO-HDLC check value for "123456789" (the CRC catalogue's reference).
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }
}
