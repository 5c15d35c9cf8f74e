//! `GET /openapi.json`: valid in shape, with every route of docs/API.md, and
//! describing exactly what the server serves (probed, not assumed). Frames
//! are checked against it wherever a test reads one (`helpers::ws`), and
//! docs/openapi.json is kept the same as the served document.

use std::collections::BTreeSet;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestServer;

/// Every route docs/API.md lists in its headings (`### \`GET /channel\``),
/// as the document names them: the reference is the one list of routes.
fn api_md() -> BTreeSet<(String, String)> {
    let reference = include_str!("../../docs/API.md");
    let mut routes = BTreeSet::new();
    for heading in reference.lines().filter(|l| l.starts_with("##")) {
        for quoted in heading.split('`').skip(1).step_by(2) {
            if let Some((method, path)) = quoted.split_once(' ')
                && METHODS.contains(&method)
            {
                let path = path.split('?').next().unwrap_or(path);
                routes.insert((method.to_owned(), path.to_owned()));
            }
        }
    }
    routes
}

/// The `detail` of a 404 for a path that is no route.
const ROUTE_404: &str = "no such route";

const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE",
];

async fn document(server: &TestServer) -> Value {
    let reply = server.get("/openapi.json", None).await;
    reply.assert_json(200);
    reply.body
}

/// Every (method, path) the document describes.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut all = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            all.insert((method.to_uppercase(), path.clone()));
        }
    }
    all
}

#[tokio::test]
async fn the_document_is_openapi_3_1_of_this_version_without_a_token() {
    let server = TestServer::start().await;
    let doc = document(&server).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let index = server.get("/", None).await;
    assert_eq!(doc["info"]["version"], index.body["version"]);
    assert_eq!(doc["info"]["license"]["identifier"], "AGPL-3.0-or-later");
    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(
        bearer,
        &json!({"type": "http", "scheme": "bearer", "description": bearer["description"]})
    );
    server.stop().await;
}

#[tokio::test]
async fn every_route_of_api_md_and_nothing_else_is_in_the_document() {
    let server = TestServer::start().await;
    let doc = document(&server).await;
    let want = api_md();
    assert!(want.len() >= 25, "the headings were read: {want:?}");
    assert_eq!(operations(&doc), want);
    let public = [
        "/",
        "/health",
        "/openapi.json",
        "/user/register",
        "/user/login",
        "/init_ws",
        "/app/",
        "/app/{file}",
        "/push/key",
    ];
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let statuses: Vec<&str> = op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .map(|s| s.as_str())
                .collect();
            let at = format!("{method} {path}");
            for status in ["429", "500", "503"] {
                assert!(statuses.contains(&status), "{at} lacks {status}");
            }
            let open = op["security"] == json!([{}]);
            assert_eq!(open, public.contains(&path.as_str()), "{at}: security");
            assert_eq!(statuses.contains(&"401"), !open, "{at}: 401");
            if op.get("requestBody").is_some() {
                for status in ["400", "413"] {
                    assert!(statuses.contains(&status), "{at} lacks {status}");
                }
            }
            if path.contains("{id}") {
                assert!(statuses.contains(&"400"), "{at}: a malformed id is 400");
            }
            for (status, response) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    let schema = &response["content"]["application/json"]["schema"];
                    assert_eq!(
                        schema["$ref"], "#/components/schemas/Error",
                        "{at} {status}"
                    );
                }
            }
        }
    }
    server.stop().await;
}

