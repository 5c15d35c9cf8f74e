//! Bad input never hurts: a randomized barrage (fixed seed, bounded count)
//! of malformed, truncated, oversized, wrongly typed and unicode-edge JSON,
//! paths and queries at every route of the real binary. The server must
//! never answer 500, never fall over, and answer every error with the
//! API's JSON body.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Binary, Reply, channel_at, client, register_at};

const REQUESTS: usize = 2500;
const SEED: u64 = 0x5eed_a2a4_0001;

/// xorshift64*: small, fixed, good enough to pick test cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn percent(&mut self, p: usize) -> bool {
        self.below(100) < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("GET", "/health"),
    ("POST", "/user/register"),
    ("POST", "/user/login"),
    ("POST", "/user/logout"),
    ("PATCH", "/user/update"),
    ("GET", "/user/self"),
    ("GET", "/user/{user}"),
    ("POST", "/user/status/set"),
    ("POST", "/channel"),
    ("GET", "/channel"),
    ("GET", "/channel/{channel}"),
    ("DELETE", "/channel"),
    ("POST", "/message/send"),
    ("GET", "/channel/{channel}/messages"),
    ("GET", "/init_ws"),
];

const FIELDS: &[&str] = &[
    "name",
    "password",
    "description",
    "channel",
    "content",
    "id",
    "status",
    "token",
];

