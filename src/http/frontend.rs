//! The web front end, built by build.rs into `frontend/dist` and embedded in the binary.
//! Any path outside `/api` that is not a file gets `index.html` (client-side routing).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::RustEmbed;

use super::error::ApiError;

#[derive(RustEmbed)]
#[folder = "frontend/dist/"]
struct Assets;

/// Registers the catch-all that serves the front end.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.default_service(web::to(serve));
}

async fn serve(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let path = req.path();
    if path == "/api" || path.starts_with("/api/") {
        return Err(ApiError::NotFound(format!("no route for {path}")));
    }
    if req.method() != actix_web::http::Method::GET && req.method() != actix_web::http::Method::HEAD {
        return Err(ApiError::NotFound(format!("no route for {} {path}", req.method())));
    }
    let wanted = path.trim_start_matches('/');
    if let Some(file) = (!wanted.is_empty()).then(|| Assets::get(wanted)).flatten() {
        let mime = mime_guess::from_path(wanted).first_or_octet_stream();
        // Vite puts content hashes in asset names, so they may be cached for good.
        let cache = if wanted.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
        return Ok(HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, mime.as_ref()))
            .insert_header((header::CACHE_CONTROL, cache))
            .body(file.data.into_owned()));
    }
    // A missing file with an extension is a real 404, not a page of the app.
    if wanted.rsplit('/').next().is_some_and(|last| last.contains('.')) {
        return Err(ApiError::NotFound(format!("no file {path}")));
    }
    let index = Assets::get("index.html").ok_or_else(|| ApiError::NotFound("the front end was not built".into()))?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(index.data.into_owned()))
}
