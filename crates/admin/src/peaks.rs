//! Waveform peaks files of recordings (BBC audiowaveform `.dat` v2, see [`rec_audio::peaks`]): written next
//! to a finished WAV or Ogg Opus recording as `<file>.peaks` (by the store at finalisation), computed on
//! demand from the recording or its growing `.part` when no up-to-date peaks file exists.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use rec_audio::opus_peaks::OggOpusPeaks;
use rec_audio::peaks::{samples_per_pixel_for, PeaksBuilder};

/// The suffix of a peaks file: `<recording>.peaks`.
pub const PEAKS_SUFFIX: &str = ".peaks";

/// The peaks file of the recording at `audio` (the final name, not the `.part`).
pub fn sidecar_path(audio: &Path) -> PathBuf {
    let mut s = audio.as_os_str().to_owned();
    s.push(PEAKS_SUFFIX);
    PathBuf::from(s)
}

/// Where the PCM of a 16-bit PCM WAV file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavLayout {
    /// Channels.
    pub channels: u16,
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// Offset of the first sample.
    pub data_start: u64,
    /// Bytes of samples (the header's size, cut to the file; the rest of the file for a `.part` whose
    /// header is not final yet).
    pub data_len: u64,
}

/// Reads the RIFF header of a 16-bit PCM WAV of `file_len` bytes. Errors say what is wrong.
pub fn wav_layout(r: &mut impl Read, file_len: u64) -> Result<WavLayout, String> {
    let mut riff = [0u8; 12];
    r.read_exact(&mut riff)
        .map_err(|e| format!("WAV header: {e}"))?;
    if &riff[0..4] != b"RIFF" || &riff[8..12] != b"WAVE" {
        return Err("not a RIFF/WAVE file".into());
    }
    let mut at = 12u64;
    let mut fmt: Option<(u16, u32)> = None;
    loop {
        let mut head = [0u8; 8];
        r.read_exact(&mut head)
            .map_err(|_| "WAV file has no data chunk".to_owned())?;
        at += 8;
        let size = u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]));
        match &head[0..4] {
            b"fmt " => {
                let mut f = vec![0u8; usize::try_from(size.min(64)).unwrap_or(64)];
                r.read_exact(&mut f)
                    .map_err(|e| format!("WAV fmt chunk: {e}"))?;
                if f.len() < 16 {
                    return Err("WAV fmt chunk too short".into());
                }
                let tag = u16::from_le_bytes([f[0], f[1]]);
                let channels = u16::from_le_bytes([f[2], f[3]]);
                let rate = u32::from_le_bytes([f[4], f[5], f[6], f[7]]);
                let bits = u16::from_le_bytes([f[14], f[15]]);
                if !(tag == 1 || tag == 0xFFFE) || bits != 16 || channels == 0 {
                    return Err(format!(
                        "WAV format {tag:#x} with {bits}-bit samples: only 16-bit PCM has peaks"
                    ));
                }
                fmt = Some((channels, rate));
                let rest = size + (size & 1) - f.len() as u64;
                std::io::copy(&mut r.take(rest), &mut std::io::sink())
                    .map_err(|e| format!("WAV header: {e}"))?;
                at += size + (size & 1);
            }
            b"data" => {
                let (channels, sample_rate) = fmt.ok_or("WAV data before its fmt chunk")?;
                let available = file_len.saturating_sub(at);
                // 0 or 0xFFFFFFFF (streaming writers) or past the end: the samples run to the end of file
                let data_len = if size == 0 || size > available {
                    available
                } else {
                    size
                };
                return Ok(WavLayout {
                    channels,
                    sample_rate,
                    data_start: at,
                    data_len,
                });
            }
            _ => {
                let skip = size + (size & 1);
                std::io::copy(&mut r.take(skip), &mut std::io::sink())
                    .map_err(|e| format!("WAV header: {e}"))?;
                at += skip;
            }
        }
        if at > file_len {
            return Err("WAV file has no data chunk".into());
        }
    }
}

/// The peaks (`.dat` v2 bytes) of the 16-bit PCM WAV (or `.part`) file `file` of `file_len` bytes.
pub fn wav_peaks(file: File, file_len: u64) -> Result<Vec<u8>, String> {
    let mut r = BufReader::with_capacity(256 * 1024, file);
    let layout = wav_layout(&mut r, file_len)?;
    r.seek(SeekFrom::Start(layout.data_start))
        .map_err(|e| format!("WAV data: {e}"))?;
    let mut builder = PeaksBuilder::new(
        layout.channels,
        layout.sample_rate,
        samples_per_pixel_for(layout.sample_rate),
    );
    let mut left = layout.data_len & !1;
    let mut buf = vec![0u8; 64 * 1024];
    while left > 0 {
        let want = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
        let n = r
            .read(&mut buf[..want])
            .map_err(|e| format!("WAV data: {e}"))?;
        if n == 0 {
            break;
        }
        builder.push_le_bytes(&buf[..n & !1]);
        left -= (n & !1) as u64;
        if n & 1 == 1 {
            // keep 16-bit alignment: the odd byte is re-read with the next piece
            r.seek(SeekFrom::Current(-1))
                .map_err(|e| format!("WAV data: {e}"))?;
        }
    }
    Ok(builder.finish())
}

