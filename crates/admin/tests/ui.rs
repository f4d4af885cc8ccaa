//! The web UI's server side over real TLS, without a browser (the browser test is
//! `crates/recorder/tests/web_ui.rs`): security headers, sign-in and its cookie, CSRF and origin checks,
//! sign-out, roles, search paging/sorting, peaks, and the audit of it all.

mod common;

use common::*;
use rec_audio::peaks::parse_peaks;
use reqwest::StatusCode;
use serde_json::Value;

/// Signs in with `token`; returns the `Cookie` header value of the session.
async fn sign_in(f: &Fixture, token: &str) -> String {
    let r = f
        .no_redirect
        .post(f.url("/ui/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", format!("https://localhost:{}", f.addr.port()))
        .body(format!("token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/ui/");
    let set = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    for flag in ["Secure", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(flag), "{set}");
    }
    set.split(';').next().unwrap().to_owned()
}

async fn ui_get(
    f: &Fixture,
    path: &str,
    cookie: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = f.client.get(f.url(path)).header("cookie", cookie);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn pages_carry_a_strict_csp_and_sign_in_is_checked() {
    let f = start().await;
    for path in ["/ui/", "/ui/app.js", "/ui/app.css"] {
        let r = f.get_with(path, None, &[]).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        for d in [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(d), "{path}: {csp}");
        }
        assert!(!csp.contains("unsafe"), "{csp}");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(r.headers()["x-frame-options"], "DENY");
    }
    // the page's script never builds HTML from strings
    let js = f
        .get_with("/ui/app.js", None, &[])
        .await
        .text()
        .await
        .unwrap();
    for sink in [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
    ] {
        assert!(!js.contains(sink), "app.js uses {sink}");
    }
    // a wrong token: back to the form, no cookie
    let r = f
        .no_redirect
        .post(f.url("/ui/login"))
        .body("token=wrong")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/ui/?signin=failed");
    assert!(r.headers().get("set-cookie").is_none());
    // from another site: refused even with a good token
    let r = f
        .no_redirect
        .post(f.url("/ui/login"))
        .body(format!("token={OPS_TOKEN}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.headers().get("set-cookie").is_none());
    // a bearer token is not a session
    let r = f.get_with("/ui/api/calls", Some(OPS_TOKEN), &[]).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let lines = f.audit_lines();
    assert!(lines
        .iter()
        .any(|l| l["path"] == "/ui/login" && l["status"] == 303 && l["token_name"].is_null()));
    let text = std::fs::read_to_string(&f.audit_log).unwrap();
    assert!(!text.contains(OPS_TOKEN) && !text.contains("wrong"));
    f.stop().await;
}

#[tokio::test]
async fn sessions_need_csrf_for_sign_out_and_end_with_it() {
    let f = start().await;
    let cookie = sign_in(&f, OPS_TOKEN).await;
    let who: Value = ui_get(&f, "/ui/api/whoami", &cookie, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(who["signed_in"], true);
    assert_eq!(who["name"], "ops");
    assert_eq!(who["role"], "admin");
    let csrf = who["csrf"].as_str().unwrap().to_owned();
    assert_eq!(csrf.len(), 64);
    let logout = |csrf: Option<String>, origin: Option<&'static str>| {
        let mut req = f.client.post(f.url("/ui/logout")).header("cookie", &cookie);
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send()
    };
    assert_eq!(
        logout(None, None).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        logout(Some("0".repeat(64)), None).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        logout(Some(csrf.clone()), Some("https://evil.example"))
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    // still signed in after the refused attempts
    let r = ui_get(&f, "/ui/api/calls", &cookie, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let r = logout(Some(csrf), None).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    let r = ui_get(&f, "/ui/api/calls", &cookie, &[]).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let who: Value = ui_get(&f, "/ui/api/whoami", &cookie, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(who, serde_json::json!({"signed_in": false}));
    // a forged cookie is no session
    let r = ui_get(
        &f,
        "/ui/api/calls",
        &format!("rec_session={}", "a".repeat(64)),
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let lines = f.audit_lines();
    assert!(lines
        .iter()
        .any(|l| l["path"] == "/ui/logout" && l["status"] == 403 && l["token_name"] == "ops"));
    assert!(lines
        .iter()
        .any(|l| l["path"] == "/ui/logout" && l["status"] == 200 && l["token_name"] == "ops"));
    f.stop().await;
}

#[tokio::test]
async fn search_pages_and_sorts_on_the_server() {
    let f = start().await;
    let cookie = sign_in(&f, OPS_TOKEN).await;
    let page = |q: &'static str| {
        let cookie = cookie.clone();
        let f = &f;
        async move {
            let r = ui_get(f, &format!("/ui/api/calls?{q}"), &cookie, &[]).await;
            assert_eq!(r.status(), StatusCode::OK, "{q}");
            r.json::<Value>().await.unwrap()
        }
    };
    let all = page("limit=2").await;
    assert_eq!(all["total"], 6);
    assert_eq!(all["calls"].as_array().unwrap().len(), 2);
    // newest first by default; the second page continues it
    let ids = |v: &Value| -> Vec<i64> {
        v["calls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect()
    };
    let first = ids(&all);
    let second = ids(&page("limit=2&offset=2").await);
    let everything = ids(&page("limit=6").await);
    assert_eq!([first, second].concat(), everything[..4]);
    assert_eq!(
        ids(&page("limit=6&order=asc").await),
        everything.iter().rev().copied().collect::<Vec<_>>()
    );
    // the number in national notation finds the E.164 caller
    let n = page("number=020%208123%204567").await;
    assert_eq!(ids(&n), vec![f.ids.complete]);
    let r = page("status=recording").await;
    assert!(ids(&r).contains(&f.ids.recording) && !ids(&r).contains(&f.ids.complete));
    let p = page("party=ALICE").await;
    assert_eq!(p["total"], 6, "every fixture call is from Alice");
    let r = ui_get(&f, "/ui/api/calls?sort=id", &cookie, &[]).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["parameter"], "sort");
    // the detail
    let d: Value = ui_get(
        &f,
        &format!("/ui/api/calls/{}", f.ids.complete),
        &cookie,
        &[],
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(d["call"]["call_id"], "a84b4c76e66710@pc33.atlanta.example");
    assert_eq!(d["related"], serde_json::json!([]));
    let lines = f.audit_lines();
    assert!(lines.iter().any(|l| l["path"] == "/ui/api/calls"
        && l["query"] == "number=020%208123%204567"
        && l["token_name"] == "ops"));
    f.stop().await;
}

#[tokio::test]
async fn listeners_play_but_never_download() {
    let f = start().await;
    let complete = f.ids.complete;
    // the bearer API: downloads need the admin role
    let r = f
        .get_with(
            &format!("/api/recordings/{complete}/audio"),
            Some(LISTENER_TOKEN),
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = f
        .get_with(
            &format!("/api/recordings/{complete}"),
            Some(LISTENER_TOKEN),
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "metadata is fine");
    let listener = sign_in(&f, LISTENER_TOKEN).await;
    let admin = sign_in(&f, OPS_TOKEN).await;
    let audio = format!("/ui/api/calls/{complete}/audio");
    let download = format!("/ui/api/calls/{complete}/download");
    let media = [("sec-fetch-dest", "audio"), ("range", "bytes=0-99")];
    // a listener: the player's requests only, inline
    let r = ui_get(&f, &audio, &listener, &media).await;
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("inline"));
    assert_eq!(r.bytes().await.unwrap(), f.wav[..100]);
    for (path, headers) in [
        (&audio, &[("sec-fetch-dest", "document")][..]),
        (&audio, &[][..]),
        (&download, &media[..]),
        (&download, &[][..]),
    ] {
        let r = ui_get(&f, path, &listener, headers).await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path} {headers:?}");
    }
    // an admin downloads, with Range
    let r = ui_get(&f, &download, &admin, &[("range", "bytes=10-19")]).await;
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(r.bytes().await.unwrap(), f.wav[10..20]);
    let lines = f.audit_lines();
    assert!(lines
        .iter()
        .any(|l| l["path"] == download && l["status"] == 403 && l["token_name"] == "listener"));
    assert!(lines
        .iter()
        .any(|l| l["path"] == audio && l["status"] == 206 && l["token_name"] == "listener"));
    assert!(lines
        .iter()
        .any(|l| l["path"] == download && l["status"] == 206 && l["token_name"] == "ops"));
    f.stop().await;
}

#[tokio::test]
async fn peaks_of_finished_and_running_calls() {
    let f = start().await;
    let cookie = sign_in(&f, LISTENER_TOKEN).await;
    // the fixture's WAV: 440 Hz left, 1 kHz right, amplitude 8000 -> high byte 31
    let r = ui_get(
        &f,
        &format!("/ui/api/calls/{}/peaks", f.ids.complete),
        &cookie,
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-recording-status"], "final");
    let p = parse_peaks(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(
        (p.channels, p.sample_rate, p.samples_per_pixel),
        (2, 8000, 160)
    );
    assert_eq!(
        p.pairs.len(),
        50 * 2,
        "1 s at 20 ms per pixel, two channels"
    );
    for pair in &p.pairs {
        assert!(
            pair.1 >= 30 << 8 && pair.1 <= 31 << 8 && pair.0 <= -(30 << 8),
            "{pair:?}"
        );
    }
    // a running call: from its .part
    let r = ui_get(
        &f,
        &format!("/ui/api/calls/{}/peaks", f.ids.recording),
        &cookie,
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-recording-status"], "recording");
    assert_eq!(
        parse_peaks(&r.bytes().await.unwrap()).unwrap().pairs.len(),
        25 * 2
    );
    // Ogg Opus, computed on demand: the fixture's file has its headers and no audio yet -> an empty waveform
    let opus_peaks = format!("/ui/api/calls/{}/peaks", f.ids.opus);
    let r = ui_get(&f, &opus_peaks, &cookie, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let p = parse_peaks(&r.bytes().await.unwrap()).unwrap();
    assert_eq!((p.channels, p.sample_rate, p.pairs.len()), (2, 48000, 0));
    // a real recording: 2 s of stereo Opus, 440 Hz left (amplitude 8000) for the first second, 1 kHz right
    // (amplitude 8000) for the second
    let opus_file = files_with_suffix(&f.root, ".opus");
    let encoded = opus_tones(16000, 2);
    std::fs::write(&opus_file, &encoded).unwrap();
    let r = ui_get(&f, &opus_peaks, &cookie, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-recording-status"], "final");
    let whole = parse_peaks(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(
        (whole.channels, whole.sample_rate, whole.samples_per_pixel),
        (2, 16000, 320)
    );
    assert_eq!(whole.pairs.len(), 100 * 2, "2 s at 20 ms per pixel");
    for (px, pair) in whole.pairs.chunks(2).enumerate() {
        // Opus is lossy: the tone's peak (8000, high byte 31) within a few percent, silence near 0
        let (l, r) = (pair[0].1, pair[1].1);
        if (5..45).contains(&px) {
            assert!((7000..9500).contains(&l) && r < 1000, "{px}: {pair:?}");
        }
        if (55..95).contains(&px) {
            assert!((7000..9500).contains(&r) && l < 1000, "{px}: {pair:?}");
        }
    }
    // the same call still running: a .part with a torn last page -> the complete pages so far
    let part = {
        let mut s = opus_file.clone().into_os_string();
        s.push(".part");
        std::path::PathBuf::from(s)
    };
    std::fs::remove_file(&opus_file).unwrap();
    std::fs::write(&part, &encoded[..encoded.len() * 3 / 5]).unwrap();
    let r = ui_get(&f, &opus_peaks, &cookie, &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["x-recording-status"], "recording");
    let running = parse_peaks(&r.bytes().await.unwrap()).unwrap();
    let n = running.pairs.len();
    // pages hold about a second each: the first second is there, the torn second page is not
    assert!(n >= 40 * 2 && n < whole.pairs.len(), "{n}");
    assert_eq!(running.pairs[..n - 2], whole.pairs[..n - 2]);
    // not Ogg at all: refused with a reason, not a panic
    std::fs::write(
        &part,
        b"RIFF\0\0\0\0WAVEfmt  and more bytes than a page header",
    )
    .unwrap();
    let r = ui_get(&f, &opus_peaks, &cookie, &[]).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // no audio at all
    let r = ui_get(
        &f,
        &format!("/ui/api/calls/{}/peaks", f.ids.no_file),
        &cookie,
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // outside the recordings root: refused like the audio
    let r = ui_get(
        &f,
        &format!("/ui/api/calls/{}/peaks", f.ids.outside),
        &cookie,
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    f.stop().await;
}

/// The one file under `root` whose name ends in `suffix`.
fn files_with_suffix(root: &std::path::Path, suffix: &str) -> std::path::PathBuf {
    let mut stack = vec![root.to_path_buf()];
    let mut found = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(suffix) {
                found.push(p);
            }
        }
    }
    assert_eq!(found.len(), 1, "{found:?}");
    found.remove(0)
}

/// `seconds` of stereo Ogg Opus at `rate`, encoded by the recorder's own Opus writer: 440 Hz on the left for
/// the first half, then 1 kHz on the right, both of amplitude 8000.
fn opus_tones(rate: u32, seconds: u32) -> Vec<u8> {
    use rec_audio::AudioSink;
    let mut sink = rec_audio::OggOpusSink::new(rate, 2, Default::default(), 0x0b05).unwrap();
    let n = rate * seconds;
    let pcm: Vec<i16> = (0..n)
        .flat_map(|i| {
            let t = f64::from(i) / f64::from(rate);
            let tone = |f: f64| (8000.0 * (std::f64::consts::TAU * f * t).sin()) as i16;
            if i < n / 2 {
                [tone(440.0), 0]
            } else {
                [0, tone(1000.0)]
            }
        })
        .collect();
    let mut out = Vec::new();
    for piece in pcm.chunks(960) {
        sink.write(piece, &mut out);
    }
    sink.finish(&mut out);
    out
}
