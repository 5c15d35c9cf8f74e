//! A route declared once: the `#[utoipa::path]` on its handler names its
//! method and path, and [`Routes`] turns that into the warp filter. Every
//! path of the API is known here (from the OpenAPI document), so a fixed
//! name wins over an id in the same place without a hand-kept list of
//! them, and a 405's `Allow` is the methods of the path that matched.
//!
//! Paths are matched as warp's `path!` did: raw segments, no empty one, and
//! at most one trailing slash.

use std::future::ready;
use std::sync::{Arc, LazyLock, OnceLock};

use uuid::Uuid;
use warp::filters::path::FullPath;
use warp::http::Method;
use warp::{Filter, Rejection};

use crate::http::filters::parse_id;

/// Every path template of the API, with its methods.
#[derive(Clone)]
pub struct Routes {
    /// Read from the document on first need (a route with a parameter, or
    /// a 405), not at start: building the document takes milliseconds and
    /// megabytes that `GET /` never needs.
    paths: Arc<LazyLock<Paths, Box<dyn FnOnce() -> Paths + Send>>>,
}

/// Every path template, with its methods.
type Paths = Vec<(Template, Vec<&'static str>)>;

/// A path template's segments: `Some` a fixed name, `None` a parameter.
type Template = Vec<Option<String>>;

impl Routes {
    /// The routes of the document `document` builds.
    pub fn new(document: fn() -> utoipa::openapi::OpenApi) -> Routes {
        Routes {
            paths: Arc::new(LazyLock::new(Box::new(move || read(&document())))),
        }
    }

    /// The route `P` declares, for a path without parameters.
    pub fn route<P: utoipa::Path>(
        &self,
    ) -> impl Filter<Extract = (), Error = Rejection> + Clone + use<P> {
        self.path::<P>().map(drop).untuple_one().and(method::<P>())
    }

    /// The route `P` declares, for a path with one id (`{id}`): a malformed
    /// id is a 400 naming `what`, before the method is looked at.
    pub fn route_with_id<P: utoipa::Path>(
        &self,
        what: &'static str,
    ) -> impl Filter<Extract = (Uuid,), Error = Rejection> + Clone + use<P> {
        self.path::<P>()
            .and_then(move |params: Vec<String>| {
                let id = params.first().map_or("", String::as_str);
                ready(parse_id(id, what).map_err(Rejection::from))
            })
            .and(method::<P>())
    }

    /// The route `P` declares, for a path with two ids (`{id}`, then
    /// another): a malformed one is a 400 naming `what`, before the method
    /// is looked at.
    pub fn route_with_ids<P: utoipa::Path>(
        &self,
        what: [&'static str; 2],
    ) -> impl Filter<Extract = (Uuid, Uuid), Error = Rejection> + Clone + use<P> {
        self.path::<P>()
            .and_then(move |params: Vec<String>| async move {
                let at = |i: usize| params.get(i).map_or("", String::as_str);
                let first = parse_id(at(0), what[0])?;
                let second = parse_id(at(1), what[1])?;
                Ok::<_, Rejection>((first, second))
            })
            .untuple_one()
            .and(method::<P>())
    }

    /// `P`'s path: its parameters, raw, when the request's path matches it
    /// and none of them is a fixed name of another path in that place
    /// (`/user/status` is no user id: `/user/status/set` is a path).
    pub fn path<P: utoipa::Path>(
        &self,
    ) -> impl Filter<Extract = (Vec<String>,), Error = Rejection> + Clone + use<P> {
        // One `Arc`: an `or` clones the filters after it for every request.
        let path = Arc::new(Path {
            own: template(&P::path()),
            names: OnceLock::new(),
            paths: self.paths.clone(),
        });
        warp::path::full().and_then(move |full: FullPath| {
            ready(
                path.params(full.as_str())
                    .ok_or_else(warp::reject::not_found),
            )
        })
    }

    /// The methods of the path that `path` matches (a fixed segment winning
    /// over a parameter), for the `Allow` header of a 405.
    pub fn allowed(&self, path: &str) -> Option<String> {
        let segments = segments(path)?;
        self.paths
            .iter()
            .filter(|(t, _)| matches(t, &segments).is_some())
            .max_by_key(|(t, _)| t.iter().filter(|s| s.is_some()).count())
            .map(|(_, methods)| methods.join(", "))
    }
}

/// A route's path template, matched against requests.
struct Path {
    own: Template,
    /// For each of `own`'s segments, the fixed names other paths have
    /// there after the same segments; read once, when first needed.
    names: OnceLock<Vec<Vec<String>>>,
    paths: Arc<LazyLock<Paths, Box<dyn FnOnce() -> Paths + Send>>>,
}

impl Path {
    /// The parameters of request path `path`, if it is this one's.
    fn params(&self, path: &str) -> Option<Vec<String>> {
        params(&self.own, path).filter(|params| {
            if params.is_empty() {
                return true;
            }
            let names = self
                .names
                .get_or_init(|| fixed_names(&self.paths, &self.own));
            // No parameter may be a fixed name of another path there.
            let mut given = params.iter();
            !self.own.iter().zip(names.iter()).any(|(segment, names)| {
                segment.is_none() && given.next().is_some_and(|g| names.contains(g))
            })
        })
    }
}

/// For each segment of `own`, the fixed names that other paths of `paths`
/// have in that place after the same segments.
fn fixed_names(paths: &Paths, own: &Template) -> Vec<Vec<String>> {
    (0..own.len())
        .map(|at| {
            paths
                .iter()
                .filter_map(|(t, _)| {
                    let same_start = t.len() > at
                        && t[..at]
                            .iter()
                            .zip(&own[..at])
                            .all(|(a, b)| a.is_none() || b.is_none() || a == b);
                    same_start.then(|| t[at].clone()).flatten()
                })
                .collect()
        })
        .collect()
}

/// The path templates of `doc`, with their methods.
fn read(doc: &utoipa::openapi::OpenApi) -> Paths {
    doc.paths
        .paths
        .iter()
        .map(|(path, item)| {
            let mut methods = Vec::new();
            for (name, operation) in [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PATCH", &item.patch),
                ("DELETE", &item.delete),
                ("PUT", &item.put),
            ] {
                if operation.is_some() {
                    methods.push(name);
                    if name == "GET" {
                        methods.push("HEAD");
                    }
                }
            }
            (template(path), methods)
        })
        .collect()
}

/// The method filter of `P`'s operation: `GET` takes `HEAD` too; any
/// other method is a 405. (One test of the method, then, only for a
/// method `P` does not take, a filter that is always 405: `GET` and
/// `POST` at once. A chain of a filter per method cost every request a
/// future per link.)
fn method<P: utoipa::Path>() -> impl Filter<Extract = (), Error = Rejection> + Clone {
    use utoipa::openapi::path::HttpMethod;
    let methods = P::methods();
    let takes = |method| methods.contains(&method);
    let (get, post) = (takes(HttpMethod::Get), takes(HttpMethod::Post));
    let (patch, delete) = (takes(HttpMethod::Patch), takes(HttpMethod::Delete));
    let put = takes(HttpMethod::Put);
    let taken = warp::method().and_then(move |method: Method| {
        let taken = if method == Method::GET || method == Method::HEAD {
            get
        } else if method == Method::POST {
            post
        } else if method == Method::PATCH {
            patch
        } else if method == Method::PUT {
            put
        } else {
            method == Method::DELETE && delete
        };
        ready(if taken {
            Ok(())
        } else {
            Err(warp::reject::not_found())
        })
    });
    let never = warp::get().and(warp::post());
    taken.untuple_one().or(never).unify()
}

/// A template's segments (`{name}` is a parameter); a trailing slash is
/// no segment.
fn template(path: &str) -> Template {
    segments(path)
        .unwrap_or_default()
        .into_iter()
        .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_owned()))
        .collect()
}

