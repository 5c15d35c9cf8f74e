//! `GET /` and CORS.

use reqwest::Method;
use serde_json::json;

use crate::helpers::TestServer;

#[tokio::test]
async fn index_describes_the_server_from_crate_metadata() {
    let server = TestServer::start().await;
    let reply = server.get("/", None).await;
    let body = reply.assert_json(200);
    assert_eq!(
        body,
        &json!({
            "name": "azuma",
            "version": env!("CARGO_PKG_VERSION"),
            "authors": env!("CARGO_PKG_AUTHORS").split(':').collect::<Vec<_>>(),
            "license": "AGPL-3.0-or-later",
        })
    );
    server.stop().await;
}

#[tokio::test]
async fn no_cors_headers_without_the_option() {
    let server = TestServer::start().await;
    let response = server
        .client
        .get(server.url("/"))
        .header("origin", "http://localhost:5173")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    server.stop().await;
}

#[tokio::test]
async fn cors_origin_allows_a_web_client_including_on_errors() {
    let origin = "http://localhost:5173";
    let server = TestServer::start_with(|c| c.cors_origins = vec![origin.into()]).await;

    // Preflight for an authenticated JSON request.
    let preflight = server
        .client
        .request(Method::OPTIONS, server.url("/user/update"))
        .header("origin", origin)
        .header("access-control-request-method", "PATCH")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], origin);
    let methods = h["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_uppercase();
    for m in ["GET", "POST", "PATCH", "DELETE"] {
        assert!(methods.contains(m), "{methods}");
    }
    let headers = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(headers.contains("authorization") && headers.contains("content-type"));

    // Actual requests carry the header, errors included, so the client can
    // read the error body.
    for path in ["/", "/user/self"] {
        let response = server
            .client
            .get(server.url(path))
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.headers()["access-control-allow-origin"],
            origin,
            "{path}"
        );
    }

    // Another origin is refused with the API's error body.
    let response = server
        .client
        .get(server.url("/"))
        .header("origin", "http://evil.example")
        .send()
        .await
        .unwrap();
    crate::helpers::Reply::from(response)
        .await
        .assert_error(403, "FORBIDDEN");
    server.stop().await;
}

#[tokio::test]
async fn cors_star_allows_any_origin() {
    let server = TestServer::start_with(|c| c.cors_origins = vec!["*".into()]).await;
    let response = server
        .client
        .get(server.url("/"))
        .header("origin", "http://anything.example:1234")
        .send()
        .await
        .unwrap();
    let allowed = response.headers()["access-control-allow-origin"]
        .to_str()
        .unwrap();
    assert!(
        allowed == "*" || allowed == "http://anything.example:1234",
        "{allowed}"
    );
    server.stop().await;
}

