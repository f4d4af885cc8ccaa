//! `recorder-gen`: writes synthetic Lync / Skype for Business call captures (pcap) and their manifest.
//!
//! The library is pure; this binary is the IO shell, so it opts out of the crate's clippy.toml.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Parser;
use rec_gen::{
    manifest_json, CallOptions, Codec, DtmfBurst, FrameKind, GenConfig, Generator, Impairments,
    PcapWriter, SignalingMode, Topology, DEFAULT_START_UNIX_US,
};

/// Generate synthetic Lync / Skype for Business calls (SIP + SRTP, MS-TURN through the Edge) as a
/// pcap file.
#[derive(Debug, Parser)]
#[command(name = "recorder-gen", version)]
struct Cli {
    /// Output pcap file (classic pcap, Ethernet, µs timestamps).
    #[arg(long)]
    out: PathBuf,
    /// Number of calls.
    #[arg(long, default_value_t = 1)]
    calls: u32,
    /// Media duration of each call in seconds (answer to BYE).
    #[arg(long, default_value_t = 20.0)]
    duration: f64,
    /// Start of call i = i × stagger (ms); default: all calls start within a tenth of the duration.
    #[arg(long)]
    stagger_ms: Option<f64>,
    /// Codec: pcma, pcmu, g722, opus, x-msrta.
    #[arg(long, default_value = "pcma")]
    codec: String,
    /// Media topology: edge (MS-TURN), channeldata (TURN ChannelData), direct, plain (non-Lync SIP).
    #[arg(long, default_value = "edge")]
    topology: String,
    /// Signaling: inline-udp, inline-tcp, hep, separate:FILE (SIP over UDP in another pcap), none.
    #[arg(long, default_value = "inline-tcp")]
    signaling: String,
    /// Percentage of RTP packets lost (missing from the capture).
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    /// Percentage of RTP packets delayed by 30–50 ms.
    #[arg(long, default_value_t = 0.0)]
    reorder: f64,
    /// Percentage of RTP packets captured twice.
    #[arg(long, default_value_t = 0.0)]
    duplicate: f64,
    /// Random extra delay of every RTP packet, uniform in 0..MS.
    #[arg(long, default_value_t = 0.0)]
    jitter_ms: f64,
    /// Sender clock drift in ppm, CALLER,CALLEE (positive: the sender's clock runs fast).
    #[arg(long, value_name = "CALLER,CALLEE")]
    drift_ppm: Option<String>,
    /// The capture starts after each sender's sequence number wrapped (ROC 1); signaling kept.
    #[arg(long)]
    mid_call_roc: bool,
    /// The sequence numbers wrap inside the capture.
    #[arg(long)]
    seq_wrap: bool,
    /// Re-key by re-INVITE at SECS after the answer.
    #[arg(long, value_name = "SECS")]
    rekey_at: Option<f64>,
    /// Hold (a=inactive, no media) from FROM to TO seconds after the answer.
    #[arg(long, value_name = "FROM,TO")]
    hold: Option<String>,
    /// New SSRCs (and sequence/timestamp bases) at SECS after the answer.
    #[arg(long, value_name = "SECS")]
    ssrc_change_at: Option<f64>,
    /// DTMF digits (RFC 4733, PT 101) sent by the caller from SECS after the answer; repeatable.
    #[arg(long, value_name = "DIGITS@SECS")]
    dtmf: Vec<String>,
    /// SRTCP sender reports every 5 s per direction on the RTCP ports (relayed like the RTP).
    #[arg(long)]
    rtcp: bool,
    /// ICE connectivity checks (STUN Binding with MESSAGE-INTEGRITY) on the media path before the media.
    #[arg(long)]
    ice_checks: bool,
    /// No 183 Session Progress.
    #[arg(long)]
    no_early_media: bool,
    /// No re-INVITE with a=remote-candidates.
    #[arg(long)]
    no_remote_candidates: bool,
    /// PRNG seed (same seed and options: same bytes).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Capture start, seconds since the Unix epoch (default 2026-01-01T00:00:00Z).
    #[arg(long)]
    start: Option<u64>,
    /// Write a JSON manifest (per call: Call-ID, parties, SSRCs, keys, codec, times, counters).
    #[arg(long)]
    manifest: Option<PathBuf>,
}

