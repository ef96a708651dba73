//! Downloads against servers that lie or stall, on the loopback interface only: each fails with a
//! message within its limits, allocates nothing from what a header claims, and writes nothing.

use skilang_data::catalog;
use skilang_data::fetch::{download, Timeouts};
use skilang_lang::spec::BuiltinSource;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// A one-connection-at-a-time server on 127.0.0.1 that answers every request with `respond`
/// (given the request's first line), for at most `connections` requests. Returns its base address.
fn serve(connections: usize, respond: fn(&str, &mut std::net::TcpStream)) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 4096];
            let n = stream.read(&mut request).unwrap_or(0);
            let text = String::from_utf8_lossy(&request[..n]).into_owned();
            respond(text.lines().next().unwrap_or(""), &mut stream);
        }
    });
    base
}

fn quick() -> Timeouts {
    Timeouts { idle: Duration::from_secs(1), total: Duration::from_secs(10) }
}

#[test]
fn a_stalled_server_fails_after_the_idle_timeout() {
    let base = serve(1, |_, s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nten bytes.");
        std::thread::sleep(Duration::from_secs(6));
    });
    let started = Instant::now();
    let e = download(&format!("{base}/f"), 1000, quick(), &mut |_, _| {}).unwrap_err().to_string();
    assert!(started.elapsed() < Duration::from_secs(4), "took {:?}", started.elapsed());
    assert!(e.contains("127.0.0.1") && e.contains("sent nothing for 1 s"), "{e}");
}

#[test]
fn a_server_that_never_answers_fails_too() {
    let base = serve(1, |_, _| std::thread::sleep(Duration::from_secs(6)));
    let started = Instant::now();
    let e = download(&format!("{base}/f"), 1000, quick(), &mut |_, _| {}).unwrap_err().to_string();
    assert!(started.elapsed() < Duration::from_secs(4), "took {:?}", started.elapsed());
    assert!(e.contains("sent nothing"), "{e}");
}

#[test]
fn an_announced_length_beyond_the_file_is_refused_before_reading() {
    for claim in [1u64 << 62, u64::MAX] {
        let base = serve(1, if claim == u64::MAX { huge_max } else { huge_62 });
        let e = download(&format!("{base}/f"), 1000, quick(), &mut |_, _| {}).unwrap_err().to_string();
        assert!(e.contains(&format!("sends {claim} bytes")) && e.contains("at most 1000 bytes"), "{e}");
    }
}

fn huge_62(_: &str, s: &mut std::net::TcpStream) {
    let _ = s.write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\nabc", 1u64 << 62).as_bytes());
}

fn huge_max(_: &str, s: &mut std::net::TcpStream) {
    let _ = s.write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\nabc", u64::MAX).as_bytes());
}

#[test]
fn an_endless_body_stops_at_the_files_size() {
    let base = serve(1, |_, s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        let block = [b'x'; 4096];
        while s.write_all(&block).is_ok() {}
    });
    let e = download(&format!("{base}/f"), 100_000, quick(), &mut |_, _| {}).unwrap_err().to_string();
    assert!(e.contains("at most 100000 bytes"), "{e}");
}

#[test]
fn a_mirror_with_the_wrong_file_writes_nothing() {
    let base = serve(2, |_, s| {
        let body = b"not the census data\n";
        let _ = s.write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).as_bytes());
        let _ = s.write_all(body);
    });
    let dir = std::env::temp_dir().join(format!("skilang-mirror-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let e =
        catalog::install(BuiltinSource::Adult, &dir, Some(&base), quick(), &mut |_, _, _| {}).unwrap_err().to_string();
    assert!(e.contains("adult.data") && e.contains("not the published") && e.contains("nothing was written"), "{e}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "nothing written");
    std::fs::remove_dir_all(&dir).ok();
}