/// The peaks (`.dat` v2 bytes) of the Ogg Opus (or growing `.opus.part`) file `file`: its complete pages,
/// decoded packet by packet (memory bounded by one page and one frame, whatever the length).
pub fn opus_peaks(file: File) -> Result<Vec<u8>, String> {
    let mut r = file;
    let mut peaks = OggOpusPeaks::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = r
            .read(&mut buf)
            .map_err(|e| format!("Ogg Opus data: {e}"))?;
        if n == 0 {
            break;
        }
        peaks.push(&buf[..n]);
    }
    if peaks.bad_packets() > 0 {
        tracing::warn!(
            packets = peaks.bad_packets(),
            "undecodable Opus packets left out of the waveform"
        );
    }
    peaks.finish().map_err(|e| e.to_string())
}

/// The recording formats that have peaks, by file name: `Some(true)` for Ogg Opus, `Some(false)` for WAV.
pub fn is_opus(audio: &Path) -> Option<bool> {
    match audio.extension()?.to_str()? {
        "wav" => Some(false),
        "opus" | "ogg" => Some(true),
        _ => None,
    }
}

/// Writes `<audio>.peaks` for the finished WAV or Ogg Opus recording `audio` (through a temporary name, so a
/// reader never sees half a file). Recordings in other formats are skipped (`Ok(false)`).
pub fn write_sidecar(audio: &Path) -> Result<bool, String> {
    let Some(opus) = is_opus(audio) else {
        return Ok(false);
    };
    let file = File::open(audio).map_err(|e| format!("{}: {e}", audio.display()))?;
    let len = file
        .metadata()
        .map_err(|e| format!("{}: {e}", audio.display()))?
        .len();
    let bytes = if opus {
        opus_peaks(file)
    } else {
        wav_peaks(file, len)
    }
    .map_err(|e| format!("{}: {e}", audio.display()))?;
    let target = sidecar_path(audio);
    let mut tmp = target.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, &bytes)
        .and_then(|()| std::fs::rename(&tmp, &target))
        .map_err(|e| format!("{}: {e}", target.display()))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rec_audio::peaks::parse_peaks;

    fn wav(channels: u16, rate: u32, samples: &[i16], data_size: Option<u32>) -> Vec<u8> {
        let data_len = (samples.len() * 2) as u32;
        let mut out = Vec::new();
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(36 + data_len).to_le_bytes());
        out.extend_from_slice(b"WAVE");
        // an extra chunk before fmt, odd-sized (padded)
        out.extend_from_slice(b"LIST");
        out.extend_from_slice(&3u32.to_le_bytes());
        out.extend_from_slice(&[1, 2, 3, 0]);
        out.extend_from_slice(b"fmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&channels.to_le_bytes());
        out.extend_from_slice(&rate.to_le_bytes());
        out.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
        out.extend_from_slice(&(channels * 2).to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data_size.unwrap_or(data_len).to_le_bytes());
        for s in samples {
            out.extend_from_slice(&s.to_le_bytes());
        }
        out
    }

    #[test]
    fn peaks_of_a_wav_and_a_growing_part() {
        let dir = tempfile::tempdir().unwrap();
        // 8 kHz stereo, 0.5 s: left ramps up to 25600, right constant -5120
        let samples: Vec<i16> = (0..4000)
            .flat_map(|i| [(f64::from(i) * 6.4) as i16, -5120])
            .collect();
        for (name, size) in [("a.wav", None), ("b.wav.part", Some(0u32))] {
            let path = dir.path().join(name);
            std::fs::write(&path, wav(2, 8000, &samples, size)).unwrap();
            let len = std::fs::metadata(&path).unwrap().len();
            let p = parse_peaks(&wav_peaks(File::open(&path).unwrap(), len).unwrap()).unwrap();
            assert_eq!(
                (p.channels, p.sample_rate, p.samples_per_pixel),
                (2, 8000, 160)
            );
            assert_eq!(p.pairs.len(), 25 * 2, "{name}");
            assert_eq!(p.pairs[1], (-5120, -5120));
            // the last left pixel holds samples 3840..4000: max 3999 * 6.4 = 25593 -> high byte 99
            assert_eq!(p.pairs[48].1, 99 << 8);
        }
        let audio = dir.path().join("a.wav");
        assert!(write_sidecar(&audio).unwrap());
        assert!(parse_peaks(&std::fs::read(sidecar_path(&audio)).unwrap()).is_some());
        assert!(!write_sidecar(&dir.path().join("x.mp3")).unwrap());
        assert!(
            write_sidecar(&dir.path().join("x.opus")).is_err(),
            "missing file"
        );
        // not a WAV, or 8-bit: refused with a reason
        let bad = dir.path().join("bad.wav");
        std::fs::write(&bad, b"RIFF....WAVEdata").unwrap();
        assert!(write_sidecar(&bad).is_err());
        let mut eight = wav(1, 8000, &[0; 10], None);
        eight[34 + 12] = 8; // bits per sample (after the 12-byte LIST chunk)
        std::fs::write(&bad, eight).unwrap();
        let e = write_sidecar(&bad).unwrap_err();
        assert!(e.contains("16-bit"), "{e}");
    }
}