fn secs_ms(s: f64, what: &str) -> Result<u64> {
    if !(s.is_finite() && s >= 0.0) {
        bail!("{what}: expected a non-negative number of seconds");
    }
    Ok((s * 1000.0).round() as u64)
}

fn pair(s: &str, what: &str) -> Result<(f64, f64)> {
    let (a, b) = s
        .split_once(',')
        .with_context(|| format!("{what}: expected A,B"))?;
    Ok((
        a.trim().parse().with_context(|| format!("{what}: {a}"))?,
        b.trim().parse().with_context(|| format!("{what}: {b}"))?,
    ))
}

fn config(cli: &Cli) -> Result<(GenConfig, Option<PathBuf>)> {
    let codec = Codec::from_name(&cli.codec).with_context(|| {
        format!(
            "unknown codec {:?} (pcma, pcmu, g722, opus, x-msrta)",
            cli.codec
        )
    })?;
    let topology = Topology::from_name(&cli.topology).with_context(|| {
        format!(
            "unknown topology {:?} (edge, channeldata, direct, plain)",
            cli.topology
        )
    })?;
    let (signaling, separate) = match cli.signaling.as_str() {
        "inline-udp" | "udp" => (SignalingMode::InlineUdp, None),
        "inline-tcp" | "tcp" => (SignalingMode::InlineTcp, None),
        "hep" => (SignalingMode::Hep, None),
        "none" => (SignalingMode::None, None),
        s if s.starts_with("separate:") => (
            SignalingMode::InlineUdp,
            Some(PathBuf::from(&s["separate:".len()..])),
        ),
        s => bail!("unknown signaling {s:?} (inline-udp, inline-tcp, hep, separate:FILE, none)"),
    };
    for (v, n) in [
        (cli.loss, "--loss"),
        (cli.reorder, "--reorder"),
        (cli.duplicate, "--duplicate"),
    ] {
        if !(0.0..=100.0).contains(&v) {
            bail!("{n}: expected a percentage 0..100");
        }
    }
    if !(cli.jitter_ms.is_finite() && cli.jitter_ms >= 0.0) {
        bail!("--jitter-ms: expected a non-negative number");
    }
    let drift = match &cli.drift_ppm {
        Some(s) => {
            let (a, b) = pair(s, "--drift-ppm")?;
            if a.abs() > 100_000.0 || b.abs() > 100_000.0 {
                bail!("--drift-ppm: at most ±100000 ppm");
            }
            [a, b]
        }
        None => [0.0, 0.0],
    };
    let hold = match &cli.hold {
        Some(s) => {
            let (a, b) = pair(s, "--hold")?;
            let (a, b) = (secs_ms(a, "--hold")?, secs_ms(b, "--hold")?);
            if b <= a {
                bail!("--hold FROM,TO: TO must be after FROM");
            }
            Some((a, b))
        }
        None => None,
    };
    let mut dtmf = Vec::new();
    for d in &cli.dtmf {
        let (digits, at) = d
            .rsplit_once('@')
            .with_context(|| format!("--dtmf {d:?}: expected DIGITS@SECS"))?;
        if digits.is_empty()
            || !digits
                .chars()
                .all(|c| c.is_ascii_digit() || "*#ABCDabcd".contains(c))
        {
            bail!("--dtmf {d:?}: digits are 0-9 * # A-D");
        }
        let at: f64 = at.parse().with_context(|| format!("--dtmf {d:?}"))?;
        dtmf.push(DtmfBurst {
            digits: digits.to_string(),
            at_ms: secs_ms(at, "--dtmf")?,
        });
    }
    let duration_ms = secs_ms(cli.duration, "--duration")?;
    if duration_ms < 100 {
        bail!("--duration: at least 0.1 s");
    }
    if cli.calls == 0 {
        bail!("--calls: at least 1");
    }
    let stagger_us = match cli.stagger_ms {
        Some(ms) => {
            if !(ms.is_finite() && ms >= 0.0) {
                bail!("--stagger-ms: expected a non-negative number of milliseconds");
            }
            (ms * 1000.0).round() as u64
        }
        None => GenConfig::default_stagger_us(cli.calls, duration_ms),
    };
    let cfg = GenConfig {
        calls: cli.calls,
        stagger_us,
        seed: cli.seed,
        start_unix_us: cli
            .start
            .map_or(DEFAULT_START_UNIX_US, |s| s.saturating_mul(1_000_000)),
        call: CallOptions {
            codec,
            topology,
            signaling,
            duration_ms,
            early_media: !cli.no_early_media,
            remote_candidates_reinvite: !cli.no_remote_candidates,
            rtcp: cli.rtcp,
            ice_checks: cli.ice_checks,
            impairments: Impairments {
                loss_pct: cli.loss,
                reorder_pct: cli.reorder,
                duplicate_pct: cli.duplicate,
                jitter_ms: cli.jitter_ms,
                drift_ppm: drift,
                mid_call_roc: cli.mid_call_roc,
                seq_wrap: cli.seq_wrap,
                rekey_at_ms: cli.rekey_at.map(|s| secs_ms(s, "--rekey-at")).transpose()?,
                hold_ms: hold,
                ssrc_change_at_ms: cli
                    .ssrc_change_at
                    .map(|s| secs_ms(s, "--ssrc-change-at"))
                    .transpose()?,
                dtmf,
            },
        },
    };
    Ok((cfg, separate))
}