fn edge_strings() -> Vec<String> {
    let mut s: Vec<String> = [
        "",
        " ",
        "\u{0}",
        "\u{7f}",
        "\u{200b}",
        "\u{202e}evil",
        "\u{feff}bom",
        "e\u{301}",
        "👩\u{200d}👩\u{200d}👧",
        "\u{10ffff}",
        "\u{fffd}",
        "ｆｕｌｌ",
        "\"",
        "\\",
        "null",
        "'; DROP TABLE users;--",
        "%00",
        "../../etc/passwd",
        "\n\r\t",
        "ONLINE",
        "OFFLINE",
        "APPEAR_AS_OFFLINE",
        "318cd399-f47f-478f-8d09-c9c414c3750d",
        "{318CD399-F47F-478F-8D09-C9C414C3750D}",
        "azuma",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    s.push("n".repeat(65));
    s.push("é".repeat(4001));
    s.push("😀".repeat(1100));
    s
}

fn random_value(rng: &mut Rng, strings: &[String], ids: &[String]) -> Value {
    match rng.below(12) {
        0..=3 => json!(rng.pick(strings)),
        4 => json!(rng.pick(ids)),
        5 => json!(rng.pick(&[0.0, -1.0, 1e308, 1.5, 4e9])),
        6 => json!(rng.pick(&[true, false])),
        7 => Value::Null,
        8 => json!([rng.pick(strings), 1, null]),
        9 => json!({"nested": rng.pick(strings)}),
        10 => json!(u64::MAX),
        _ => json!(format!("{}{}", rng.pick(strings), rng.pick(strings))),
    }
}

fn random_body(rng: &mut Rng, strings: &[String], ids: &[String]) -> Vec<u8> {
    let shaped = |rng: &mut Rng| {
        let mut object = serde_json::Map::new();
        for field in FIELDS {
            if rng.percent(50) {
                object.insert((*field).into(), random_value(rng, strings, ids));
            }
        }
        Value::Object(object).to_string().into_bytes()
    };
    match rng.below(10) {
        0..=3 => shaped(rng),
        4 => {
            let full = shaped(rng);
            full[..rng.below(full.len() + 1)].to_vec()
        }
        5 => (0..rng.below(200)).map(|_| rng.next() as u8).collect(),
        6 => format!(r#"{{"name":"{}","password":"x"}}"#, "a".repeat(70 * 1024)).into_bytes(),
        7 => {
            let depth = 200 + rng.below(2000);
            format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
        }
        8 => rng
            .pick(&[
                &br#"{"name":"\ud800","password":"x"}"#[..],
                br#"{"name":"\x41"}"#,
                b"{\"content\":\"raw \x01 control\"}",
                b"\xef\xbb\xbf{\"name\":\"bom\",\"password\":\"x\"}",
                br#"{"name":"a","name":"b","password":"x"}"#,
                b"",
                b"  ",
                br#"{"channel":1e999999}"#,
            ])
            .to_vec(),
        _ => random_value(rng, strings, ids).to_string().into_bytes(),
    }
}

fn random_path(rng: &mut Rng, template: &str, ids: &[String], strings: &[String]) -> String {
    let segment = |rng: &mut Rng| -> String {
        match rng.below(6) {
            0 | 1 => rng.pick(ids).clone(),
            2 => rng.pick(ids).to_uppercase(),
            3 => rng
                .pick(&["", "x", "%ZZ", "%00", "😀", "..%2f..", "%20", "self"])
                .to_string(),
            4 => "a".repeat(1 + rng.below(3000)),
            _ => rng.pick(strings).clone(),
        }
    };
    let mut path = template
        .replace("{user}", &segment(rng))
        .replace("{channel}", &segment(rng));
    if template.ends_with("/messages") || rng.percent(10) {
        let mut query = Vec::new();
        for key in ["before", "after", "limit"] {
            if rng.percent(40) {
                let value = match rng.below(3) {
                    0 => rng.pick(ids).clone(),
                    1 => rng
                        .pick(&["0", "1", "50", "100", "101", "-1", "1e3", "", "x"])
                        .to_string(),
                    _ => segment(rng),
                };
                query.push(format!("{key}={value}"));
            }
        }
        if !query.is_empty() {
            path = format!("{path}?{}", query.join("&"));
        }
    }
    path
}

const CODES: &[&str] = &[
    "BAD_REQUEST",
    "UNAUTHORIZED",
    "FORBIDDEN",
    "NOT_FOUND",
    "METHOD_NOT_ALLOWED",
    "ALREADY_EXISTS",
    "PAYLOAD_TOO_LARGE",
    "TOO_MANY_REQUESTS",
    "SERVICE_UNAVAILABLE",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_bad_input_gets_json_errors_and_never_a_500() {
    let dir = tempfile::tempdir().unwrap();
    let server = Binary::start(dir.path(), &["--database", "fuzz.db"]).await;
    let http = client();
    let token = register_at(&http, &server.base, "fuzzer", "pw").await;
    let channel = channel_at(&http, &server.base, &token, "target").await;
    let me = Reply::from(
        http.get(format!("{}/user/self", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let ids = vec![
        channel,
        me.body["id"].as_str().unwrap().to_owned(),
        uuid::Uuid::new_v4().to_string(),
    ];
    let strings = edge_strings();
    let methods = ["GET", "POST", "PATCH", "DELETE", "PUT", "OPTIONS", "HEAD"];
    let mut rng = Rng(SEED);
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();

    for i in 0..REQUESTS {
        let &(route_method, template) = rng.pick(ROUTES);
        let method = if rng.percent(10) {
            *rng.pick(&methods)
        } else {
            route_method
        };
        let path = random_path(&mut rng, template, &ids, &strings);
        let Ok(url) = reqwest::Url::parse(&format!("{}{path}", server.base)) else {
            continue;
        };
        let mut request = http.request(Method::from_bytes(method.as_bytes()).unwrap(), url);
        match rng.below(10) {
            0..=6 => request = request.bearer_auth(&token),
            7 => {
                request = request.header(
                    "authorization",
                    *rng.pick(&["Bearer", "Bearer x", "Basic abc", "bearer  "]),
                )
            }
            _ => {}
        }
        if method != "GET" && method != "HEAD" || rng.percent(5) {
            let body = random_body(&mut rng, &strings, &ids);
            let content_type = if rng.percent(85) {
                "application/json"
            } else {
                rng.pick(&[
                    "text/plain",
                    "application/json; charset=latin1",
                    "application/x-www-form-urlencoded",
                    "*/*",
                ])
            };
            request = request.header("content-type", content_type).body(body);
        }
        let sent = tokio::time::timeout(Duration::from_secs(30), request.send())
            .await
            .unwrap_or_else(|_| panic!("request {i} ({method} {path}) hung"));
        let response = sent.unwrap_or_else(|e| panic!("request {i} ({method} {path}) failed: {e}"));
        let reply = Reply::from(response).await;
        let status = reply.status.as_u16();
        *statuses.entry(status).or_default() += 1;
        let what = format!("request {i}: {method} {path} -> {status} {}", reply.text);
        assert_ne!(status, 500, "{what}");
        if method == "HEAD" {
            continue; // no body, by definition
        }
        if status >= 400 {
            assert_eq!(
                reply.header("content-type"),
                Some("application/json"),
                "{what}"
            );
            let code = reply.body["message"]
                .as_str()
                .unwrap_or_else(|| panic!("{what}"));
            assert!(CODES.contains(&code), "{what}");
        } else if status != 204 {
            assert_eq!(
                reply.header("content-type"),
                Some("application/json"),
                "{what}"
            );
            assert!(!reply.body.is_null(), "{what}");
        }
    }
    // Still standing, and the file is intact.
    let index = Reply::from(http.get(&server.base).send().await.unwrap()).await;
    index.assert_json(200);
    let check: String = rusqlite::Connection::open(dir.path().join("fuzz.db"))
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    // The barrage reached past the front door: successes and errors alike.
    assert!(
        statuses.keys().any(|s| (200..300).contains(s)),
        "{statuses:?}"
    );
    assert!(statuses.len() >= 6, "{statuses:?}");
}