/// Each method on each documented path is served if and only if the
/// document says so (HEAD wherever GET), and a 405 says what is.
#[tokio::test]
async fn every_documented_path_takes_exactly_its_documented_methods() {
    let server = TestServer::start().await;
    let token = server.register("azuma", "neo").await;
    let doc = document(&server).await;
    let documented = operations(&doc);
    for (path, _) in doc["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{id}", "318cd399-f47f-478f-8d09-c9c414c3750d")
            .replace("{user}", "0e5b3d2c-6f51-4f0e-9a53-52d1c4a5e4b1")
            .replace("{file}", "main.js");
        let mut allowed: Vec<&str> = METHODS
            .iter()
            .copied()
            .filter(|m| {
                let m = if *m == "HEAD" { "GET" } else { m };
                documented.contains(&(m.to_string(), path.clone()))
            })
            .collect();
        allowed.sort_unstable();
        for method in METHODS {
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let reply = server
                .call(method.clone(), &concrete, Some(&token), None)
                .await;
            if allowed.contains(&method.as_str()) {
                assert_ne!(reply.status, 405, "{method} {path} is documented");
                // Its 404 is for the object, not the route.
                if reply.status == 404 && method != Method::HEAD {
                    assert_ne!(reply.body["detail"], ROUTE_404, "{method} {path}");
                }
            } else {
                assert_eq!(reply.status, 405, "{method} {path} is not documented");
                let mut allow: Vec<&str> = reply.header("allow").unwrap().split(", ").collect();
                allow.sort_unstable();
                assert_eq!(allow, allowed, "Allow of {path}");
            }
        }
    }
    server.stop().await;
}

/// Paths the document does not have are not served: every path of up to
/// three segments made of the document's own segments (and an id) that is
/// not one of its paths answers 404.
#[tokio::test]
async fn no_route_is_served_that_the_document_does_not_describe() {
    let server = TestServer::start().await;
    let token = server.register("azuma", "neo").await;
    let doc = document(&server).await;
    let paths: BTreeSet<String> = doc["paths"].as_object().unwrap().keys().cloned().collect();
    let segments: BTreeSet<String> = paths
        .iter()
        .flat_map(|p| {
            p.split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    let mut candidates: Vec<Vec<String>> = vec![vec![]];
    let mut probed = 0;
    for _ in 0..3 {
        candidates = candidates
            .iter()
            .flat_map(|c| {
                segments
                    .iter()
                    .map(move |s| [c.clone(), vec![s.clone()]].concat())
            })
            .collect();
        for candidate in &candidates {
            let template = format!("/{}", candidate.join("/"));
            // A path of the document, an id in any `{id}` (a malformed one
            // is that route's 400).
            let documented = paths.iter().any(|p| {
                let p: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
                p.len() == candidate.len()
                    && p.iter().zip(candidate).all(|(p, c)| *p == "{id}" || p == c)
            });
            if documented {
                continue;
            }
            let concrete = template.replace("{id}", "318cd399-f47f-478f-8d09-c9c414c3750d");
            let reply = server.get(&concrete, Some(&token)).await;
            assert_eq!(
                reply.status, 404,
                "GET {concrete} is served but not documented"
            );
            probed += 1;
        }
    }
    assert!(probed > 1000, "only {probed} paths probed");
    server.stop().await;
}

/// The `type` values a schema's `oneOf` allows.
fn frame_types(doc: &Value, schema: &str) -> BTreeSet<String> {
    let schema = &doc["components"]["schemas"][schema];
    let mut types = BTreeSet::new();
    for variant in schema["oneOf"].as_array().expect("oneOf") {
        let variant = match variant["$ref"].as_str() {
            Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap()],
            None => variant,
        };
        match variant["oneOf"].as_array() {
            Some(inner) => {
                for v in inner {
                    types.insert(
                        v["properties"]["type"]["enum"][0]
                            .as_str()
                            .unwrap()
                            .to_owned(),
                    );
                }
            }
            None => {
                types.insert(
                    variant["properties"]["type"]["enum"][0]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                );
            }
        }
    }
    types
}

#[tokio::test]
async fn the_websocket_frames_are_schemas_of_the_document() {
    let server = TestServer::start().await;
    let doc = document(&server).await;
    let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        frame_types(&doc, "ClientFrame"),
        set(&["Authenticate", "Typing"])
    );
    let server_frames = [
        "Welcome",
        "Error",
        "Message",
        "MessageUpdated",
        "MessageDeleted",
        "ReadMarker",
        "Typing",
        "ChannelCreated",
        "ChannelDeleted",
        "MemberAdded",
        "MemberRemoved",
        "Status",
    ];
    assert_eq!(frame_types(&doc, "ServerFrame"), set(&server_frames));
    server.stop().await;
}

