//! Ogg Opus sink (RFC 7845): container structure read back with the `ogg` crate, audio decoded with libopus
//! and with `opusdec`, file checked by `opusinfo`.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

mod codec_support;
use audiopus::{
    coder::Decoder as LibDec, coder::Encoder as LibEnc, Application, Channels, SampleRate,
};
use codec_support::*;
use rec_audio::{AudioSink, OggOpusSink, OpusSettings};
use std::process::Command;

fn source(rate: u32, ch: u16, secs: f64) -> (Vec<i16>, Vec<Vec<i16>>) {
    let chans: Vec<Vec<i16>> = (0..ch)
        .map(|c| speech_like(rate, secs, 20 + u32::from(c)))
        .collect();
    let n = chans[0].len();
    let inter = (0..n)
        .flat_map(|i| chans.iter().map(move |c| c[i]))
        .collect();
    (inter, chans)
}

fn encode(rate: u32, ch: u16, pcm: &[i16], settings: OpusSettings) -> (Vec<u8>, u16) {
    let mut sink = OggOpusSink::new(rate, ch, settings, 0x5eed).unwrap();
    let mut file = Vec::new();
    // odd chunk size to exercise frame buffering across writes
    for c in pcm.chunks(250 * usize::from(ch)) {
        sink.write(c, &mut file);
    }
    sink.finish(&mut file);
    assert!(sink.header_patch().is_none());
    assert_eq!(sink.encode_errors(), 0);
    (file, sink.pre_skip())
}

fn rate_enum(rate: u32) -> SampleRate {
    match rate {
        8000 => SampleRate::Hz8000,
        16000 => SampleRate::Hz16000,
        _ => SampleRate::Hz48000,
    }
}

/// Structure per RFC 7845 and audio fidelity, for 8/16/48 kHz mono and 16 kHz stereo.
#[test]
fn opus_sink_structure_and_audio() {
    for (rate, ch) in [(8000u32, 1u16), (16000, 1), (16000, 2), (48000, 1)] {
        let secs = 3.0;
        let (pcm, chans) = source(rate, ch, secs);
        let n = chans[0].len() as u64;
        let (file, pre_skip) = encode(rate, ch, &pcm, OpusSettings::default());

        // pre-skip = libopus lookahead at this rate, in 48 kHz units (RFC 7845 §4.2)
        let probe = LibEnc::new(
            rate_enum(rate),
            if ch == 2 {
                Channels::Stereo
            } else {
                Channels::Mono
            },
            match OpusSettings::default().application {
                rec_audio::ogg_opus::OpusApplication::Voip => Application::Voip,
                rec_audio::ogg_opus::OpusApplication::Audio => Application::Audio,
                rec_audio::ogg_opus::OpusApplication::LowDelay => Application::LowDelay,
            },
        )
        .unwrap();
        assert_eq!(
            u64::from(pre_skip),
            u64::from(probe.lookahead().unwrap()) * 48000 / u64::from(rate)
        );

        let mut rd = ogg::reading::PacketReader::new(std::io::Cursor::new(&file));
        let head = rd.read_packet().unwrap().unwrap();
        assert!(
            head.first_in_stream() && head.last_in_page(),
            "OpusHead alone on the first page"
        );
        assert_eq!(&head.data[..8], b"OpusHead");
        assert_eq!(head.data.len(), 19);
        assert_eq!((head.data[8], head.data[9]), (1, ch as u8));
        assert_eq!(u16::from_le_bytes([head.data[10], head.data[11]]), pre_skip);
        assert_eq!(
            u32::from_le_bytes(head.data[12..16].try_into().unwrap()),
            rate
        );
        assert_eq!(head.data[18], 0, "mapping family 0");
        let tags = rd.read_packet().unwrap().unwrap();
        assert!(tags.last_in_page() && &tags.data[..8] == b"OpusTags");
        assert_eq!(tags.absgp_page(), 0);

        let mut dec = LibDec::new(
            rate_enum(rate),
            if ch == 2 {
                Channels::Stereo
            } else {
                Channels::Mono
            },
        )
        .unwrap();
        let mut decoded: Vec<i16> = Vec::new();
        let mut buf = vec![0i16; 5760 * 2];
        let (mut pages, mut last_gp, mut samples48) = (0, 0u64, 0u64);
        let mut eos = false;
        while let Some(p) = rd.read_packet().unwrap() {
            assert!(!eos, "nothing after EOS");
            let got = dec
                .decode(
                    Some((&p.data[..]).try_into().unwrap()),
                    (&mut buf[..]).try_into().unwrap(),
                    false,
                )
                .unwrap();
            decoded.extend_from_slice(&buf[..got * usize::from(ch)]);
            samples48 += got as u64 * 48000 / u64::from(rate);
            if p.last_in_page() {
                pages += 1;
                assert!(
                    p.absgp_page() >= last_gp,
                    "granule positions never decrease"
                );
                last_gp = p.absgp_page();
                if !p.last_in_stream() {
                    assert_eq!(
                        p.absgp_page(),
                        samples48,
                        "granule = 48 kHz samples so far incl. pre-skip"
                    );
                }
            }
            eos = p.last_in_stream();
        }
        assert!(eos, "stream ends with EOS");
        let expect_gp = u64::from(pre_skip) + n * 48000 / u64::from(rate);
        assert_eq!(last_gp, expect_gp, "final granule trims the padding");
        assert!(samples48 >= expect_gp && samples48 < expect_gp + 960);
        assert!(
            (3..=5).contains(&pages),
            "about a page per second: {pages} audio pages for {secs} s"
        );

        // drop the pre-skip, keep the source length, compare each channel
        let skip = (u64::from(pre_skip) * u64::from(rate) / 48000) as usize * usize::from(ch);
        let audio = &decoded[skip..skip + pcm.len()];
        for (c, want) in chans.iter().enumerate() {
            let got: Vec<i16> = audio
                .iter()
                .skip(c)
                .step_by(usize::from(ch))
                .copied()
                .collect();
            let corr = correlation(want, &got);
            assert!(corr >= 0.9, "{rate} Hz ch{c}/{ch}: correlation {corr:.3}");
        }
    }
}

