//! The realtime half of `bench/run`: a websocket load client.
//!
//! `cargo bench --bench realtime -- BASE TOKEN SENDER CHANNEL CLIENTS...`
//! connects CLIENTS websockets (for each count given) to a running azuma at
//! BASE, authenticates them with TOKEN, then sends messages to CHANNEL over
//! HTTP with the token SENDER (another account's, so that the sender's read
//! marker events do not go to the clients), one at a time, and times each
//! delivery: from just before the POST until a client holds the frame.
//! Prints one line per count: `delivery CLIENTS MEDIAN_MS P99_MS STRAYS`.
//!
//! TOKEN may be `@FILE`: a file of lines `TOKEN` or `TOKEN outsider`, given
//! out to the clients in turn. A message is then timed until every client
//! that is no outsider holds it; STRAYS counts the frames that reached an
//! outsider (0 when a private channel's messages reach its members only).
//!
//! With `hold N` among the counts, it connects and authenticates N clients,
//! prints `holding N`, and keeps them idle until its standard input closes.
// A benchmark that cannot go on stops with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// Messages timed per client count: fewer for many clients, since each
/// message is then many deliveries.
fn rounds(clients: usize) -> usize {
    match clients {
        0..=10 => 500,
        11..=200 => 200,
        _ => 100,
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(ws_url: &str, token: &str) -> Socket {
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url)
        .await
        .expect("connect");
    let auth = format!(r#"{{"type":"Authenticate","content":{{"token":"{token}"}}}}"#);
    socket
        .send(Message::text(auth))
        .await
        .expect("authenticate");
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) if text.contains("Welcome") => return socket,
            Some(Ok(_)) => {}
            other => panic!("no Welcome: {other:?}"),
        }
    }
}

/// The tokens TOKEN names, each with whether it is an outsider's.
fn tokens(token: &str) -> Vec<(String, bool)> {
    let Some(path) = token.strip_prefix('@') else {
        return vec![(token.to_owned(), false)];
    };
    let text = std::fs::read_to_string(path).expect("the token file");
    text.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let token = words.next()?.to_owned();
            Some((token, words.next() == Some("outsider")))
        })
        .collect()
}

/// `count` authenticated clients, each with whether it is an outsider.
async fn connect_all(ws_url: &str, token: &str, count: usize) -> Vec<(Socket, bool)> {
    let tokens = tokens(token);
    let mut sockets = Vec::with_capacity(count);
    for batch in (0..count).collect::<Vec<_>>().chunks(100) {
        let connecting = batch.iter().map(|i| {
            let (token, outsider) = &tokens[i % tokens.len()];
            async move { (connect(ws_url, token).await, *outsider) }
        });
        sockets.extend(futures_util::future::join_all(connecting).await);
    }
    sockets
}

/// The round number in a `Message` frame whose content is `bench N`.
fn round_of(text: &str) -> Option<usize> {
    let at = text.find(r#""content":"bench "#)? + r#""content":"bench "#.len();
    let digits: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    sorted[((sorted.len() as f64 * fraction) as usize).min(sorted.len() - 1)]
}

async fn delivery(base: &str, token: &str, sender: &str, channel: &str, clients: usize) {
    let ws_url = format!("{}/init_ws", base.replacen("http://", "ws://", 1));
    let sockets = connect_all(&ws_url, token, clients).await;
    let members = sockets.iter().filter(|(_, outsider)| !outsider).count();
    let (arrived, mut arrivals) = mpsc::unbounded_channel::<(usize, Instant, bool)>();
    let readers: Vec<_> = sockets
        .into_iter()
        .map(|(mut socket, outsider)| {
            let arrived = arrived.clone();
            tokio::spawn(async move {
                while let Some(Ok(frame)) = socket.next().await {
                    if let Message::Text(text) = frame
                        && let Some(round) = round_of(&text)
                        && arrived.send((round, Instant::now(), outsider)).is_err()
                    {
                        return;
                    }
                }
            })
        })
        .collect();
    drop(arrived);
    let mut strays = 0;

    // reqwest's TLS (unused here) needs the process's choice of cryptography.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let url = format!("{base}/message/send");
    let mut latencies = Vec::new();
    for round in 0..rounds(clients) {
        let started = Instant::now();
        let response = http
            .post(&url)
            .bearer_auth(sender)
            .json(&serde_json::json!({"channel": channel, "content": format!("bench {round}")}))
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 200);
        let mut received = 0;
        while received < members {
            let (r, at, outsider) = arrivals.recv().await.expect("readers alive");
            if outsider {
                strays += 1;
            } else if r == round {
                latencies.push(at - started);
                received += 1;
            }
        }
    }
    // What was still on its way to an outsider.
    tokio::time::sleep(Duration::from_millis(200)).await;
    while let Ok((_, _, outsider)) = arrivals.try_recv() {
        strays += usize::from(outsider);
    }
    for reader in readers {
        reader.abort();
    }
    latencies.sort();
    println!(
        "delivery {clients} {:.2} {:.2} {strays}",
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0
    );
}

async fn hold(base: &str, token: &str, clients: usize) {
    let ws_url = format!("{}/init_ws", base.replacen("http://", "ws://", 1));
    let sockets = connect_all(&ws_url, token, clients).await;
    // Keep reading (so pings are answered) until stdin closes.
    let readers: Vec<_> = sockets
        .into_iter()
        .map(|(mut socket, _)| tokio::spawn(async move { while socket.next().await.is_some() {} }))
        .collect();
    println!("holding {clients}");
    let mut line = String::new();
    let _ = tokio::task::spawn_blocking(move || std::io::stdin().read_line(&mut line)).await;
    for reader in readers {
        reader.abort();
    }
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; skip flags.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let [base, token, sender, channel, counts @ ..] = args.as_slice() else {
        eprintln!("usage: realtime BASE TOKEN SENDER CHANNEL CLIENTS... [hold N]");
        std::process::exit(2);
    };
    let mut counts = counts.iter();
    while let Some(count) = counts.next() {
        if count == "hold" {
            let n = counts.next().and_then(|n| n.parse().ok()).expect("hold N");
            hold(base, token, n).await;
        } else {
            let clients = count.parse().expect("a client count");
            delivery(base, token, sender, channel, clients).await;
        }
    }
}
