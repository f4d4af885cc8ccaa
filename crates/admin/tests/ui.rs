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
    // Opus without a stored peaks file, and no audio at all
    let r = ui_get(
        &f,
        &format!("/ui/api/calls/{}/peaks", f.ids.opus),
        &cookie,
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
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
