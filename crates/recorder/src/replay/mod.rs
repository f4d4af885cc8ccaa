//! `recorder replay`: the daemon's engine driven from capture files instead of a NIC and a TLS peer.
//!
//! Inputs are merged by capture time; SIP/HEP found in them (any port), signaling journals and trace logs
//! (`--signaling`) feed the engine's signaling side. Every call gets a file under `--out` (`*.part` until it
//! ends), a catalog row and a line of the report. Exit codes: 0 every recorded call complete, 1 some call
//! incomplete (the report says which and why), 2 unusable input or output (nothing is written).

mod input;
mod keyspec;
pub(crate) mod sealed_input;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::ValueEnum;
use rec_engine::{
    AudioFormat, CallReport, CallStatus, CaptureTimers, Engine, EngineConfig, Input, Output,
    SipMeta,
};

use crate::config::Config;
use crate::store::Store;
use input::{Item, Merged};
use rec_admin::view::CallView;

pub use input::is_capture;
pub use keyspec::parse_key_spec;

/// Output container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// RIFF WAVE PCM 16-bit.
    Wav,
    /// Ogg Opus.
    Opus,
}

/// Arguments of `recorder replay`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Capture files (pcap or pcapng) with media and, possibly, SIP or HEP.
    #[arg(value_name = "PCAP", required = true)]
    pub captures: Vec<PathBuf>,
    /// Separate signaling: a journal (pcap/pcapng) written by the daemon, or a Front End trace log.
    #[arg(long, value_name = "FILE")]
    pub signaling: Vec<PathBuf>,
    /// SRTP key for streams without signaling: `[ssrc=0xHEX,]suite=SUITE,inline=BASE64[|2^31][|1:1]`.
    #[arg(long, value_name = "SPEC")]
    pub key: Vec<String>,
    /// Also record plain RTP streams that match no call, one file per stream.
    #[arg(long)]
    pub unmatched_rtp: bool,
    /// Output directory for recordings and catalog.sqlite (default from recorder.toml: ./recordings).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Recording format (default from recorder.toml: wav).
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Mix both directions into one channel.
    #[arg(long)]
    pub mono: bool,
    /// Print the report as JSON on standard output.
    #[arg(long)]
    pub json: bool,
    /// Configuration file (defaults: the embedded recorder.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

fn engine_config(args: &Args, cfg: &Config) -> Result<EngineConfig, String> {
    let format = args.format.map(|f| match f {
        FormatArg::Wav => AudioFormat::Wav,
        FormatArg::Opus => AudioFormat::Opus,
    });
    let mut manual_keys = Vec::new();
    for k in &args.key {
        manual_keys.push(parse_key_spec(k)?);
    }
    let mut ecfg = crate::daemon::engine_config(cfg, format)?;
    ecfg.mono |= args.mono;
    ecfg.manual_keys = manual_keys;
    ecfg.record_unmatched_rtp = args.unmatched_rtp;
    Ok(ecfg)
}

/// One call of the report, as printed with `--json`: the call's catalog record in the shape of
/// `recorder query --json` (the admin API's [`CallView`]), plus what only the replay knows.
#[derive(Debug, serde::Serialize)]
struct ReportEntry<'a> {
    #[serde(flatten)]
    call: CallView<'a>,
    /// Why the status is what it is (what is missing and why).
    notes: &'a [String],
    /// Seconds of audio written.
    audio_s: f64,
}

/// One replayed call: the engine's report, the audio file, and the catalog record the store wrote.
type Replayed = (CallReport, Option<String>, rec_catalog::CallRecord);

fn fmt_time(us: i64) -> String {
    rec_catalog::time::format_rfc3339(us)
}

fn print_call(r: &CallReport, file: Option<&str>) {
    let m = &r.meta;
    let dur = m
        .ended_at_us
        .map(|e| (e - m.started_at_us) as f64 / 1e6)
        .unwrap_or(0.0);
    eprintln!(
        "call {} [{}] {} -> {} started {} {:.1} s, audio {:.1} s, {}",
        m.call_id,
        r.status.as_str(),
        if m.from.uri.is_empty() {
            "?"
        } else {
            &m.from.uri
        },
        if m.to.uri.is_empty() { "?" } else { &m.to.uri },
        fmt_time(m.started_at_us),
        dur,
        r.audio_ms as f64 / 1000.0,
        m.end_reason.as_deref().unwrap_or("-"),
    );
    if let Some(f) = file {
        eprintln!("  file: {f}");
    }
    for s in &r.streams {
        eprintln!(
            "  stream {} ssrc=0x{:08x} codec={} packets={} lost={} duplicates={} decrypt_failures={} via {}",
            s.direction.map_or("?", |d| d.as_str()),
            s.ssrc,
            s.codec,
            s.packets,
            s.lost,
            s.duplicates,
            s.decrypt_failures,
            if s.transport.is_empty() { "-" } else { &s.transport },
        );
    }
    if !r.dtmf.is_empty() {
        let digits: String = r.dtmf.iter().map(|d| d.digit).collect();
        eprintln!("  dtmf: {digits}");
    }
    for n in &r.notes {
        eprintln!("  note: {n}");
    }
}

