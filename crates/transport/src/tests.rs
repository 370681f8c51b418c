//! Unit tests: the cleartext decision on hostile URLs, and the limits against a local server
//! that redirects, drips its body or sends more than the cap.

use std::time::Duration;

use agentos_testkit::{Reply, TestServer};

use super::*;

fn refused(url: &str) -> bool {
    matches!(check_url(url, Cleartext::LoopbackOnly), Err(UrlError::Cleartext { .. }))
}

#[test]
fn plain_http_goes_only_to_loopback_written_literally() {
    for ok in [
        "http://127.0.0.1:8082",
        "http://127.0.0.1",
        "http://127.8.9.10:1/x",
        "http://localhost:4318",
        "http://LOCALHOST",
        "http://[::1]:8082",
        "http://[0:0:0:0:0:0:0:1]",
        "http://[::ffff:127.0.0.1]:80",
        "HTTP://127.0.0.1",
        "https://ccc.example.com",
        "HTTPS://ccc.example.com",
        "https://8.8.8.8",
    ] {
        assert_eq!(check_url(ok, Cleartext::LoopbackOnly), Ok(()), "{ok}");
    }
    for bad in [
        "http://ccc.example.com",
        "HTTP://ccc.example.com",
        "Http://10.0.0.1:8082",
        "http://127.0.0.1.evil.com",
        "http://localhost.evil.com",
        "http://localhost.",
        "http://evil.localhost",
        "http://0x7f.1",
        "http://127.1",
        "http://2130706433",
        "http://0177.0.0.1",
        "http://0.0.0.0:8082",
        "http://127.0.0.1@evil.com",
        "http://127.0.0.1:8082@evil.com/v1",
        "http://user:pw@evil.com",
        "http://[::ffff:8.8.8.8]",
        "http://[::ffff:7f00:1]:80@evil.com",
        "http://[::2]",
    ] {
        assert!(refused(bad), "{bad}: {:?}", check_url(bad, Cleartext::LoopbackOnly));
    }
}

#[test]
fn the_refusal_names_the_host_connected_to_and_why_never_the_userinfo() {
    let err = check_url("http://127.0.0.1:s3cret@evil.com/v1", Cleartext::LoopbackOnly)
        .expect_err("refused");
    assert_eq!(err, UrlError::Cleartext { host: "evil.com".into() });
    let text = err.to_string();
    assert!(text.contains("evil.com") && text.contains("unencrypted"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
}

#[test]
fn allowed_cleartext_lets_plain_http_go_anywhere_but_not_other_schemes() {
    assert_eq!(check_url("http://ccc.example.com", Cleartext::Allowed), Ok(()));
    assert_eq!(check_url("http://127.0.0.1@evil.com", Cleartext::Allowed), Ok(()));
    for bad in ["ftp://127.0.0.1", "127.0.0.1:8082", "http://", "", "file:///etc/passwd"] {
        assert!(
            matches!(check_url(bad, Cleartext::Allowed), Err(UrlError::Invalid { .. })),
            "{bad}"
        );
    }
    let err = check_url("ftp://u:s3cret@host", Cleartext::Allowed).expect_err("invalid");
    assert!(!err.to_string().contains("s3cret"), "{err}");
}

#[test]
fn the_environment_allows_cleartext_only_when_it_says_yes() {
    let with = |v: &'static str| {
        Cleartext::from_vars(&move |n| (n == ENV_ALLOW_INSECURE_HTTP).then(|| v.to_owned()))
    };
    for yes in ["1", "true", "YES", " 1 "] {
        assert_eq!(with(yes), Cleartext::Allowed, "{yes}");
    }
    for no in ["0", "", "false", "no", "2"] {
        assert_eq!(with(no), Cleartext::LoopbackOnly, "{no}");
    }
    assert_eq!(Cleartext::from_vars(&|_| None), Cleartext::LoopbackOnly);
    assert_eq!(Cleartext::LoopbackOnly.or_allowed(true), Cleartext::Allowed);
    assert_eq!(Cleartext::LoopbackOnly.or_allowed(false), Cleartext::LoopbackOnly);
}

fn short() -> Limits {
    Limits { connect: Duration::from_secs(2), total: Duration::from_millis(600) }
}

#[test]
fn a_redirect_is_an_answer_never_followed() {
    let target = TestServer::always(Reply::json(200, "{}"));
    let redirect = TestServer::always(
        Reply::empty(302).with_header("Location", &format!("{}/elsewhere", target.url())),
    );
    let resp = agent(short())
        .get(format!("{}/v1/usage", redirect.url()))
        .header("Authorization", "Bearer k")
        .call()
        .expect("an answer");
    assert_eq!(resp.status().as_u16(), 302);
    assert_eq!(target.connections(), 0, "the redirect was followed");
}

#[test]
fn a_body_over_the_cap_is_an_error_not_a_cut() {
    let server = TestServer::always(Reply::text(200, &"x".repeat(1000)));
    let a = agent(short());
    let mut resp = a.get(server.url()).call().expect("an answer");
    assert_eq!(read_body(&mut resp, 999), Err(BodyError::TooLarge { limit: 999 }));
    let mut resp = a.get(server.url()).call().expect("an answer");
    assert_eq!(read_body(&mut resp, 1000).map(|b| b.len()), Ok(1000));
}

#[test]
fn a_dripping_body_runs_into_the_overall_timeout() {
    // 50 pieces, 100 ms apart: each read is quick, the whole takes 5 s, the limit is 0.6 s.
    let server = TestServer::always(Reply::Drip {
        status: 200,
        chunk: b"x".to_vec(),
        every: Duration::from_millis(100),
        times: 50,
    });
    let result = agent(short()).get(server.url()).call();
    match result {
        Ok(mut resp) => assert_eq!(read_body(&mut resp, caps::SMALL), Err(BodyError::Timeout)),
        Err(e) => assert!(is_timeout(&e), "{e}"),
    }
}

#[test]
fn connect_never_waits_longer_than_the_whole_request() {
    let a = agent(Limits { connect: Duration::from_secs(60), total: Duration::from_secs(2) });
    assert_eq!(a.config().timeouts().connect, Some(Duration::from_secs(2)));
    assert!(a.config().proxy().is_none(), "a proxy from the environment");
    assert_eq!(a.config().max_redirects(), 0);
}
