//! The encoder interface the mixer writes into.

/// An incremental audio file encoder: takes interleaved PCM at a fixed rate and channel count and appends encoded
/// bytes to a caller-supplied buffer, so the caller decides when and where bytes are written (a `*.part` file).
pub trait AudioSink: Send {
    /// Output sample rate in Hz.
    fn sample_rate(&self) -> u32;
    /// Interleaved channel count (1 or 2).
    fn channels(&self) -> u16;
    /// Appends the container header (if not yet written) and the encoding of `interleaved` to `out`.
    fn write(&mut self, interleaved: &[i16], out: &mut Vec<u8>);
    /// Bytes that, when written at `header_offset` (usually 0) of the file, make the file so far valid and playable
    /// (e.g. WAV sizes). `None` when the format needs no patch (Ogg).
    fn header_patch(&self) -> Option<(u64, Vec<u8>)>;
    /// Flushes buffered samples and appends the end of the stream (last Ogg page with EOS) to `out`.
    fn finish(&mut self, out: &mut Vec<u8>);
    /// The call metadata to write into the file. Formats whose tags come first (Ogg Opus) take what they
    /// were given before the first [`write`](Self::write); WAV writes its tags after the samples at
    /// [`finish`](Self::finish), so it takes the latest ones.
    fn set_tags(&mut self, tags: &crate::RecordingTags) {
        let _ = tags;
    }
}