/// The limits the web client reads from the document (`web/limits.js`),
/// where it reads them: docs/API.md's numbers, and the typing interval.
#[tokio::test]
async fn the_document_states_the_limits_the_web_client_reads() {
    let server = TestServer::start().await;
    let doc = document(&server).await;
    let schemas = &doc["components"]["schemas"];
    let parameter = |path: &str, name: &str| {
        let parameters = doc["paths"][path]["get"]["parameters"].as_array();
        let found = parameters.and_then(|all| all.iter().find(|p| p["name"] == name));
        found.expect("the parameter")["schema"].clone()
    };
    let typing = schemas["ClientFrame"]["oneOf"]
        .as_array()
        .and_then(|frames| {
            frames
                .iter()
                .find(|f| f["properties"]["type"]["enum"][0] == "Typing")
        })
        .expect("the Typing frame");
    for (what, value, expected) in [
        ("content", &schemas["MessageContent"]["maxLength"], 4000),
        ("channel name", &schemas["ChannelName"]["maxLength"], 100),
        ("description", &schemas["Description"]["maxLength"], 1024),
        ("user name", &schemas["UserName"]["maxLength"], 64),
        ("password", &schemas["Password"]["maxLength"], 1024),
        (
            "unread",
            &schemas["Unread"]["properties"]["unread"]["maximum"],
            1000,
        ),
        (
            "search q",
            &parameter("/message/search", "q")["maxLength"],
            200,
        ),
        (
            "history limit",
            &parameter("/channel/{id}/messages", "limit")["maximum"],
            100,
        ),
        ("typing interval", &typing["x-azuma-interval-ms"], 3000),
        (
            "upload limit",
            &doc["paths"]["/attachment"]["post"]["requestBody"]["x-azuma-max-bytes"],
            25 << 20,
        ),
    ] {
        assert_eq!(value, &json!(expected), "{what}");
    }
    server.stop().await;
}

/// The upload limit is a setting: the document states this server's.
#[tokio::test]
async fn the_document_states_this_servers_upload_limit() {
    let server = TestServer::start_with(|c| c.max_upload_mib = 3).await;
    let doc = document(&server).await;
    let stated = &doc["paths"]["/attachment"]["post"]["requestBody"]["x-azuma-max-bytes"];
    assert_eq!(stated, &json!(3 << 20));
    server.stop().await;
}

/// Found by schemathesis: serde reads a struct from an array of its
/// fields, so `[null, null]` was a valid `PATCH /user/update`.
#[tokio::test]
async fn bodies_must_be_json_objects() {
    let server = TestServer::start().await;
    let token = server.register("azuma", "neo").await;
    for (method, path, body) in [
        (Method::PATCH, "/user/update", json!([null, null])),
        (Method::PATCH, "/user/update", json!(["other", "pw"])),
        (Method::POST, "/user/register", json!(["other", "pw"])),
        (Method::POST, "/channel", json!(["general", null])),
    ] {
        let reply = server.call(method, path, Some(&token), Some(body)).await;
        reply.assert_error(400, "BAD_REQUEST");
    }
    let me = server.get("/user/self", Some(&token)).await;
    assert_eq!(me.body["name"], "azuma");
    let channels = server.get("/channel", Some(&token)).await;
    assert_eq!(channels.body, json!([]));
    server.stop().await;
}

/// docs/openapi.json, the committed copy, is the document as served: with
/// `AZUMA_WRITE_OPENAPI=1` this test writes it anew.
#[tokio::test]
async fn the_committed_document_is_the_served_one() {
    let server = TestServer::start().await;
    let served = server.get("/openapi.json", None).await;
    let pretty = serde_json::to_string_pretty(served.assert_json(200)).unwrap() + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json");
    if std::env::var_os("AZUMA_WRITE_OPENAPI").is_some() {
        std::fs::write(path, &pretty).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == pretty,
        "docs/openapi.json is not the served document: write it anew with \
         AZUMA_WRITE_OPENAPI=1 cargo test --test api openapi::the_committed"
    );
    server.stop().await;
}