/// A request path's segments: none for `/`; `None` when one is empty
/// (`//`), a single trailing slash aside.
fn segments(path: &str) -> Option<Vec<&str>> {
    let rest = path.strip_prefix('/')?;
    if rest.is_empty() {
        return Some(Vec::new());
    }
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let segments: Vec<&str> = rest.split('/').collect();
    (!segments.iter().any(|s| s.is_empty())).then_some(segments)
}

/// The parameters of request path `path` if it matches `template` (no
/// allocation unless it has parameters).
fn params(template: &Template, path: &str) -> Option<Vec<String>> {
    if template.is_empty() {
        return (path == "/").then(Vec::new);
    }
    let rest = path.strip_prefix('/')?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let mut given = rest.split('/');
    let mut params = Vec::new();
    for t in template {
        let segment = given.next().filter(|s| !s.is_empty())?;
        match t {
            Some(fixed) if fixed != segment => return None,
            Some(_) => {}
            None => params.push(segment.to_owned()),
        }
    }
    given.next().is_none().then_some(params)
}

/// The parameters of `segments` if they match `template`.
fn matches(template: &Template, segments: &[&str]) -> Option<Vec<String>> {
    if template.len() != segments.len() {
        return None;
    }
    let mut params = Vec::new();
    for (t, s) in template.iter().zip(segments) {
        match t {
            Some(fixed) if fixed != s => return None,
            Some(_) => {}
            None => params.push((*s).to_owned()),
        }
    }
    Some(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_paths_as_warp_did() {
        assert_eq!(segments("/"), Some(vec![]));
        assert_eq!(segments("//"), None);
        assert_eq!(segments("/health/"), Some(vec!["health"]));
        assert_eq!(segments("/health//"), None);
        assert_eq!(segments("/channel//messages"), None);
        assert_eq!(segments("/app/"), Some(vec!["app"]));
        assert_eq!(
            template("/message/{id}"),
            vec![Some("message".into()), None]
        );
    }

    #[test]
    fn matches_paths_as_warp_did() {
        let id = template("/message/{id}");
        assert_eq!(params(&id, "/message/abc"), Some(vec!["abc".to_owned()]));
        assert_eq!(params(&id, "/message/abc/"), Some(vec!["abc".to_owned()]));
        for no in [
            "/message",
            "/message/",
            "/message//",
            "/message/abc//",
            "/message/a/b",
            "//",
        ] {
            assert_eq!(params(&id, no), None, "{no}");
        }
        let root = template("/");
        assert_eq!(params(&root, "/"), Some(vec![]));
        assert_eq!(params(&root, "//"), None);
        assert_eq!(params(&template("/app/"), "/app"), Some(vec![]));
    }

    #[test]
    fn a_fixed_segment_wins_over_a_parameter() {
        fn doc() -> utoipa::openapi::OpenApi {
            let mut paths = utoipa::openapi::Paths::new();
            for (path, method) in [
                ("/message/send", utoipa::openapi::HttpMethod::Post),
                ("/message/{id}", utoipa::openapi::HttpMethod::Get),
                ("/message/{id}", utoipa::openapi::HttpMethod::Delete),
            ] {
                paths.add_path_operation(
                    path,
                    vec![method],
                    utoipa::openapi::path::Operation::new(),
                );
            }
            let mut doc = utoipa::openapi::OpenApi::default();
            doc.paths = paths;
            doc
        }
        let routes = Routes::new(doc);
        assert_eq!(routes.allowed("/message/send").as_deref(), Some("POST"));
        assert_eq!(
            routes.allowed("/message/abc").as_deref(),
            Some("GET, HEAD, DELETE")
        );
        assert_eq!(routes.allowed("/message/abc/x"), None);
    }
}
