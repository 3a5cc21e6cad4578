//! A TCP server on 127.0.0.1 that accepts connections and never says a word: an SSH server
//! that hangs. It lives until the test process ends.

use std::net::TcpListener;

/// Starts one; returns its port.
pub fn silent_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    port
}
