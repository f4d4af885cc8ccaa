//! RFC 2198 redundant audio (RED): splits a RED payload into its primary and redundant blocks without copying.

/// Most redundant blocks a RED payload may carry here (more is rejected as malformed; real senders use 1 or 2).
pub const MAX_REDUNDANT: usize = 8;

/// Why a RED payload could not be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedError {
    /// The block headers run past the end of the payload.
    #[error("RED payload of {len} bytes ends inside the block headers")]
    TruncatedHeaders {
        /// Payload length in bytes.
        len: usize,
    },
    /// The redundant block lengths add up to more than the payload holds.
    #[error("RED block lengths ({needed} bytes) exceed the {len}-byte payload")]
    BlocksTooLong {
        /// Bytes the headers declare (headers + redundant blocks).
        needed: usize,
        /// Payload length in bytes.
        len: usize,
    },
    /// More redundant blocks than [`MAX_REDUNDANT`].
    #[error("RED payload has more than {MAX_REDUNDANT} redundant blocks")]
    TooManyBlocks,
}

/// One redundant (older) encoding carried in a RED payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedBlock<'a> {
    /// Payload type of the block.
    pub pt: u8,
    /// How many RTP timestamp units before the packet's timestamp this block starts.
    pub ts_offset: u16,
    /// The block's payload.
    pub data: &'a [u8],
}

/// A RED payload split into its blocks (borrowing the input).
#[derive(Debug, Clone, Copy)]
pub struct Red<'a> {
    /// The primary (newest) encoding: payload type and bytes.
    pub primary: RedBlock<'a>,
    redundant: [RedBlock<'a>; MAX_REDUNDANT],
    count: usize,
}

impl<'a> Red<'a> {
    /// Redundant blocks, oldest first (in the order they appear in the payload).
    pub fn redundant(&self) -> &[RedBlock<'a>] {
        &self.redundant[..self.count]
    }

    /// The redundant block that starts exactly `ts_offset` units before the packet's timestamp, if any.
    pub fn redundant_at(&self, ts_offset: u32) -> Option<&RedBlock<'a>> {
        self.redundant()
            .iter()
            .find(|b| u32::from(b.ts_offset) == ts_offset)
    }
}

/// Splits a RED payload (RFC 2198 §3): 4-byte headers `F|PT|ts offset(14)|length(10)` for redundant blocks,
/// a 1-byte header `0|PT` for the primary, then the block data in the same order.
pub fn parse_red(payload: &[u8]) -> Result<Red<'_>, RedError> {
    const EMPTY: RedBlock<'static> = RedBlock {
        pt: 0,
        ts_offset: 0,
        data: &[],
    };
    let mut headers = [(0u8, 0u16, 0usize); MAX_REDUNDANT];
    let mut count = 0;
    let mut pos = 0;
    let primary_pt = loop {
        let Some(&b0) = payload.get(pos) else {
            return Err(RedError::TruncatedHeaders { len: payload.len() });
        };
        if b0 & 0x80 == 0 {
            pos += 1;
            break b0 & 0x7f;
        }
        let Some(h) = payload.get(pos..pos + 4) else {
            return Err(RedError::TruncatedHeaders { len: payload.len() });
        };
        if count == MAX_REDUNDANT {
            return Err(RedError::TooManyBlocks);
        }
        let ts_offset = (u16::from(h[1]) << 6) | (u16::from(h[2]) >> 2);
        let len = (usize::from(h[2] & 0x03) << 8) | usize::from(h[3]);
        headers[count] = (b0 & 0x7f, ts_offset, len);
        count += 1;
        pos += 4;
    };
    let needed = pos + headers[..count].iter().map(|h| h.2).sum::<usize>();
    if needed > payload.len() {
        return Err(RedError::BlocksTooLong {
            needed,
            len: payload.len(),
        });
    }
    let mut redundant = [EMPTY; MAX_REDUNDANT];
    for (slot, &(pt, ts_offset, len)) in redundant.iter_mut().zip(&headers[..count]) {
        *slot = RedBlock {
            pt,
            ts_offset,
            data: &payload[pos..pos + len],
        };
        pos += len;
    }
    Ok(Red {
        primary: RedBlock {
            pt: primary_pt,
            ts_offset: 0,
            data: &payload[pos..],
        },
        redundant,
        count,
    })
}