fn create(path: &PathBuf) -> Result<PcapWriter<BufWriter<File>>> {
    let f = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(PcapWriter::new(BufWriter::with_capacity(1 << 20, f))?)
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let (cfg, separate) = config(&cli)?;
    let mut out = create(&cli.out)?;
    let mut sig_out = match &separate {
        Some(p) => Some(create(p)?),
        None => None,
    };
    let started = Instant::now();
    let mut generator = Generator::new(cfg.clone());
    let mut media_frames = 0u64;
    for frame in generator.by_ref() {
        match (&mut sig_out, frame.kind) {
            (Some(s), FrameKind::Signaling) => s.write_frame(frame.at_us, &frame.data)?,
            _ => {
                if matches!(frame.kind, FrameKind::Media | FrameKind::Rtcp) {
                    media_frames += 1;
                }
                out.write_frame(frame.at_us, &frame.data)?
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (frames, bytes) = (out.frames(), out.bytes());
    out.finish()?;
    let mut sig_frames = 0;
    if let Some(s) = sig_out {
        sig_frames = s.frames();
        s.finish()?;
    }
    let reports = generator.into_reports();
    if let Some(m) = &cli.manifest {
        let json = manifest_json(&cfg, &reports);
        let f = File::create(m).with_context(|| format!("cannot create {}", m.display()))?;
        let mut w = BufWriter::new(f);
        serde_json::to_writer_pretty(&mut w, &json)?;
        w.write_all(b"\n")?;
        w.flush()?;
    }
    eprintln!(
        "{}: {} calls, {} frames ({} media), {:.1} MB{} in {:.2} s ({:.0} frames/s)",
        cli.out.display(),
        reports.len(),
        frames,
        media_frames,
        bytes as f64 / 1e6,
        if sig_frames > 0 {
            format!(", {sig_frames} signaling frames in the separate file")
        } else {
            String::new()
        },
        elapsed,
        (frames + sig_frames) as f64 / elapsed.max(1e-9)
    );
    Ok(())
}
