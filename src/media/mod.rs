//! What is done to uploaded files, apart from storing them: a JPEG's
//! metadata taken out as it streams, thumbnails, and signed links. Pure
//! logic: it knows neither SQL nor HTTP.

pub mod jpeg;
pub mod links;
pub mod thumbnail;