/// Runs `recorder replay`.
pub fn run(args: Args) -> ExitCode {
    match run_inner(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("recorder replay: {e}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(args: Args) -> Result<ExitCode, String> {
    let cfg = Config::load(args.config.as_deref())?;
    let ecfg = engine_config(&args, &cfg)?;
    let ext = ecfg.format.extension();
    // open every input before anything is written
    let keys = cfg.encryption.keyring()?;
    let mut inputs = Merged::open(&args.captures, &args.signaling, keys.as_deref())?;
    let mut engine = Engine::new(ecfg).map_err(|e| format!("configuration [policy]: {e}"))?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(&cfg.recording.out));
    let mut store = Store::open(&out, ext)?;
    store.set_encryption(cfg.encryption.writing_keys()?);
    store.set_sealer(crate::integrity::sealer(&cfg, &out)?);

    let (total, _) = inputs.progress();
    let bar = (std::io::stderr().is_terminal() && total > 32 << 20).then(|| {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {elapsed}/{eta} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });

    let mut reports: Vec<Replayed> = Vec::new();
    let mut timers = CaptureTimers::new();
    let mut last_at = 0i64;
    let mut items = 0u64;
    loop {
        let more = inputs.next(|item| {
            let at = match item {
                Item::Frame { at_us, .. } | Item::Sip { at_us, .. } => at_us,
            };
            timers.before(&mut engine, at);
            match item {
                Item::Frame { at_us, link, data } => engine.handle_input(Input::Packet {
                    at_us,
                    link,
                    frame: data,
                }),
                Item::Sip { at_us, bytes } => engine.handle_input(Input::Sip {
                    at_us,
                    // the operator's own signaling file ranks above every source
                    meta: SipMeta {
                        origin: rec_engine::SipOrigin::Journal,
                        ..SipMeta::default()
                    },
                    bytes,
                }),
            }
            last_at = last_at.max(at);
        });
        drain(&mut engine, &mut store, &mut reports);
        if !more {
            break;
        }
        items += 1;
        if let Some(b) = &bar {
            if items.is_multiple_of(4096) {
                b.set_position(inputs.progress().1);
                b.set_message(format!("{} calls", engine.active_calls()));
            }
        }
    }
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    engine.finish(last_at);
    drain(&mut engine, &mut store, &mut reports);

    for e in &inputs.read_errors {
        eprintln!("warning: {e}");
    }
    for e in &store.errors {
        eprintln!("error: {e}");
    }
    let stats = engine.stats();
    if items == 0 {
        return Err("the inputs hold no packet or record".into());
    }
    for (r, f, _) in &reports {
        print_call(r, f.as_deref());
    }
    eprintln!(
        "{} call(s); frames {} (malformed {}), SIP messages {} (unparsable {}), media packets matched {}, unmatched {}",
        reports.len(),
        stats.frames,
        stats.malformed_frames,
        stats.sip_messages,
        stats.sip_errors,
        stats.media_matched,
        stats.media_unmatched
    );
    if args.json {
        let entries: Vec<ReportEntry<'_>> = reports
            .iter()
            .map(|(r, _, record)| ReportEntry {
                call: CallView::new(record),
                notes: &r.notes,
                audio_s: r.audio_ms as f64 / 1000.0,
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&entries).map_err(|e| e.to_string())?
        );
    }
    let incomplete = reports.iter().any(|(r, _, _)| {
        matches!(
            r.status,
            CallStatus::Partial
                | CallStatus::NoMedia
                | CallStatus::Undecodable
                | CallStatus::DecryptFailure
        )
    });
    Ok(if incomplete || !store.errors.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn drain(engine: &mut Engine, store: &mut Store, reports: &mut Vec<Replayed>) {
    while let Some(out) = engine.poll_output() {
        match out {
            Output::CallStarted { call, meta } => store.started(call, &meta),
            Output::CallUpdated { call, meta } => store.updated(call, &meta),
            Output::Audio { call, chunk } => store.audio(call, &chunk),
            Output::Rtp { call, batch } => store.rtp(call, &batch),
            Output::CallEnded { call, report } => {
                let (file, storage_failed) = store.ended(call, &report);
                let mut report = *report;
                if storage_failed {
                    report.status = CallStatus::Partial;
                    report.notes.push(
                        "storage failed (see the errors above): the recording is incomplete or missing".into(),
                    );
                }
                let mut record = store.last_ended.take().unwrap_or_default();
                if storage_failed {
                    record.status = rec_catalog::CallStatus::Partial;
                }
                reports.push((report, file, record));
            }
        }
    }
}