/// `opusinfo` accepts the file without warnings; `opusdec` decodes it to the source length and audio.
#[test]
fn opus_sink_valid_for_opus_tools() {
    if !have("opusinfo") || !have("opusdec") {
        return;
    }
    for (rate, ch, frame_ms) in [(16000u32, 1u16, 20u8), (8000, 2, 60)] {
        let (pcm, chans) = source(rate, ch, 2.0);
        let settings = OpusSettings {
            frame_ms,
            ..OpusSettings::default()
        };
        let (file, _) = encode(rate, ch, &pcm, settings);
        let path = temp_path(&format!("sink{rate}_{ch}.opus"));
        let wav = temp_path(&format!("sink{rate}_{ch}.wav"));
        std::fs::write(&path, &file).unwrap();
        let info = run(Command::new("opusinfo").arg(&path));
        assert!(
            !info.contains("WARNING") && !info.contains("ERROR"),
            "{info}"
        );
        assert!(info.contains(&format!("Channels: {ch}")), "{info}");
        // opusdec --rate R resamples its 48 kHz output to R and honours pre-skip and end trimming
        run(Command::new("opusdec")
            .args(["--quiet", "--rate", &rate.to_string()])
            .arg(&path)
            .arg(&wav));
        let mut r = hound::WavReader::open(&wav).unwrap();
        assert_eq!(r.spec().channels, ch);
        let back: Vec<i16> = r.samples::<i16>().map(Result::unwrap).collect();
        let frames = back.len() / usize::from(ch);
        assert!(
            frames.abs_diff(chans[0].len()) <= rate as usize / 100,
            "length {frames} vs {}",
            chans[0].len()
        );
        for (c, want) in chans.iter().enumerate() {
            let got: Vec<i16> = back
                .iter()
                .skip(c)
                .step_by(usize::from(ch))
                .copied()
                .collect();
            let (lag, corr) = best_lag(want, &got, 64);
            assert!(
                corr >= 0.9,
                "opusdec {rate} Hz ch{c}: correlation {corr:.3} at lag {lag}"
            );
        }
        let _ = std::fs::remove_file(path);
        let _ = std::fs::remove_file(wav);
    }
}

#[test]
fn opus_sink_rejects_bad_setup() {
    use rec_audio::ogg_opus::OpusSinkError;
    assert_eq!(
        OggOpusSink::new(44100, 1, OpusSettings::default(), 1).unwrap_err(),
        OpusSinkError::UnsupportedRate(44100)
    );
    assert_eq!(
        OggOpusSink::new(16000, 3, OpusSettings::default(), 1).unwrap_err(),
        OpusSinkError::UnsupportedChannels(3)
    );
    let bad = OpusSettings {
        frame_ms: 30,
        ..OpusSettings::default()
    };
    assert_eq!(
        OggOpusSink::new(16000, 1, bad, 1).unwrap_err(),
        OpusSinkError::UnsupportedFrame(30)
    );
    // finish without audio: headers + one EOS page, granule = pre-skip
    let mut s = OggOpusSink::new(8000, 1, OpusSettings::default(), 1).unwrap();
    let mut f = Vec::new();
    s.finish(&mut f);
    let mut rd = ogg::reading::PacketReader::new(std::io::Cursor::new(&f));
    let mut last = None;
    while let Some(p) = rd.read_packet().unwrap() {
        last = Some(p);
    }
    let last = last.unwrap();
    assert!(last.last_in_stream());
    assert_eq!(last.absgp_page(), u64::from(s.pre_skip()));
}