#[tokio::test]
async fn head_answers_every_get_route_as_get_would_without_a_body() {
    let server = TestServer::start().await;
    let token = server.register("alice", "pw").await;
    let me = server.get("/user/self", Some(&token)).await.body["id"].clone();
    let channel = crate::channel::create_channel(&server, &token, "general").await;
    let message = crate::message::send(&server, &token, &channel, "hi").await;
    let paths = [
        "/".to_owned(),
        "/health".to_owned(),
        "/user/self".to_owned(),
        format!("/user/{}", me.as_str().unwrap()),
        "/channel".to_owned(),
        format!("/channel/{channel}"),
        format!("/channel/{channel}/messages"),
        format!("/message/{}", message["id"].as_str().unwrap()),
        "/message/search?q=hi".to_owned(),
        "/user/self/unread".to_owned(),
        "/init_ws".to_owned(),
        "/openapi.json".to_owned(),
        "/app/".to_owned(),
        "/app/main.js".to_owned(),
        "/app/nope.js".to_owned(),
        "/channel/318cd399-f47f-478f-8d09-c9c414c3750d".to_owned(),
    ];
    for path in &paths {
        let ask = |method: Method| {
            server
                .client
                .request(method, server.url(path))
                .bearer_auth(&token)
                .send()
        };
        let get = ask(Method::GET).await.unwrap();
        let head = ask(Method::HEAD).await.unwrap();
        assert_eq!(head.status(), get.status(), "{path}");
        for header in ["content-type", "content-length"] {
            assert_eq!(
                head.headers().get(header),
                get.headers().get(header),
                "{path} {header}"
            );
        }
        assert!(get.headers().contains_key("content-length"), "{path}");
        assert!(head.bytes().await.unwrap().is_empty(), "{path}");
        assert!(!get.bytes().await.unwrap().is_empty(), "{path}");
    }
    // HEAD is not a way around authentication.
    let anonymous = server
        .client
        .head(server.url("/user/self"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    server.stop().await;
}

/// `GET /app/` carries a strong `ETag`: the same one again is `304` with
/// no body; it is gzipped for a client that takes gzip (and only then),
/// and says that it varies with `Accept-Encoding`.
#[tokio::test]
async fn the_web_page_is_cached_by_etag_and_gzipped_on_request() {
    use std::io::Read;

    let server = TestServer::start().await;
    let get = |headers: &[(&str, &str)]| {
        let mut request = server.client.get(server.url("/app/"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    let plain = get(&[]).await.unwrap();
    assert_eq!(plain.status(), 200);
    assert_eq!(plain.headers().get("content-encoding"), None);
    assert_eq!(plain.headers()["cache-control"], "no-cache");
    assert_eq!(plain.headers()["vary"], "accept-encoding");
    let etag = plain.headers()["etag"].to_str().unwrap().to_owned();
    assert!(
        etag.len() > 10 && etag.starts_with('"') && etag.ends_with('"'),
        "{etag}"
    );
    let page = plain.bytes().await.unwrap();

    for held in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"other\", {etag}"),
        "*".into(),
    ] {
        let again = get(&[("if-none-match", &held)]).await.unwrap();
        assert_eq!(again.status(), 304, "{held}");
        assert_eq!(again.headers()["etag"], etag.as_str());
        assert!(again.bytes().await.unwrap().is_empty());
    }
    let stale = get(&[("if-none-match", "\"other\"")]).await.unwrap();
    assert_eq!(stale.status(), 200);

    let zipped = get(&[("accept-encoding", "gzip, deflate, br, zstd")])
        .await
        .unwrap();
    assert_eq!(zipped.status(), 200);
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    // Another body, so another tag.
    assert_ne!(zipped.headers()["etag"], etag.as_str());
    assert_eq!(zipped.headers()["content-type"], "text/html; charset=utf-8");
    let body = zipped.bytes().await.unwrap();
    assert!(body.len() < page.len());
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, page);
    for refused in ["identity", "br", "gzip;q=0"] {
        let sent = get(&[("accept-encoding", refused)]).await.unwrap();
        assert_eq!(sent.headers().get("content-encoding"), None, "{refused}");
        assert_eq!(sent.bytes().await.unwrap(), page);
    }
    server.stop().await;
}

/// `GET /app/` and every file it loads (`/app/{file}`) come with the
/// headers of a safe page and their own content type; an unknown file is
/// the API's 404. A browser's `GET /` is sent to the page (303), every
/// other client's is unchanged.
#[tokio::test]
async fn the_web_page_is_served_safely_and_browsers_are_sent_to_it() {
    let server = TestServer::start().await;
    let page = server.client.get(server.url("/app/")).send().await.unwrap();
    let html = check_safe(page, "text/html; charset=utf-8").await;
    // Every file the page names is under /app/: nothing from elsewhere.
    let mut files: Vec<&str> = html
        .split(['"', '\''])
        .filter(|part| part.starts_with("/app/") && part.len() > 5)
        .collect();
    files.sort_unstable();
    files.dedup();
    assert!(files.len() >= 4, "{files:?}");
    assert!(
        !html.contains("http:") && !html.contains("https:") && !html.contains("//"),
        "{html}"
    );
    for file in files {
        let kind = match file.rsplit('.').next() {
            Some("js") => "text/javascript; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            Some("svg") => "image/svg+xml",
            Some("png") => "image/png",
            Some("webmanifest") => "application/manifest+json",
            other => panic!("unexpected file type {other:?}"),
        };
        let sent = server.client.get(server.url(file)).send().await.unwrap();
        check_safe(sent, kind).await;
    }
    let js = server
        .client
        .get(server.url("/app/main.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for module in js
        .split("from './")
        .skip(1)
        .filter_map(|rest| rest.split('\'').next())
    {
        let sent = server
            .client
            .get(server.url(&format!("/app/{module}")))
            .send()
            .await
            .unwrap();
        check_safe(sent, "text/javascript; charset=utf-8").await;
    }
    // A file the browser holds is 304, like the page.
    let css = server
        .client
        .get(server.url("/app/style.css"))
        .send()
        .await
        .unwrap();
    let etag = css.headers()["etag"].clone();
    let again = server
        .client
        .get(server.url("/app/style.css"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());
    for unknown in ["/app/nope.js", "/app/..%2Fsrc%2Fmain.rs", "/app/main.js/x"] {
        let reply = server.call(Method::GET, unknown, None, None).await;
        reply.assert_error(404, "NOT_FOUND");
    }
    let reply = server.call(Method::POST, "/app/main.js", None, None).await;
    reply.assert_error(405, "METHOD_NOT_ALLOWED");
    assert_eq!(reply.header("allow"), Some("GET, HEAD"));

    let no_redirects = crate::helpers::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let sent = no_redirects
        .get(server.url("/"))
        .header("accept", browser)
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 303);
    assert_eq!(sent.headers()["location"], "/app/");
    for accept in [None, Some("*/*"), Some("application/json")] {
        let mut request = no_redirects.get(server.url("/"));
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let reply = crate::helpers::Reply::from(request.send().await.unwrap()).await;
        assert_eq!(reply.assert_json(200)["name"], "azuma", "{accept:?}");
    }
    server.stop().await;
}

/// Asserts a 200 of `content_type` with the safety headers; its text.
async fn check_safe(sent: reqwest::Response, content_type: &str) -> String {
    let url = sent.url().to_string();
    assert_eq!(sent.status(), 200, "{url}");
    let header = |name: &str| sent.headers()[name].to_str().unwrap().to_owned();
    assert_eq!(header("content-type"), content_type, "{url}");
    let csp = header("content-security-policy");
    assert_eq!(
        csp,
        "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("referrer-policy"), "no-referrer");
    assert!(header("etag").starts_with('"'), "{url}");
    sent.text().await.unwrap()
}
