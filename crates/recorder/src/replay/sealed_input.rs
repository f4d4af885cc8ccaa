//! Encrypted signaling journals as replay input: the file is decrypted (every chunk authenticated) and its
//! pcapng blocks read in memory. A journal without its final chunk (the daemon was killed before the next
//! start finished it) is read up to its last complete chunk, with a warning.

use std::path::Path;

use rec_packet::LinkType;

/// Frames of a decrypted journal: capture time (µs), link type, bytes.
pub type Frames = Vec<(i64, LinkType, Vec<u8>)>;

/// Decrypts the journal at `path` with `keys` and reads its packets.
pub fn read_journal(path: &Path, keys: Option<&rec_vault::Keyring>) -> Result<Frames, String> {
    let keys = keys.ok_or_else(|| {
        format!(
            "{} is encrypted: give the [encryption] keys with --config",
            path.display()
        )
    })?;
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let scan = rec_vault::scan(&bytes, keys).map_err(|e| format!("{}: {e}", path.display()))?;
    match &scan.stop {
        None => {}
        Some(e @ rec_vault::VaultError::MissingFinal { .. }) => {
            eprintln!(
                "recorder replay: warning: {}: {e}; replaying what it holds",
                path.display()
            );
        }
        Some(e) => return Err(format!("{}: {e}", path.display())),
    }
    parse_pcapng(&scan.plain).map_err(|e| format!("{} (decrypted): {e}", path.display()))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Reads the enhanced packet blocks of a little-endian pcapng (the journal's own format: µs timestamps).
pub fn parse_pcapng(b: &[u8]) -> Result<Frames, String> {
    if b.len() < 12 || u32_at(b, 0) != 0x0A0D_0D0A || u32_at(b, 8) != 0x1A2B_3C4D {
        return Err("not a little-endian pcapng file".to_owned());
    }
    let mut links = Vec::new();
    let mut frames = Vec::new();
    let mut at = 0;
    while at + 12 <= b.len() {
        let kind = u32_at(b, at);
        let total = u32_at(b, at + 4) as usize;
        if total < 12 || !total.is_multiple_of(4) || at + total > b.len() {
            return Err(format!("block at byte {at} has a bad length {total}"));
        }
        let body = &b[at + 8..at + total - 4];
        match kind {
            1 if body.len() >= 2 => {
                let dlt = u16::from_le_bytes([body[0], body[1]]);
                links.push(LinkType::from_dlt(i32::from(dlt)));
            }
            6 if body.len() >= 20 => {
                let iface = u32_at(body, 0) as usize;
                let ts = (u64::from(u32_at(body, 4)) << 32) | u64::from(u32_at(body, 8));
                let caplen = u32_at(body, 12) as usize;
                if 20 + caplen > body.len() {
                    return Err(format!("packet at byte {at} is longer than its block"));
                }
                let link = links.get(iface).copied().flatten().ok_or_else(|| {
                    format!("packet at byte {at} names unknown interface {iface}")
                })?;
                frames.push((
                    i64::try_from(ts).unwrap_or(i64::MAX),
                    link,
                    body[20..20 + caplen].to_vec(),
                ));
            }
            _ => {}
        }
        at += total;
    }
    Ok(frames)
}
