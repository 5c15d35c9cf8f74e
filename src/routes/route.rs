//! A route declared once: the `#[utoipa::path]` on its handler names its
//! method and path, and [`Routes`] turns that into the warp filter. Every
//! path of the API is known here (from the OpenAPI document), so a fixed
//! name wins over an id in the same place without a hand-kept list of
//! them, and a 405's `Allow` is the methods of the path that matched.
//!
//! Paths are matched as warp's `path!` did: raw segments, no empty one, and
//! at most one trailing slash.

use std::sync::Arc;

use uuid::Uuid;
use warp::filters::BoxedFilter;
use warp::filters::path::FullPath;
use warp::{Filter, Rejection};

use crate::http::filters::{self, parse_id};

/// Every path template of the API, with its methods.
#[derive(Clone)]
pub struct Routes {
    paths: Arc<Vec<(Template, Vec<&'static str>)>>,
}

/// A path template's segments: `Some` a fixed name, `None` a parameter.
type Template = Vec<Option<String>>;

impl Routes {
    /// The routes of `doc`.
    pub fn new(doc: &utoipa::openapi::OpenApi) -> Routes {
        let paths = doc
            .paths
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
            .collect();
        Routes {
            paths: Arc::new(paths),
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
            .and_then(move |params: Vec<String>| async move {
                let id = params.first().map_or("", String::as_str);
                parse_id(id, what).map_err(Rejection::from)
            })
            .and(method::<P>())
    }

    /// `P`'s path: its parameters, raw, when the request's path matches it
    /// and none of them is a fixed name of another path in that place
    /// (`/user/status` is no user id: `/user/status/set` is a path).
    pub fn path<P: utoipa::Path>(
        &self,
    ) -> impl Filter<Extract = (Vec<String>,), Error = Rejection> + Clone + use<P> {
        let own = template(&P::path());
        // For each of `own`'s segments, the fixed names other paths have
        // there after the same segments.
        let names: Vec<Vec<String>> = (0..own.len())
            .map(|at| {
                self.paths
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
            .collect();
        let (own, names) = (Arc::new(own), Arc::new(names));
        warp::path::full().and_then(move |path: FullPath| {
            let found = params(&own, path.as_str()).filter(|params| {
                // No parameter may be a fixed name of another path there.
                let mut given = params.iter();
                !own.iter().zip(names.iter()).any(|(segment, names)| {
                    segment.is_none() && given.next().is_some_and(|g| names.contains(g))
                })
            });
            async move { found.ok_or_else(warp::reject::not_found) }
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

/// The method filter of `P`'s operation: `GET` takes `HEAD` too.
fn method<P: utoipa::Path>() -> BoxedFilter<()> {
    use utoipa::openapi::path::HttpMethod;
    let filter = |method: &HttpMethod| -> BoxedFilter<()> {
        match method {
            HttpMethod::Get => filters::get().boxed(),
            HttpMethod::Post => warp::post().boxed(),
            HttpMethod::Patch => warp::patch().boxed(),
            HttpMethod::Delete => warp::delete().boxed(),
            HttpMethod::Put => warp::put().boxed(),
            HttpMethod::Head => warp::head().boxed(),
            HttpMethod::Options => warp::options().boxed(),
            HttpMethod::Trace => warp::method()
                .and_then(|_| async { Err::<(), _>(warp::reject::not_found()) })
                .untuple_one()
                .boxed(),
        }
    };
    let methods = P::methods();
    let mut all = methods.iter().map(filter);
    let first = all.next().unwrap_or_else(|| filter(&HttpMethod::Trace));
    all.fold(first, |any, next| any.or(next).unify().boxed())
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

/// The parameters of request path `path` if it matches `template`: a
/// first pass that allocates nothing turns most paths away (most routes
/// do not match most requests).
fn params(template: &Template, path: &str) -> Option<Vec<String>> {
    if template.is_empty() {
        return (path == "/").then(Vec::new);
    }
    let rest = path.strip_prefix('/')?;
    let mut given = rest.split('/');
    for t in template {
        match (t, given.next()) {
            (_, None) => return None,
            (Some(fixed), Some(s)) if fixed != s => return None,
            _ => {}
        }
    }
    // Nothing more, but perhaps one trailing slash.
    match (given.next(), given.next()) {
        (None, _) | (Some(""), None) => matches(template, &segments(path)?),
        _ => None,
    }
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
    fn a_fixed_segment_wins_over_a_parameter() {
        let mut paths = utoipa::openapi::Paths::new();
        for (path, method) in [
            ("/message/send", utoipa::openapi::HttpMethod::Post),
            ("/message/{id}", utoipa::openapi::HttpMethod::Get),
            ("/message/{id}", utoipa::openapi::HttpMethod::Delete),
        ] {
            paths.add_path_operation(path, vec![method], utoipa::openapi::path::Operation::new());
        }
        let mut doc = utoipa::openapi::OpenApi::default();
        doc.paths = paths;
        let routes = Routes::new(&doc);
        assert_eq!(routes.allowed("/message/send").as_deref(), Some("POST"));
        assert_eq!(
            routes.allowed("/message/abc").as_deref(),
            Some("GET, HEAD, DELETE")
        );
        assert_eq!(routes.allowed("/message/abc/x"), None);
    }
}
